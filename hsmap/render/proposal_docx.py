"""A draft amendment as a Word document, the form delegations circulate and WCO documents take: A4 pages,
a running header naming the draft and its base edition, page numbers in the footer, table header rows
repeated on every page, and document properties taken from the proposal.

The front page, the legal text (Part I) and the correlation tables (Part II) are portrait; the explanatory
memorandum and the annexes, whose tables are wide, are landscape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from hsmap.render.draft import TABLE_ONE_TEXT, TABLE_TWO_TEXT, AmendmentView, Draft, evidence_lines, shown
from hsmap.render.legal_text import ChapterText, dashes, with_dashes
from hsmap.render.proposal_md import CATEGORY_HEADERS, EVIDENCE_HEADERS

A4 = (Mm(210), Mm(297))
PROPERTY_LIMIT = 255  # Word's limit for a document property


def _repeat_header(table: Table) -> None:
    """Mark the first row as a header row, which Word repeats at the top of every page the table spans."""
    properties = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _bold_header(table: Table, headers: list[str]) -> None:
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = header
        for run in cell.paragraphs[0].runs:
            run.bold = True
    _repeat_header(table)


def _table(document: Document, frame: pd.DataFrame, headers: list[str]) -> Table:
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    _bold_header(table, headers)
    for row in frame.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = shown(value)
    document.add_paragraph()
    return table


def _field_char(kind: str) -> OxmlElement:
    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    return element


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word fills in when it lays the pages out."""
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    for element in (_field_char("begin"), code, _field_char("separate")):
        paragraph.add_run()._r.append(element)
    paragraph.add_run("1")
    paragraph.add_run()._r.append(_field_char("end"))


def _page_setup(document: Document, draft: Draft) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = A4
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    proposal = draft.proposal
    kind = "Draft" if proposal.status == "draft" else "Adopted amendment"
    header = section.header.paragraphs[0]
    header.text = f"{proposal.id} · {kind} amending HS {proposal.base_edition} · not a WCO text"
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("Page ")
    _field(footer, "PAGE")
    footer.add_run(" of ")
    _field(footer, "NUMPAGES")


def _landscape(document: Document) -> None:
    """A new A4 landscape section; it keeps the header and footer of the first."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = A4[1], A4[0]


def _properties(document: Document, draft: Draft) -> None:
    proposal = draft.proposal
    properties = document.core_properties
    properties.title = proposal.title[:PROPERTY_LIMIT]
    properties.author = proposal.author[:PROPERTY_LIMIT]
    properties.last_modified_by = proposal.author[:PROPERTY_LIMIT]
    properties.subject = f"HS amendment proposal {proposal.id} ({proposal.status}), amends HS {proposal.base_edition}"
    properties.keywords = "Harmonized System; amendment; Arms Trade Treaty"
    properties.comments = draft.banner[:PROPERTY_LIMIT]
    properties.created = properties.modified = datetime.now(UTC).replace(microsecond=0)


def _chapter(document: Document, chapter: ChapterText) -> None:
    document.add_heading(chapter.chapter, level=2)
    for change in chapter.changes:
        document.add_paragraph(change.target).runs[0].bold = True
        document.add_paragraph(change.instruction)
        table = _table(document, with_dashes(change.lines), ["Code", "Description"])
        table.columns[0].width = Cm(2.5)
    if chapter.notes:
        document.add_paragraph("Subheading Notes.").runs[0].bold = True
        document.add_paragraph(chapter.notes_instruction)
        for note in chapter.notes:
            document.add_paragraph(note, style="Quote")
    if chapter.consequential:
        document.add_paragraph("Consequential amendments.").runs[0].bold = True
        for text in chapter.consequential:
            document.add_paragraph(text, style="List Bullet")


def _side_by_side(document: Document, view: AmendmentView) -> None:
    rows = max(len(view.current), len(view.proposed))
    table = document.add_table(rows=rows + 1, cols=4)
    table.style = "Table Grid"
    _bold_header(table, ["Current code", "Current text", "Proposed code", "Proposed text"])
    for side, frame in ((0, view.current), (2, view.proposed)):
        for position, line in enumerate(frame.itertuples(index=False), start=1):
            cells = table.rows[position].cells
            cells[side].text = line.code
            cells[side + 1].text = dashes(int(line.level)) + shown(line.text)
    document.add_paragraph()


def _amendment(document: Document, view: AmendmentView) -> None:
    title = f"{view.number}. Heading {view.heading}" + (f": {view.heading_text}" if view.heading_text else "")
    document.add_heading(title, level=2)
    document.add_paragraph(view.instruction).runs[0].italic = True
    _side_by_side(document, view)
    document.add_heading("ATT categories of the new subheadings", level=3)
    _table(document, view.categories, CATEGORY_HEADERS)
    document.add_paragraph(view.definition_check)
    document.add_heading("Correlation", level=3)
    _table(document, view.correlation, ["Current", "Proposed", "Relation", "Note"])
    document.add_heading("Justification", level=3)
    if view.justification:
        document.add_paragraph(shown(view.justification))
    if len(view.today):
        document.add_paragraph("What shares the current code(s) today (hsmap knowledge base):")
        _table(document, view.today, ["Current", "Category", "Name", "Relation", "Prior weight", "Note"])
    if view.notes:
        document.add_heading("Notes", level=3)
        for note in view.notes:
            document.add_paragraph(shown(note), style="List Bullet")


def write_docx(draft: Draft, path: Path) -> None:
    """Write the draft to ``path`` (.docx)."""
    proposal = draft.proposal
    base = f"HS {proposal.base_edition}"
    document = Document()
    document.styles["Normal"].font.size = Pt(10)
    _page_setup(document, draft)
    _properties(document, draft)

    document.add_heading(proposal.title, level=0)
    document.add_paragraph(shown(draft.banner)).runs[0].bold = True
    document.add_paragraph(shown(draft.edition_line)).runs[0].bold = True
    if proposal.summary:
        document.add_heading("Summary", level=1)
        document.add_paragraph(shown(proposal.summary))
    if len(draft.summary_categories):
        document.add_heading("ATT categories isolated", level=1)
        _table(document, draft.summary_categories, ["Category", "Name", "New subheadings"])
    document.add_heading(f"Part I. Amendments to the {base} Nomenclature", level=1)
    for chapter in draft.legal_text:
        _chapter(document, chapter)
    document.add_heading("Part II. Correlation tables", level=1)
    document.add_paragraph(f"Table I: {TABLE_ONE_TEXT.format(base=base)}")
    _table(document, draft.table_one, ["Proposed", base, "Remarks"])
    document.add_paragraph(f"Table II: {TABLE_TWO_TEXT.format(base=base)}")
    _table(document, draft.table_two, [base, "Proposed"])

    _landscape(document)
    document.add_heading("Part III. Explanatory memorandum", level=1)
    for view in draft.amendments:
        _amendment(document, view)
    if draft.evidence is not None:
        document.add_heading("Annex A. Evidence from declarations", level=1)
        for line in evidence_lines(draft.evidence):
            document.add_paragraph(line)
        _table(document, draft.evidence.table, EVIDENCE_HEADERS)
    if len(draft.definitions):
        document.add_heading("Annex B. Definitions relied on", level=1)
        _table(document, draft.definitions, ["Category", "Name", "Definition"])
    if proposal.notes:
        document.add_heading("Notes", level=1)
        for note in proposal.notes:
            document.add_paragraph(shown(note), style="List Bullet")
    if len(draft.problems):
        document.add_heading("Open problems (hsmap validation)", level=1)
        _table(document, draft.problems, ["Severity", "Code", "Rule", "Message"])
    document.add_heading("Sources", level=1)
    document.add_paragraph(shown(proposal.source))
    document.save(str(path))
