"""A reconciliation as a workbook a reporting officer can sort and filter: a summary sheet, the comparison
table, the unmatched lines of each side, the lines not classified as ATT items, the partner spellings and
the unreadable cells. Headers are frozen, filters set, widths chosen, statuses coloured; every text cell
passes through :func:`hsmap.spreadsheet.neutralise_formulas`, since both inputs come from outside.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from hsmap.outputs import write_atomically
from hsmap.reconcile import Reconciliation
from hsmap.spreadsheet import neutralise_formulas

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
COUNT_FORMAT = "#,##0"
AMOUNT_FORMAT = "#,##0.00"
SHARE_FORMAT = "0.0%"
SHEETS = ("summary", "comparison", "customs unmatched", "report unmatched", "customs not ATT", "partners", "problems")
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)


def _number_format(column: str) -> str | None:
    if column.endswith("rel_diff"):
        return SHARE_FORMAT
    if column.endswith(("value", "value_diff")):
        return AMOUNT_FORMAT
    if column.endswith(("items", "items_diff", "kg", "lines", "count", "rows", "row_count")) or column in STATUS_FILLS:
        return COUNT_FORMAT
    return None


def _cells(frame: pd.DataFrame) -> list[list[object]]:
    safe = neutralise_formulas(frame.astype({c: "object" for c in frame.columns if frame[c].dtype == "str"}))
    return [[None if pd.isna(value) else value for value in row] for row in safe.itertuples(index=False)]


def _table_sheet(book: Workbook, title: str, frame: pd.DataFrame) -> Worksheet:
    """One table per sheet: bold frozen header, a filter over the whole table, widths and number formats."""
    sheet = book.create_sheet(title)
    columns = [str(column) for column in frame.columns]
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = _BOLD
    for row in _cells(frame):
        sheet.append(row)
    last = get_column_letter(max(len(columns), 1))
    sheet.auto_filter.ref = f"A1:{last}{max(len(frame) + 1, 1)}"
    sheet.freeze_panes = "A2"
    for position, column in enumerate(columns, start=1):
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = WIDTHS.get(column, max(10, min(len(column) + 2, 18)))
        number_format = _number_format(column)
        wrap = column in ("explanation", "partner_note", "what", "reason")
        for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
            if number_format and isinstance(cell.value, (int, float)):
                cell.number_format = number_format
            if wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        if column in ("status", "items_status", "value_status", "reason"):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
                fill = STATUS_FILLS.get(str(cell.value))
                if fill:
                    cell.fill = PatternFill("solid", fgColor=fill)
    return sheet


def _block(sheet: Worksheet, row: int, heading: str, frame: pd.DataFrame) -> int:
    """A titled table on the summary sheet; returns the next free row."""
    sheet.cell(row, 1, heading).font = _BOLD
    row += 1
    for position, column in enumerate(frame.columns, start=1):
        sheet.cell(row, position, str(column)).font = _BOLD
    for values in _cells(frame):
        row += 1
        for position, (column, value) in enumerate(zip(frame.columns, values, strict=True), start=1):
            cell = sheet.cell(row, position, value)
            number_format = _number_format(str(column))
            if number_format and isinstance(value, (int, float)):
                cell.number_format = number_format
            if column == "status" and str(value) in STATUS_FILLS:
                cell.fill = PatternFill("solid", fgColor=STATUS_FILLS[str(value)])
    return row + 2


def _summary(book: Workbook, result: Reconciliation, sources: dict[str, str]) -> None:
    sheet = book.active
    sheet.title = "summary"
    sheet.cell(1, 1, "Reconciliation of customs data with the ATT annual report").font = _TITLE
    row = 3
    settings = pd.DataFrame([*sources.items(), *result.settings.items()], columns=["setting", "value"], dtype="object")
    row = _block(sheet, row, "Settings", settings)
    row = _block(sheet, row, "Comparison rows by status", result.by_status())
    row = _block(sheet, row, "Where every input line went", result.accounting)
    row = _block(sheet, row, "By category (top level)", result.by_category())
    _block(sheet, row, "By partner", result.by_partner())
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 44
    for letter in "CDEFGHIJKLMNO":
        sheet.column_dimensions[letter].width = 15


def write_reconciliation_xlsx(result: Reconciliation, path: Path | str, sources: dict[str, str] | None = None) -> Path:
    """Write the workbook through a temporary file renamed on success; ``sources`` names the input files."""
    path = Path(path)
    book = Workbook()
    _summary(book, result, sources or {})
    _table_sheet(book, "comparison", result.comparison)
    _table_sheet(book, "customs unmatched", result.customs_unmatched)
    _table_sheet(book, "report unmatched", result.report_unmatched)
    _table_sheet(book, "customs not ATT", result.customs_not_att)
    _table_sheet(book, "partners", result.partners)
    _table_sheet(book, "problems", result.problems)
    return write_atomically(path, book.save)
