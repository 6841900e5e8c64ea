"""A draft amendment as a Word document, the form delegations circulate: landscape pages, the current
and the proposed text side by side per heading, then the categories, correlation and justification.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Cm, Pt

from hsmap.render.draft import AmendmentView, Draft, dashes, evidence_lines


def _text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return " ".join(str(value).split())


def _table(document: Document, frame: pd.DataFrame, headers: list[str]) -> None:
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = header
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in frame.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = _text(value)
    document.add_paragraph()


def _side_by_side(document: Document, view: AmendmentView) -> None:
    rows = max(len(view.current), len(view.proposed))
    table = document.add_table(rows=rows + 1, cols=4)
    table.style = "Table Grid"
    for cell, header in zip(
        table.rows[0].cells, ["Current code", "Current text", "Proposed code", "Proposed text"], strict=True
    ):
        cell.text = header
        cell.paragraphs[0].runs[0].bold = True
    for side, frame in ((0, view.current), (2, view.proposed)):
        for position, line in enumerate(frame.itertuples(index=False), start=1):
            cells = table.rows[position].cells
            cells[side].text = line.code
            cells[side + 1].text = dashes(int(line.level)) + _text(line.text)
    document.add_paragraph()


def _amendment(document: Document, view: AmendmentView) -> None:
    title = f"{view.number}. Heading {view.heading}" + (f": {view.heading_text}" if view.heading_text else "")
    document.add_heading(title, level=2)
    document.add_paragraph(view.instruction).runs[0].italic = True
    _side_by_side(document, view)
    if view.subheading_notes:
        document.add_heading("Subheading notes", level=3)
        for number, note in enumerate(view.subheading_notes, start=1):
            document.add_paragraph(f"{number}. {_text(note)}")
    document.add_heading("ATT categories of the new subheadings", level=3)
    _table(
        document,
        view.categories,
        ["Code", "Text", "Isolates", "Also holds", "Definition relied on", "Decidable from a declaration", "Note"],
    )
    document.add_heading("Correlation", level=3)
    _table(document, view.correlation, ["Current", "Proposed", "Relation", "Note"])
    document.add_heading("Justification", level=3)
    if view.justification:
        document.add_paragraph(_text(view.justification))
    if len(view.today):
        document.add_paragraph("What shares the current code(s) today (hsmap knowledge base):")
        _table(document, view.today, ["Current", "Category", "Name", "Relation", "Prior weight", "Note"])
    if view.notes:
        document.add_heading("Notes", level=3)
        for note in view.notes:
            document.add_paragraph(_text(note), style="List Bullet")


def write_docx(draft: Draft, path: Path) -> None:
    """Write the draft to ``path`` (.docx)."""
    proposal = draft.proposal
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    document.styles["Normal"].font.size = Pt(9)
    document.core_properties.title = proposal.title[:255]  # Word's limit for document properties
    document.core_properties.subject = f"HS amendment proposal {proposal.id} ({proposal.status})"[:255]
    document.core_properties.comments = draft.banner[:255]

    document.add_heading(proposal.title, level=0)
    document.add_paragraph(_text(draft.banner)).runs[0].bold = True
    document.add_paragraph(_text(draft.edition_line))
    if proposal.summary:
        document.add_heading("Summary", level=1)
        document.add_paragraph(_text(proposal.summary))
    if len(draft.summary_categories):
        document.add_heading("ATT categories isolated", level=1)
        _table(document, draft.summary_categories, ["Category", "Name", "New subheadings"])
    document.add_heading("Amendments", level=1)
    for view in draft.amendments:
        _amendment(document, view)
    document.add_heading("Correlation table", level=1)
    _table(document, draft.correlation, ["Amendment", "Current", "Proposed", "Relation", "Note"])
    if draft.evidence is not None:
        document.add_heading("Evidence from declarations", level=1)
        for line in evidence_lines(draft.evidence):
            document.add_paragraph(line)
        _table(
            document,
            draft.evidence.table,
            ["Amendment", "Current", "Proposed", "Text", "Isolates", "Lines", "Items", "Value"],
        )
    if len(draft.definitions):
        document.add_heading("Definitions relied on", level=1)
        _table(document, draft.definitions, ["Category", "Name", "Definition"])
    if proposal.notes:
        document.add_heading("Notes", level=1)
        for note in proposal.notes:
            document.add_paragraph(_text(note), style="List Bullet")
    if len(draft.problems):
        document.add_heading("Open problems (hsmap validation)", level=1)
        _table(document, draft.problems, ["Severity", "Code", "Rule", "Message"])
    document.add_heading("Sources", level=1)
    document.add_paragraph(_text(proposal.source))
    document.save(str(path))
