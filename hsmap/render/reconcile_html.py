"""A reconciliation as one self-contained HTML page: summary figures, customs against report per category as
inline SVG bar charts, the comparison table and the lines each side could not match.

No script, no web font, no CDN: the page opens offline and can be mailed as it is. Every piece of text that
comes from the inputs (names, descriptions, comments, explanations) is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

import pandas as pd

from hsmap.outputs import write_atomically
from hsmap.reconcile import STATUSES, Reconciliation

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
_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:2rem auto;max-width:1400px;
color:#212121;padding:0 1rem;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:.9rem}.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border-radius:6px;padding:.6rem 1rem;color:#fff;min-width:8rem}.card .n{font-size:1.8rem;font-weight:700;
display:block}table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{border:1px solid #ddd;
padding:.3rem .45rem;vertical-align:top;text-align:left}th{background:#f5f5f5;position:sticky;top:0}
td.num{text-align:right;white-space:nowrap}td.expl{min-width:24rem}.wide{overflow-x:auto}.badge{color:#fff;border-radius:4px;
padding:.05rem .4rem;white-space:nowrap;font-size:.8rem}.charts{display:flex;flex-wrap:wrap;gap:2rem}
figure{margin:0}figcaption{font-weight:600;margin-bottom:.3rem}.small{font-size:.8rem;color:#555}
"""


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return escape(str(value), quote=True)


def _number(value: object, share: bool = False) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    number = float(value)  # type: ignore[arg-type]
    if share:
        return f"{number:+.1%}"
    return f"{number:,.0f}" if abs(number) >= 100 or number.is_integer() else f"{number:,.2f}"


def _badge(status: str) -> str:
    colour = COLOURS.get(status, "#9e9e9e")
    return f'<span class="badge" style="background:{colour}">{_text(status)}</span>'


def _table(frame: pd.DataFrame, columns: tuple[tuple[str, str], ...] | None = None) -> str:
    """A plain HTML table; numeric cells right-aligned, statuses as coloured badges, every cell escaped."""
    pairs = columns or tuple((str(column), str(column)) for column in frame.columns)
    pairs = tuple((name, label) for name, label in pairs if name in frame.columns)
    head = "".join(f"<th>{_text(label)}</th>" for _, label in pairs)
    body = []
    for record in frame.to_dict("records"):
        cells = []
        for name, _ in pairs:
            value = record[name]
            if name in ("status", "items_status", "value_status", "reason") and str(value) in COLOURS:
                cells.append(f"<td>{_badge(str(value))}</td>")
            elif name in _PLAIN_NUMBERS and isinstance(value, (int, float)) and math.isfinite(value):
                cells.append(f'<td class="num">{int(value)}</td>')
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                cells.append(f'<td class="num">{_number(value, share=name.endswith("rel_diff"))}</td>')
            elif name == "explanation":
                cells.append(f'<td class="expl">{_text(value)}</td>')
            else:
                cells.append(f"<td>{_text(value)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def bar_chart(totals: pd.DataFrame, customs: str, report: str, title: str, unit: str) -> str:
    """Inline SVG: per category, a customs bar above a report bar. Each pair is scaled to its larger figure,
    since categories differ by orders of magnitude (thousands of pistols, a handful of tanks) and the point is
    to see the two sides of one category side by side; the figures are written beside the bars."""
    frame = totals[(totals[customs].fillna(0) > 0) | (totals[report].fillna(0) > 0)]
    if frame.empty:
        return f"<figure><figcaption>{_text(title)}</figcaption><p class='small'>No figures to chart.</p></figure>"
    label_width, bar_width, row_height, top = 70, 380, 34, 28
    width, height = label_width + bar_width + 130, top + row_height * len(frame) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{_text(title)}" font-size="12" font-family="sans-serif">',
        f'<rect x="{label_width}" y="4" width="12" height="12" fill="{CUSTOMS_COLOUR}"/>'
        f'<text x="{label_width + 16}" y="14">customs</text>',
        f'<rect x="{label_width + 90}" y="4" width="12" height="12" fill="{REPORT_COLOUR}"/>'
        f'<text x="{label_width + 106}" y="14">report</text>',
    ]
    for position, record in enumerate(frame.to_dict("records")):
        y = top + position * row_height
        largest = max(float(record[customs] or 0), float(record[report] or 0)) or 1.0
        parts.append(f'<text x="0" y="{y + 15}" font-weight="600">{_text(record["top_category"])}</text>')
        for offset, (column, colour, side) in enumerate(
            ((customs, CUSTOMS_COLOUR, "customs"), (report, REPORT_COLOUR, "report"))
        ):
            value = float(record[column]) if pd.notna(record[column]) else 0.0
            length = max(bar_width * value / largest, 1.0 if value else 0.0)
            bar_y = y + offset * 14
            shown = f"{_number(value)} {unit}".strip()
            parts.append(
                f'<rect x="{label_width}" y="{bar_y}" width="{length:.1f}" height="12" fill="{colour}">'
                f"<title>{_text(record['top_category'])} {side}: {_text(shown)}</title></rect>"
                f'<text x="{label_width + length + 4:.1f}" y="{bar_y + 10}">{_text(shown)}</text>'
            )
    parts.append("</svg>")
    return f"<figure><figcaption>{_text(title)}</figcaption>{''.join(parts)}</figure>"


def render_html(result: Reconciliation, sources: dict[str, str] | None = None) -> str:
    """The whole page as one string."""
    counts = result.status_counts
    settings = {**(sources or {}), **result.settings}
    meta = " · ".join(f"{_text(key)}: {_text(value)}" for key, value in settings.items())
    cards = "".join(
        f'<div class="card" style="background:{COLOURS[status]}"><span class="n">{counts.get(status, 0)}</span>'
        f"{_text(status)}</div>"
        for status in STATUSES
    )
    by_category = result.by_category()  # in the treaty's order
    by_category = by_category[by_category["top_category"] != ""]
    currency = result.settings.get("currency", "")
    charts = bar_chart(by_category, "customs_items", "report_items", "Number of items per category", "items")
    charts += bar_chart(by_category, "customs_value", "report_value", f"Value per category ({currency})", currency)
    unresolved = result.partners[result.partners["partner_status"].isin(["unknown", "special"])]
    sections = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>ATT report reconciliation</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Customs data against the ATT annual report</h1>",
        f'<p class="meta">{meta}</p>',
        f'<div class="cards">{cards}</div>',
        "<h2>Customs and report per category</h2>",
        '<p class="small">Customs items count only lines declared in items; kilograms are never added to items.</p>',
        f'<div class="charts">{charts}</div>',
        "<h2>Comparison</h2>",
        _table(result.comparison, COMPARISON_COLUMNS),
        "<h2>Where every input line went</h2>",
        _table(result.accounting),
        "<h2>By category</h2>",
        _table(by_category),
        "<h2>Partners that are not a State hsmap can identify</h2>",
        _table(unresolved) if len(unresolved) else "<p>None: every partner was resolved.</p>",
        "<h2>Customs lines without a report counterpart</h2>",
        _table(result.customs_unmatched) if len(result.customs_unmatched) else "<p>None.</p>",
        "<h2>Report rows without a customs counterpart</h2>",
        _table(result.report_unmatched) if len(result.report_unmatched) else "<p>None.</p>",
        "<h2>Customs lines not classified as ATT items</h2>",
        _table(result.customs_not_att) if len(result.customs_not_att) else "<p>None.</p>",
        "</body></html>",
    ]
    return "\n".join(sections) + "\n"


def write_reconciliation_html(result: Reconciliation, path: Path | str, sources: dict[str, str] | None = None) -> Path:
    """Write the page through a temporary file renamed on success."""
    page = render_html(result, sources)
    return write_atomically(path, lambda partial: partial.write_text(page, encoding="utf-8"))
