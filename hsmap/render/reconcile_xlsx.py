"""A reconciliation as a workbook a reporting officer can sort and filter: a summary sheet, the comparison
table, the unmatched lines of each side, the lines not classified as ATT items, the partner spellings and
the unreadable cells. Each table sheet is :mod:`hsmap.xlsx`'s (typed cells, bold frozen header, filter,
widths, number formats, formula-safe text) with statuses coloured and explanations wrapped.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hsmap.reconcile import Reconciliation
from hsmap.xlsx import AMOUNT_FORMAT, COUNT_FORMAT, SHARE_FORMAT, Layout, XlsxBook, xlsx_file

STATUS_FILLS = {
    "match": "C6EFCE",
    "within-tolerance": "E2F0D9",
    "mismatch": "FFC7CE",
    "only-customs": "FCE4D6",
    "only-report": "DDEBF7",
    "not-comparable": "EDEDED",
}
WIDTHS = {
    "explanation": 100,
    "gaps": 28,
    "hs_codes": 26,
    "partner_name": 22,
    "category_name": 28,
    "customs_categories": 20,
    "report_categories": 20,
    "report_rows": 12,
    "reason": 40,
    "what": 48,
    "partner": 18,
    "partner_note": 48,
    "description": 36,
    "comments": 36,
    "problem": 40,
    "status": 15,
    "items_status": 15,
    "value_status": 15,
}
WRAPPED = ("explanation", "partner_note", "what", "reason", "description", "comments", "problem")
STATUS_COLUMNS = ("status", "items_status", "value_status", "reason")
SHEETS = ("summary", "comparison", "customs unmatched", "report unmatched", "customs not ATT", "partners", "problems")


def number_format(column: str) -> str | None:
    """Items, kilograms and counts as whole numbers, values with cents, relative differences as shares."""
    if column.endswith("rel_diff"):
        return SHARE_FORMAT
    if column.endswith(("value", "value_diff")):
        return AMOUNT_FORMAT
    if column.endswith(("items", "items_diff", "kg", "lines", "count", "rows", "row_count")) or column in STATUS_FILLS:
        return COUNT_FORMAT
    return None


def table_layout(frame: pd.DataFrame, widths: dict[str, float] | None = None) -> Layout:
    """The reconciliation's look for a table: its widths, wrapped text, coloured statuses, counts per status."""
    columns = [str(column) for column in frame.columns]
    return Layout(
        widths={name: width for name, width in (widths or WIDTHS).items() if name in columns},
        wrap=[name for name in columns if name in WRAPPED],
        fills={name: STATUS_FILLS for name in columns if name in STATUS_COLUMNS},
        number_formats={name: found for name in columns if (found := number_format(name))},
    )


def _summary(book: XlsxBook, result: Reconciliation, sources: dict[str, str]) -> None:
    sheet = book.blocks("summary", {"A": 24, "B": 44, **dict.fromkeys("CDEFGHIJKLMNO", 15)})
    sheet.title("Reconciliation of customs data with the ATT annual report")
    settings = pd.DataFrame([*sources.items(), *result.settings.items()], columns=["setting", "value"], dtype="object")
    settings["value"] = settings["value"].astype("str")
    for heading, frame in (
        ("Settings", settings),
        ("Comparison rows by status", result.by_status()),
        ("Where every input line went", result.accounting),
        ("By category (top level)", result.by_category()),
        ("By partner", result.by_partner()),
    ):
        sheet.block(heading, frame, table_layout(frame))


def write_reconciliation_xlsx(result: Reconciliation, path: Path | str, sources: dict[str, str] | None = None) -> Path:
    """Write the workbook atomically; ``sources`` names the input files."""
    path = Path(path)
    with xlsx_file(path) as book:
        _summary(book, result, sources or {})
        for name, frame in zip(
            SHEETS[1:],
            (
                result.comparison,
                result.customs_unmatched,
                result.report_unmatched,
                result.customs_not_att,
                result.partners,
                result.problems,
            ),
            strict=True,
        ):
            book.frame(name, frame, table_layout(frame))
    return path
