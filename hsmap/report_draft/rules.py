"""What the draft counts, and what it leaves to the reporting officer: one decision per declaration line.

A line is counted in the report's table when the classifier named an Art. 2(1) category, the partner is a
State, the line is of the report's year and flow, and nothing about it needs a decision. A line that does
need one is listed for review with every kind of question it raises (:data:`REVIEW_KINDS`); the kinds the
officer names with ``--include`` are counted anyway, the others never. Ammunition (Art. 3) and parts and
components (Art. 4) are not rows of the template's tables: they are given apart, as voluntary information.

Which row a category goes to comes from the knowledge base, not from a list in code: the template's rows are
the categories without sub-categories, and a sub-category whose entry has ``confidence: low`` (a row the
template is not known to have: today the manned/unmanned splits of IV and V) is an optional row, drafted at
its parent unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hsmap.classify.decide import shared_classifier
from hsmap.knowledge import Knowledge
from hsmap.review_list import FOR_REVIEW

COUNTED, VOLUNTARY = "counted", "voluntary"


@dataclass(frozen=True)
class ReviewKind:
    """A question a line can raise: whether ``--include`` may count it, and what the officer decides."""

    includable: bool
    question: str


REVIEW_KINDS: dict[str, ReviewKind] = {
    "shared-civil": ReviewKind(
        True, "Civil goods share the code and the description does not settle it: is this an arm?"
    ),
    "code-text-mismatch": ReviewKind(True, "The code and the description disagree: which one is right?"),
    "low-confidence": ReviewKind(True, "The classifier is unsure of the category: is it right?"),
    "no-subcategory": ReviewKind(True, "The declarations do not say which sub-category: which row of the template?"),
    "no-items": ReviewKind(True, "No number of items (kilograms, another unit or no quantity): how many items?"),
    "re-export": ReviewKind(True, "A re-export of goods from another State: report it, with the State of origin?"),
    "unknown-partner": ReviewKind(False, "The partner is not a State hsmap can identify: which State is it?"),
    "no-category": ReviewKind(False, "No known ATT category: classify the line (an att_category column)."),
    "unreadable": ReviewKind(False, "A quantity, value, year or flow cannot be read, or is negative: correct it."),
}
INCLUDABLE: tuple[str, ...] = tuple(name for name, kind in REVIEW_KINDS.items() if kind.includable)


def row_categories(kb: Knowledge, optional_rows: bool = False) -> dict[str, str]:
    """Each category → the category of the row it is drafted in: itself, or, for an optional sub-category
    (``confidence: low``), its parent unless ``optional_rows``."""
    rows: dict[str, str] = {}
    for cid in kb.categories:
        chain = kb.ancestors(cid)  # the category first, the top level last
        kept = chain if optional_rows else [c for c in chain if kb.categories[c].confidence != "low"]
        rows[cid] = kept[0] if kept else chain[-1]
    return rows


def template_rows(kb: Knowledge, rows: dict[str, str]) -> set[str]:
    """The categories that are rows of the template: none of their sub-categories is drafted apart."""
    parents = {kb.categories[cid].parent for cid in set(rows.values())}
    return {cid for cid in set(rows.values()) if cid not in parents}


def in_tables(kb: Knowledge) -> dict[str, bool]:
    """Whether a category's top level is an Art. 2(1) category (a table row) rather than Art. 3 or 4."""
    return {cid: kb.categories[kb.top_level(cid)].article.startswith("2(1)") for cid in kb.categories}


def suggested_categories(hs6: pd.Series, kb: Knowledge, edition: int) -> pd.Series:
    """For a line the classifier left without a category: the categories its code can hold (``att_hs.csv``),
    as a hint to the officer (``IV.a``; ``IV.a|V.a`` when several)."""
    classifier = shared_classifier(kb, edition)
    hints = {
        code: "|".join(dict.fromkeys(link.category for link in classifier.code_links(code)[0])) if code else ""
        for code in hs6.unique()
    }
    return hs6.map(hints).fillna("").astype("str")


def _amount(values: pd.Series) -> pd.Series:
    return values.map(lambda number: f"{number:,.0f}" if float(number).is_integer() else f"{number:,.2f}").astype("str")


def review_kinds(
    lines: pd.DataFrame,
    kb: Knowledge,
    *,
    flow: str,
    min_confidence: float,
    rows: dict[str, str],
    table_line: pd.Series,
) -> dict[str, tuple[pd.Series, pd.Series]]:
    """A mask and a reason per review kind (in the order of :data:`REVIEW_KINDS`) for the draft's lines.

    ``lines`` carries the canonical customs columns plus ``suggested`` (:func:`suggested_categories`);
    ``table_line`` says which lines are of an Art. 2(1) category.
    """
    flags = lines["flags"].astype("str")
    category = lines["category"].astype("str")
    leaf = category.map(rows).isin(template_rows(kb, rows))
    hs6 = lines["hs6"].where(lines["hs6"] != "", "(none)")
    unit = lines["unit"].astype("str")
    items = lines["items"]
    whole = items.notna() & (items % 1 == 0)
    quantity = np.select(
        [unit.eq("kg") | (unit.eq("none") & lines["kg"].notna()), unit.eq("none") | items.isna(), unit.eq("items")],
        [
            _amount(lines["kg"].fillna(0)) + " kg and no number of items",
            "no quantity",
            "quantity " + items.astype("str") + " is not a whole number",
        ],
        default="quantity in " + unit.str.removeprefix("other:"),
    )
    negative = (lines["items"] < 0) | (lines["value"] < 0)
    re_flow = f"re-{flow}"
    return {
        "shared-civil": (
            flags.str.contains("shared-civil", regex=False),
            "code " + hs6 + " is shared with civil goods and the description does not settle it",
        ),
        "code-text-mismatch": (
            flags.str.contains("code-text-mismatch", regex=False),
            "code " + hs6 + " and the description point to different goods",
        ),
        "low-confidence": (
            category.ne("") & lines["confidence"].lt(min_confidence),
            "the classifier is " + (lines["confidence"] * 100).round().astype("Int64").astype("str") + " % sure",
        ),
        "no-subcategory": (
            category.ne("") & table_line & ~leaf,
            "no sub-category of " + category.map(rows).fillna(category) + " is named",
        ),
        "no-items": (category.ne("") & table_line & ~whole, pd.Series(quantity, index=lines.index)),
        "re-export": (
            lines["flow"].eq(re_flow),
            pd.Series(f"declared as a {re_flow}: the goods came from another State", index=lines.index),
        ),
        "unknown-partner": (
            lines["partner_status"].ne("ok"),
            "partner '" + lines["partner"] + "' is not a State (" + lines["partner_note"].replace("", "blank") + ")",
        ),
        "no-category": (
            ~category.isin(kb.categories),
            ("no ATT category; code " + hs6 + " can hold " + lines["suggested"].replace("", "none")).where(
                category.eq(""), "unknown ATT category '" + category + "'"
            ),
        ),
        "unreadable": (
            lines["problem"].ne("") | lines["exclusion"].ne("") | negative,
            (lines["problem"] + " " + lines["exclusion"]).str.strip().replace("", "a negative quantity or value"),
        ),
    }


def decide_lines(
    lines: pd.DataFrame,
    kb: Knowledge,
    *,
    flow: str,
    include: frozenset[str],
    min_confidence: float,
    optional_rows: bool,
) -> pd.DataFrame:
    """``lines`` with the draft's decision on each: ``row_category`` (the row it is drafted in), ``decision``
    (``counted``, ``voluntary`` or ``for review``), ``review`` (the kinds of question it raises, ``;``-joined),
    ``reason`` (each kind in words) and ``included`` (the kinds counted anyway because ``include`` names them).
    """
    rows = row_categories(kb, optional_rows)
    category = lines["category"].astype("str")
    table_line = category.map(in_tables(kb)).fillna(False).astype(bool)
    review = pd.Series("", index=lines.index, dtype="str")
    reason = pd.Series("", index=lines.index, dtype="str")
    included = pd.Series("", index=lines.index, dtype="str")
    blocking = pd.Series(False, index=lines.index)
    kinds = review_kinds(lines, kb, flow=flow, min_confidence=min_confidence, rows=rows, table_line=table_line)
    for name, (mask, text) in kinds.items():
        mask = mask.fillna(False).astype(bool)
        review = review.mask(mask, review + np.where(review == "", "", ";") + name)
        reason = reason.mask(mask, reason + np.where(reason == "", "", "; ") + name + ": " + text.astype("str"))
        if name in include and REVIEW_KINDS[name].includable:
            included = included.mask(mask, included + np.where(included == "", "", ";") + name)
        else:
            blocking |= mask
    decision = np.where(blocking, FOR_REVIEW, np.where(table_line, COUNTED, VOLUNTARY))
    return lines.assign(
        row_category=category.map(rows).fillna("").astype("str"),
        decision=pd.Series(decision, index=lines.index, dtype="str"),
        review=review,
        reason=reason,
        included=included,
    )
