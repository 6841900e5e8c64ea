"""A draft ATT annual report as a Word document to read and circulate: A4 landscape pages laid out as the
template (the report's choices, the exports or imports table, voluntary information, national definitions),
then, marked as not part of the report, what the reporting officer still has to decide."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Cm, Pt

from hsmap.knowledge import Knowledge
from hsmap.render.proposal_docx import _table
from hsmap.render.report_draft_xlsx import report_settings
from hsmap.report_draft import ReportDraft

MAX_REVIEW_LINES = 200  # the workbook lists them all


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as a reader sees them: whole numbers with separators, empty cells empty."""

    def cell(value: object) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        return str(value)

    return frame.astype("object").map(cell)


def _widths(document: Document, centimetres: list[float]) -> None:
    """Give the columns of the table just added these widths (Word shares the page equally otherwise)."""
    table = document.tables[-1]
    table.autofit = False
    for column, width in zip(table.columns, centimetres, strict=True):
        column.width = Cm(width)  # the grid, which LibreOffice follows
        for cell in column.cells:
            cell.width = Cm(width)  # the cells, which Word follows


def _report_table(draft: ReportDraft, kb: Knowledge) -> pd.DataFrame:
    report = draft.report
    columns = {
        "Category": report["category"] + " " + report["category"].map(kb.label),
        "Final importing State" if draft.options.flow == "export" else "Exporting State": report["partner"],
        "Number of items": report["items"],
    }
    if draft.options.values:
        columns |= {"Value": report["value"], "Currency": report["currency"]}
    columns |= {"Description of item": report["description"], "Comments on the transfer": report["comments"]}
    return _shown(pd.DataFrame(columns))


def write_report_draft_docx(draft: ReportDraft, path: Path, kb: Knowledge) -> None:
    """Write the document to ``path`` (the caller makes the write atomic)."""
    options = draft.options
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    document.styles["Normal"].font.size = Pt(9)
    title = "Annual report in accordance with Article 13(3) of the Arms Trade Treaty"
    title += f": {draft.state_name}, {options.year}"
    document.core_properties.title = title[:255]
    document.add_heading(title, level=0)
    banner = (
        "DRAFT built by hsmap from customs declarations, for the reporting officer to review and complete; "
        "it is not a submitted report."
    )
    document.add_paragraph(banner).runs[0].bold = True
    _table(document, report_settings(draft), ["Title page", ""])
    _widths(document, [6.0, 14.0])

    table_name = "Exports" if options.flow == "export" else "Imports"
    document.add_heading(f"{table_name} ({options.basis} transfers, 1 January – 31 December {options.year})", level=1)
    if draft.nil:
        document.add_paragraph(
            f"Nil report: no {options.flow}s of conventional arms covered by Article 2(1) in {options.year}."
        )
        comment = draft.report["comments"].iloc[0]
        if comment:
            document.add_paragraph(f"({comment})")
    else:
        shown = _report_table(draft, kb)
        _table(document, shown, list(shown.columns))
        values = [2.8, 1.6] if options.values else []
        _widths(document, [5.0, 3.6, 2.2, *values, 7.0, 8.3 - sum(values)])

    document.add_heading("Voluntary information: ammunition/munitions (Art. 3), parts and components (Art. 4)", 1)
    if len(draft.voluntary):
        voluntary = draft.voluntary[
            ["category", "category_name", "partner", "lines", "items", "kg", "value", "currency", "description"]
        ]
        _table(
            document,
            _shown(voluntary),
            ["Category", "Name", "State", "Lines", "Items", "kg", "Value", "Currency", "Description"],
        )
        _widths(document, [1.8, 4.2, 3.6, 1.5, 2.2, 2.2, 2.8, 1.6, 6.2])
    else:
        document.add_paragraph("None in the customs data.")

    document.add_heading("National definitions (Annex 2)", level=1)
    document.add_paragraph(
        "None given: the categories are those of Annex 1 (the UN Register definitions at the ATT's entry into "
        "force). A State that reports by its own definitions describes them here."
    )

    document.add_page_break()
    document.add_heading("For the reporting officer (not part of the report)", level=1)
    document.add_heading("Where every declaration line went", level=2)
    _table(document, _shown(draft.accounting), ["", "Lines"])
    _widths(document, [12.0, 3.0])
    review = draft.review
    document.add_heading(f"Lines left for review ({len(review):,})", level=2)
    if len(review):
        _table(document, _shown(draft.review_by_kind()), ["Kind", "Lines", "Counted", "To decide"])
        _widths(document, [4.0, 1.6, 2.8, 17.7])
        listed = review[["line", "category", "partner", "description", "unit", "items", "kg", "reason"]]
        _table(
            document,
            _shown(listed.head(MAX_REVIEW_LINES)),
            ["Line", "Category", "Partner", "Description", "Unit", "Items", "kg", "Reason"],
        )
        _widths(document, [3.9, 2.2, 3.0, 5.0, 1.4, 1.6, 1.6, 7.4])
        if len(review) > MAX_REVIEW_LINES:
            document.add_paragraph(f"… and {len(review) - MAX_REVIEW_LINES:,} more: see the workbook.")
    else:
        document.add_paragraph("None.")
    document.add_heading("The rules the figures follow", level=2)
    for rule in draft.rules():
        document.add_paragraph(rule, style="List Bullet")
    document.save(str(path))
