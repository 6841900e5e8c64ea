"""A draft ATT annual report as a workbook: the ``report`` sheet first, in hsmap's report schema (so
``hsmap reconcile --report`` and ``hsmap store load`` read it as any report), then ``about`` (the report's
choices, the rules, where every line went), ``for review`` (the lines left to the officer, with the reason,
which ``hsmap reconcile`` reads back), ``sources`` (the lines behind each row) and ``voluntary`` (ammunition
and parts). Sheets are laid out as the reconciliation's workbook lays them out (:mod:`hsmap.xlsx`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hsmap.render.reconcile_xlsx import table_layout
from hsmap.report_draft import ReportDraft
from hsmap.review_list import REVIEW_SHEET
from hsmap.xlsx import XlsxBook

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


def _table(book: XlsxBook, name: str, frame: pd.DataFrame) -> None:
    layout = table_layout(frame)
    wrapped = [str(column) for column in frame.columns if column in WRAPPED]
    layout.wrap = [*layout.wrap, *wrapped]
    layout.widths = {**layout.widths, **dict.fromkeys(wrapped, 48)}
    book.frame(name, frame, layout)


def write_report_draft_xlsx(draft: ReportDraft, path: Path) -> None:
    """Write the workbook to ``path`` (the caller makes the write atomic)."""
    book = XlsxBook(path)
    _table(book, "report", draft.report)
    about = book.blocks("about", {"A": 44, "B": 90, "C": 16, "D": 70}, wrap="BD")
    about.title(f"Draft ATT annual report: {draft.state_name}, {draft.options.year}")
    about.block("The report", report_settings(draft))
    about.block("Where every declaration line went", draft.accounting)
    about.block("Lines left for review, by kind of question", draft.review_by_kind())
    rules = draft.rules()
    about.block("The rules the figures follow", pd.DataFrame({"#": range(1, len(rules) + 1), "rule": rules}))
    _table(book, REVIEW_SHEET, draft.review)
    _table(book, "sources", draft.sources)
    _table(book, "voluntary", draft.voluntary)
    book.close()
