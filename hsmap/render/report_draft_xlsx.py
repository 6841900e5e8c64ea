"""A draft ATT annual report as a workbook: the ``report`` sheet first, in hsmap's report schema (so
``hsmap reconcile --report`` and ``hsmap store load`` read it as any report), then ``about`` (the report's
choices, the rules, where every line went), ``for review`` (the lines left to the officer, with the reason,
which ``hsmap reconcile`` reads back), ``sources`` (the lines behind each row) and ``voluntary`` (ammunition
and parts). Sheets are laid out as the reconciliation's workbook lays them out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment

from hsmap.render.reconcile_xlsx import _TITLE, _block, _table_sheet
from hsmap.report_draft import ReportDraft
from hsmap.review_list import REVIEW_SHEET

WRAPPED = ("description", "comments", "reason", "source_lines", "to decide", "rule")


def report_settings(draft: ReportDraft) -> pd.DataFrame:
    """The report-level choices of the template, as the draft makes them."""
    options = draft.options
    public = {True: "yes", False: "no", None: "not stated (--public / --not-public)"}[options.public]
    rows = [
        ("reporting State", f"{draft.state_name} ({draft.state_iso3})"),
        ("calendar year", str(options.year)),
        ("table", f"{options.flow}s"),
        ("basis", options.basis),
        ("may be made public", public),
        ("nil report", "yes" if draft.nil else "no"),
        ("customs data", ", ".join(draft.files)),
        ("minimum classifier confidence", f"{options.min_confidence:g}"),
    ]
    return pd.DataFrame(rows, columns=["setting", "value"], dtype="object")


def write_report_draft_xlsx(draft: ReportDraft, path: Path) -> None:
    """Write the workbook to ``path`` (the caller makes the write atomic)."""
    book = Workbook()
    default = book.active
    _table_sheet(book, "report", draft.report)
    about = book.create_sheet("about")
    about.cell(1, 1, f"Draft ATT annual report: {draft.state_name}, {draft.options.year}").font = _TITLE
    row = _block(about, 3, "The report", report_settings(draft))
    row = _block(about, row, "Where every declaration line went", draft.accounting)
    row = _block(about, row, "Lines left for review, by kind of question", draft.review_by_kind())
    rules = draft.rules()
    _block(about, row, "The rules the figures follow", pd.DataFrame({"#": range(1, len(rules) + 1), "rule": rules}))
    for letter, width in zip("ABCD", (44, 90, 16, 70), strict=True):
        about.column_dimensions[letter].width = width
    for cell in (*about["B"], *about["D"]):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    _table_sheet(book, REVIEW_SHEET, draft.review)
    _table_sheet(book, "sources", draft.sources)
    _table_sheet(book, "voluntary", draft.voluntary)
    book.remove(default)
    for sheet in book.worksheets:
        for cells in sheet.iter_cols(min_row=1, max_row=1):
            if cells[0].value in WRAPPED and sheet.title != "about":
                sheet.column_dimensions[cells[0].column_letter].width = 48
                for cell in sheet[cells[0].column_letter][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.save(path)
