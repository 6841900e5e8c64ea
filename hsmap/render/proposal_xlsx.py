"""A draft amendment as a workbook: one sheet per table, so a delegation can sort, filter and annotate.

Every sheet has a bold, frozen header row with filters; long text wraps in wide columns and numbers carry
thousands separators. Every text cell passes through :func:`hsmap.spreadsheet.neutralise_formulas`, since
proposal files come from users.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from hsmap.render.draft import TEXT_COLUMNS, Draft, evidence_lines
from hsmap.spreadsheet import neutralise_formulas

LEGAL_HEADERS = ["chapter", "provision", "instruction", "code", "level", "description"]
AMENDMENT_HEADERS = ["Amendment", "Heading", "Current code", "Current text", "Proposed code", "Level", "Proposed text"]
WIDTHS = {
    "text": 60,
    "description": 60,
    "note": 60,
    "message": 60,
    "remarks": 60,
    "definition": 80,
    "definition_check": 100,
    "relies_on": 40,
    "current text": 50,
    "proposed text": 60,
    "label": 30,
    "name": 30,
    "provision": 30,
    "instruction": 40,
    "base": 30,
    "proposed": 30,
}
NARROW = 14


def _sheet(book: Workbook, title: str, frame: pd.DataFrame) -> Worksheet:
    sheet = book.create_sheet(title)
    safe = neutralise_formulas(frame.astype({c: "object" for c in frame.columns if frame[c].dtype == "str"}))
    sheet.append([str(column) for column in safe.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in safe.itertuples(index=False):
        sheet.append([None if pd.isna(value) else value for value in row])
    for position, column in enumerate(safe.columns, start=1):
        letter = sheet.cell(row=1, column=position).column_letter
        width = WIDTHS.get(str(column).lower(), NARROW)
        sheet.column_dimensions[letter].width = width
        values = frame[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        whole = numeric and bool((values.dropna() % 1 == 0).all())
        for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
            if numeric:
                cell.number_format = "#,##0" if whole else "#,##0.00"
            elif width > NARROW:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    return sheet


def _amendments(draft: Draft) -> pd.DataFrame:
    """Current and proposed lines side by side, one row per line, per amendment."""
    rows = []
    for view in draft.amendments:
        current = view.current[TEXT_COLUMNS].to_dict("records")
        proposed = view.proposed[TEXT_COLUMNS].to_dict("records")
        for position in range(max(len(current), len(proposed))):
            left = current[position] if position < len(current) else {}
            right = proposed[position] if position < len(proposed) else {}
            rows.append(
                (
                    view.number,
                    view.heading,
                    left.get("code", ""),
                    left.get("text", ""),
                    right.get("code", ""),
                    right.get("level"),
                    right.get("text", ""),
                )
            )
    return pd.DataFrame(rows, columns=AMENDMENT_HEADERS)


def _cover(book: Workbook, draft: Draft) -> None:
    sheet = book.active
    sheet.title = "Proposal"
    proposal = draft.proposal
    facts = [
        ("Title", proposal.title),
        ("Id", proposal.id),
        ("Status", proposal.status),
        ("Prepared by", draft.banner),
        ("Edition", draft.edition_line),
        ("Summary", proposal.summary),
        *[("Note", note) for note in proposal.notes],
        ("Source", proposal.source),
    ]
    if draft.evidence is not None:
        facts += [("Evidence", line) for line in evidence_lines(draft.evidence)]
    frame = neutralise_formulas(pd.DataFrame(facts, columns=["field", "value"], dtype="object"))
    for field, value in frame.itertuples(index=False):
        sheet.append([field, " ".join(str(value).split())])
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 120
    for cell in sheet["A"]:
        cell.font = Font(bold=True)
    for cell in sheet["B"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _indent(sheet: Worksheet, level: int) -> None:
    """Indent the text after a level column by its number of dashes, as the HS sets its lines."""
    for row in sheet.iter_rows(min_row=2):
        dashes = row[level].value
        row[level + 1].alignment = Alignment(indent=int(dashes) if dashes else 0, wrap_text=True, vertical="top")


def _legal_text(draft: Draft) -> pd.DataFrame:
    """Part I as rows: each substituted line under its provision, then each new Subheading Note."""
    rows = []
    for chapter in draft.legal_text:
        for change in chapter.changes:
            rows += [(chapter.chapter, change.target, change.instruction, *line) for line in change.lines.to_numpy()]
        rows += [(chapter.chapter, "Subheading Notes.", chapter.notes_instruction, "", None, n) for n in chapter.notes]
        rows += [(chapter.chapter, "Consequential amendment", "", "", None, text) for text in chapter.consequential]
    return pd.DataFrame(rows, columns=LEGAL_HEADERS)


def write_xlsx(draft: Draft, path: Path) -> None:
    """Write the draft to ``path`` (.xlsx): Proposal, Legal text, Table I, Table II, Amendments, Categories,
    Correlation, Justification, Definitions, and Evidence and Problems when there are any."""
    book = Workbook()
    _cover(book, draft)
    _indent(_sheet(book, "Legal text", _legal_text(draft)), LEGAL_HEADERS.index("level"))
    _sheet(book, "Table I", draft.table_one)
    _sheet(book, "Table II", draft.table_two)
    _indent(_sheet(book, "Amendments", _amendments(draft)), AMENDMENT_HEADERS.index("Level"))
    categories = pd.concat(
        [
            view.categories.assign(amendment=view.number, definition_check=view.definition_check)
            for view in draft.amendments
        ],
        ignore_index=True,
    )
    _sheet(book, "Categories", categories[["amendment", *[c for c in categories.columns if c != "amendment"]]])
    _sheet(book, "Correlation", draft.correlation)
    today = pd.concat([view.today.assign(amendment=view.number) for view in draft.amendments], ignore_index=True)
    _sheet(book, "Justification", today[["amendment", *[c for c in today.columns if c != "amendment"]]])
    _sheet(book, "Definitions", draft.definitions)
    if draft.evidence is not None:
        _sheet(book, "Evidence", draft.evidence.table)
    if len(draft.problems):
        _sheet(book, "Problems", draft.problems)
    book.save(str(path))
