"""Evidence for a proposal from declaration data: how many lines, items, kilograms and how much value each
proposed subheading would have received.

Quantities, units and values are read as the customs reader reads them (:mod:`hsmap.customs`: the same
header names, ``parse_amounts`` for ``1.250.000,50`` or ``1 150 000``, ``parse_units`` for ``u``, ``p/st``,
``KGM``, ``1000u`` …), so a file gives the same numbers here as in a reconciliation. Lines declared in
kilograms count as kilograms, never as items.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hsmap.codes import normalize_codes
from hsmap.columns import detect_columns, find_column
from hsmap.customs import (
    CURRENCY_NAMES,
    QUANTITY_NAMES,
    UNIT_NAMES,
    VALUE_NAMES,
    WEIGHT_NAMES,
    cell_text,
    first_column,
    parse_amounts,
    parse_units,
)
from hsmap.errors import InputError
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.proposals.criteria import covers, related
from hsmap.proposals.model import NewLine, Proposal

EVIDENCE_COLUMNS = ["amendment", "current", "proposed", "text", "isolates", "lines", "items", "kg", "value"]
AMBIGUOUS = "(ambiguous)"
HINT_MIN = 0.1  # a candidate score below this is a rare-under-this-code prior, not a doubt about the line


@dataclass(frozen=True)
class Evidence:
    """Declaration lines counted per proposed subheading, with what could not be placed or read."""

    table: pd.DataFrame  # EVIDENCE_COLUMNS: per new subheading, plus one '(ambiguous)' row per amendment
    lines: int  # lines read
    in_scope: int  # lines under a code the proposal replaces
    ambiguous: int
    classified: bool  # True when hsmap classified the lines here (no att_category column was given)
    currency: str  # the one currency of the value column, "mixed", or ""
    source: str = ""
    quantity_column: str | None = None  # the columns items, kilograms and value were read from (None: not found)
    value_column: str | None = None
    weight_column: str | None = None
    unreadable: int = 0  # lines whose quantity, weight or value cell is not a number (counted without it)


def _candidates(text: str) -> list[str]:
    """Candidate categories of a classified line (``IV.a:0.15;ART4:0.05``) worth a doubt (score ≥ HINT_MIN)."""
    found = []
    for part in str(text).split(";"):
        category, _, score = part.partition(":")
        try:
            strong = float(score) >= HINT_MIN if score else True
        except ValueError:
            strong = True
        if category.strip() and strong:
            found.append(category.strip())
    return found


def place_line(targets: list[NewLine], category: str, candidates: list[str], kb: Knowledge) -> tuple[str, str]:
    """The proposed code a classified line would take, and how it was decided (``category``,
    ``related``, ``other``) — or ``("", "ambiguous")`` when the line cannot say which subheading."""
    known = category in kb.categories
    if category:
        exact = [t for t in targets if known and any(covers(c, category, kb) for c in t.isolates)]
        if len(exact) == 1:
            return exact[0].code or "", "category"
        related_lines = [t for t in targets if known and any(related(c, category, kb) for c in [*t.isolates, *t.holds])]
        if len(exact) > 1 or len(related_lines) > 1:
            return "", "ambiguous"
        if related_lines:
            return related_lines[0].code or "", "related"
    else:
        isolating = [c for t in targets for c in t.isolates]
        hinted = [c for c in candidates if c in kb.categories and any(related(c, i, kb) for i in isolating)]
        if hinted:
            return "", "ambiguous"
    others = [t for t in targets if not t.isolates]
    return (others[0].code or "", "other") if len(others) == 1 else ("", "ambiguous")


def _classified(
    frame: pd.DataFrame, kb: Knowledge, edition: int, code_column: str | None, text_column: str | None, source: str
) -> tuple[pd.DataFrame, bool]:
    """The frame with ``hs6`` and ``att_category``: as given, or classified here when they are missing."""
    if "att_category" in frame.columns:
        if "hs6" not in frame.columns:
            code, _ = detect_columns(list(frame.columns), source, code_column, text_column)
            if code is None:
                raise InputError(source, 1, code_column, "an hs6 or code column is needed with att_category")
            frame = frame.assign(hs6=normalize_codes(frame[code])["hs6"])
        return frame, False
    from hsmap.classify.decide import classify

    code, text = detect_columns(list(frame.columns), source, code_column, text_column)
    return classify(frame, code, text, edition=edition, kb=kb), True


def _column(names: list[str], given: str | None, known: tuple[str, ...], what: str, source: str) -> str | None:
    """The column the user named (it must exist), else the first one named as customs files name it."""
    return find_column(names, given, (), what, source) if given is not None else first_column(names, known)


@dataclass(frozen=True)
class _Amounts:
    items: pd.Series  # NaN where the line gives no number of items
    kg: pd.Series  # NaN where it gives no kilograms
    value: pd.Series
    unreadable: pd.Series


def _amounts(
    frame: pd.DataFrame, quantity: str | None, unit: str | None, weight: str | None, value: str | None
) -> _Amounts:
    """Items, kilograms and value per line. Without a unit column a quantity is a number of items."""
    nothing = pd.Series(float("nan"), index=frame.index)
    unreadable = pd.Series(False, index=frame.index)
    items, kg = nothing, nothing
    if quantity is not None:
        amount, bad = parse_amounts(frame[quantity])
        unreadable |= bad
        if unit is None:
            items = amount
        else:
            kind, factor = parse_units(frame[unit])
            items = (amount * factor).where(kind == "items")
            kg = (amount * factor).where(kind == "kg")
    if weight is not None:
        declared, bad = parse_amounts(frame[weight])
        unreadable |= bad
        kg = kg.fillna(declared)
    values = nothing
    if value is not None:
        values, bad = parse_amounts(frame[value])
        unreadable |= bad
    return _Amounts(items, kg, values, unreadable)


def _targets(proposal: Proposal) -> dict[str, tuple[int, list[NewLine]]]:
    """Current code → (amendment number, the new subheadings its goods may go to)."""
    targets: dict[str, tuple[int, list[NewLine]]] = {}
    for number, amendment in enumerate(proposal.amendments, start=1):
        by_code = {line.code: line for line in amendment.subheadings}
        for current in amendment.current_codes:
            wanted = [t for link in amendment.correlation if link.from_code == current for t in link.to]
            targets[current] = (number, [by_code[t] for t in dict.fromkeys(wanted) if t in by_code])
    return targets


def compute_evidence(
    frame: pd.DataFrame,
    proposal: Proposal,
    kb: Knowledge | None = None,
    *,
    code_column: str | None = None,
    text_column: str | None = None,
    quantity_column: str | None = None,
    value_column: str | None = None,
    source: str = "declarations",
) -> Evidence:
    """How many lines, items, kilograms and how much value each proposed subheading would receive.

    A frame with ``att_category`` (and ``hs6`` or a code column) is used as classified; otherwise hsmap
    classifies it first. Items are the quantities declared in units (all quantities when there is no unit
    column); kilograms are quantities declared in kg, t or g, else the net weight column; value is the sum of
    the value column. A row sums to nothing (blank) where none of its lines gave that measure.
    """
    kb = kb or load_knowledge()
    edition = proposal.base_edition if proposal.base_edition in kb.hs else max(kb.editions)
    frame, classified = _classified(frame, kb, edition, code_column, text_column, source)
    names = [str(name) for name in frame.columns]
    quantity = _column(names, quantity_column, QUANTITY_NAMES, "quantity", source)
    value = _column(names, value_column, VALUE_NAMES, "value", source)
    unit = first_column(names, UNIT_NAMES)
    weight = first_column(names, WEIGHT_NAMES)
    currency_column = first_column(names, CURRENCY_NAMES)

    targets = _targets(proposal)
    hs6 = cell_text(frame["hs6"])
    category = cell_text(frame["att_category"]).replace({"nan": "", "<NA>": ""})
    candidates = cell_text(frame["candidates"]) if "candidates" in frame else pd.Series("", index=frame.index)
    keys = pd.MultiIndex.from_arrays([hs6.to_numpy(), category.to_numpy(), candidates.to_numpy()])
    key_ids, unique = pd.factorize(keys)
    placed = []
    for code, cat, cand in unique:
        if code not in targets:
            placed.append((0, "", "outside"))
        else:
            number, reached = targets[code]
            placed.append((number, *place_line(reached, cat, _candidates(cand), kb)))
    per_key = pd.DataFrame(placed, columns=["amendment", "proposed", "how"])
    amounts = _amounts(frame, quantity, unit, weight, value)
    per_line = (
        per_key.iloc[key_ids].set_axis(frame.index).assign(items=amounts.items, kg=amounts.kg, value=amounts.value)
    )

    def totals(lines: pd.DataFrame) -> tuple[int, float, float, float]:
        sums = lines[["items", "kg", "value"]].sum(min_count=1)
        return len(lines), sums["items"], sums["kg"], sums["value"]

    rows = []
    for number, amendment in enumerate(proposal.amendments, start=1):
        mine = per_line[per_line["amendment"] == number]
        current = ", ".join(amendment.current_codes)
        for line in amendment.subheadings:
            hit = mine[(mine["proposed"] == line.code) & (mine["how"] != "ambiguous")]
            rows.append((number, current, line.code, line.text, " ".join(line.isolates), *totals(hit)))
        unsure = mine[mine["how"] == "ambiguous"]
        rows.append((number, current, AMBIGUOUS, "lines that cannot tell which new subheading", "", *totals(unsure)))
    table = pd.DataFrame(rows, columns=EVIDENCE_COLUMNS).astype({"lines": "int64"})
    currencies: set[str] = set()
    if currency_column:
        currencies = set(cell_text(frame[currency_column]).str.upper()) - {""}
    return Evidence(
        table=table,
        lines=len(frame),
        in_scope=int((per_line["amendment"] > 0).sum()),
        ambiguous=int((per_line["how"] == "ambiguous").sum()),
        classified=classified,
        currency=currencies.pop() if len(currencies) == 1 else ("mixed" if currencies else ""),
        source=source,
        quantity_column=quantity,
        value_column=value,
        weight_column=weight,
        unreadable=int(amounts.unreadable.sum()),
    )
