"""A reconciliation as one self-contained HTML page: summary figures, customs against report per category as
inline SVG bar charts, the comparison table and the lines each side could not match.

No script, no web font, no CDN: the page opens offline and can be mailed as it is. The page is the template
``hsmap/templates/reconcile.html.j2``; this module only lays the figures out, and the template's autoescaping
escapes every piece of text that comes from the inputs (names, descriptions, comments, explanations).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from hsmap.outputs import write_atomically
from hsmap.reconcile import STATUSES, Reconciliation
from hsmap.render.html import render_page

COLOURS = {
    "match": "#2e7d32",
    "within-tolerance": "#7cb342",
    "mismatch": "#c62828",
    "only-customs": "#ef6c00",
    "only-report": "#1565c0",
    "not-comparable": "#757575",
}
CUSTOMS_COLOUR, REPORT_COLOUR = "#ef6c00", "#1565c0"
COMPARISON_COLUMNS = (
    ("status", "Status"),
    ("year", "Year"),
    ("flow", "Flow"),
    ("partner", "Partner"),
    ("category", "Category"),
    ("customs_items", "Customs items"),
    ("report_items", "Report items"),
    ("items_rel_diff", "Items Δ"),
    ("customs_value", "Customs value"),
    ("report_value", "Report value"),
    ("value_rel_diff", "Value Δ"),
    ("gaps", "Gaps"),
    ("explanation", "Explanation"),
)
_PLAIN_NUMBERS = ("year", "first_row", "source_row")  # identifiers, not amounts: no thousands separator
_STATUS_COLUMNS = ("status", "items_status", "value_status", "reason")
# the bar charts' geometry, in SVG pixels
LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT, TOP = 70, 380, 34, 28


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value))


def _number(value: object, share: bool = False) -> str:
    if _missing(value):
        return ""
    number = float(value)  # type: ignore[arg-type]
    if share:
        return f"{number:+.1%}"
    return f"{number:,.0f}" if abs(number) >= 100 or number.is_integer() else f"{number:,.2f}"


def _cell(name: str, value: object) -> dict[str, str]:
    """How one value is shown: ``kind`` picks the template's markup (badge, num, expl or text)."""
    if name in _STATUS_COLUMNS and str(value) in COLOURS:
        return {"kind": "badge", "text": str(value), "colour": COLOURS[str(value)]}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if name in _PLAIN_NUMBERS and math.isfinite(value):
            return {"kind": "num", "text": str(int(value))}
        return {"kind": "num", "text": _number(value, share=name.endswith("rel_diff"))}
    text = "" if _missing(value) else str(value)
    return {"kind": "expl" if name == "explanation" else "text", "text": text}


def _table(frame: pd.DataFrame, columns: tuple[tuple[str, str], ...] | None = None) -> dict[str, Any]:
    """A table for the template: header labels and rows of shown cells."""
    pairs = columns or tuple((str(column), str(column)) for column in frame.columns)
    pairs = tuple((name, label) for name, label in pairs if name in frame.columns)
    rows = [[_cell(name, record[name]) for name, _ in pairs] for record in frame.to_dict("records")]
    return {"columns": [{"name": name, "label": label} for name, label in pairs], "rows": rows}


def _chart(totals: pd.DataFrame, customs: str, report: str, title: str, unit: str) -> dict[str, Any]:
    """Per category, a customs bar above a report bar. Each pair is scaled to its larger figure, since
    categories differ by orders of magnitude (thousands of pistols, a handful of tanks) and the point is to see
    the two sides of one category side by side; the figures are written beside the bars."""
    frame = totals[(totals[customs].fillna(0) > 0) | (totals[report].fillna(0) > 0)]
    rows = []
    for position, record in enumerate(frame.to_dict("records")):
        y = TOP + position * ROW_HEIGHT
        largest = max(float(record[customs] or 0), float(record[report] or 0)) or 1.0
        bars = []
        for offset, (column, colour, side) in enumerate(
            ((customs, CUSTOMS_COLOUR, "customs"), (report, REPORT_COLOUR, "report"))
        ):
            value = float(record[column]) if pd.notna(record[column]) else 0.0
            length = max(BAR_WIDTH * value / largest, 1.0 if value else 0.0)
            bars.append(
                {
                    "y": y + offset * 14,
                    "width": f"{length:.1f}",
                    "end": f"{LABEL_WIDTH + length + 4:.1f}",
                    "colour": colour,
                    "side": side,
                    "shown": f"{_number(value)} {unit}".strip(),
                }
            )
        rows.append({"label": record["top_category"], "y": y, "bars": bars})
    return {
        "title": title,
        "rows": rows,
        "width": LABEL_WIDTH + BAR_WIDTH + 130,
        "height": TOP + ROW_HEIGHT * len(rows) + 8,
        "label_width": LABEL_WIDTH,
        "customs_colour": CUSTOMS_COLOUR,
        "report_colour": REPORT_COLOUR,
    }


def render_html(result: Reconciliation, sources: dict[str, str] | None = None) -> str:
    """The whole page as one string."""
    counts = result.status_counts
    by_category = result.by_category()  # in the treaty's order
    by_category = by_category[by_category["top_category"] != ""]
    currency = result.settings.get("currency", "")
    unresolved = result.partners[result.partners["partner_status"].isin(["unknown", "special"])]
    optional = (
        ("Partners that are not a State hsmap can identify", unresolved, "None: every partner was resolved."),
        ("Customs lines without a report counterpart", result.customs_unmatched, "None."),
        ("Report rows without a customs counterpart", result.report_unmatched, "None."),
        ("Customs lines not classified as ATT items", result.customs_not_att, "None."),
    )
    return render_page(
        "reconcile.html.j2",
        settings={**(sources or {}), **result.settings},
        cards=[{"status": status, "count": counts.get(status, 0), "colour": COLOURS[status]} for status in STATUSES],
        charts=[
            _chart(by_category, "customs_items", "report_items", "Number of items per category", "items"),
            _chart(by_category, "customs_value", "report_value", f"Value per category ({currency})", currency),
        ],
        comparison=_table(result.comparison, COMPARISON_COLUMNS),
        accounting=_table(result.accounting),
        by_category=_table(by_category),
        sections=[
            {"title": title, "table": _table(frame) if len(frame) else None, "empty": empty}
            for title, frame, empty in optional
        ],
    )


def write_reconciliation_html(result: Reconciliation, path: Path | str, sources: dict[str, str] | None = None) -> Path:
    """Write the page through a temporary file renamed on success."""
    page = render_html(result, sources)
    return write_atomically(path, lambda partial: partial.write_text(page, encoding="utf-8"))
