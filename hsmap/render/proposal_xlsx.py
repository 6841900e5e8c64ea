"""A draft amendment as a workbook: one sheet per table, so a delegation can sort, filter and annotate.

Every sheet is :mod:`hsmap.xlsx`'s: a bold, frozen header row with filters, typed cells and formula-safe text
(proposal files come from users); long text wraps in wide columns, numbers carry thousands separators, and the
HS texts are indented by their dashes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hsmap.render.draft import TEXT_COLUMNS, Draft, evidence_lines
from hsmap.xlsx import AMOUNT_FORMAT, COUNT_FORMAT, Layout, XlsxBook

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


def _layout(frame: pd.DataFrame, indent: tuple[str, str] | None = None) -> Layout:
    """Wide, wrapped columns for text; thousands separators, and cents only where a column has them."""
    widths = {str(c): WIDTHS.get(str(c).lower(), NARROW) for c in frame.columns}
    formats = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            whole = bool((values.dropna() % 1 == 0).all())
            formats[str(column)] = COUNT_FORMAT if whole else AMOUNT_FORMAT
    return Layout(
        widths=widths,
        wrap=[name for name, width in widths.items() if width > NARROW],
        number_formats=formats,
        indent=dict([indent]) if indent else {},
    )


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


def _cover(book: XlsxBook, draft: Draft) -> None:
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
    sheet = book.blocks("Proposal", {"A": 14, "B": 120}, wrap="B")
    frame = pd.DataFrame([(field, " ".join(str(value).split())) for field, value in facts], columns=["field", "value"])
    sheet.block(proposal.title, frame)


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
    book = XlsxBook(path)
    _cover(book, draft)
    legal = _legal_text(draft)
    book.frame("Legal text", legal, _layout(legal, ("description", "level")))
    book.frame("Table I", draft.table_one, _layout(draft.table_one))
    book.frame("Table II", draft.table_two, _layout(draft.table_two))
    amendments = _amendments(draft)
    book.frame("Amendments", amendments, _layout(amendments, ("Proposed text", "Level")))
    categories = pd.concat(
        [
            view.categories.assign(amendment=view.number, definition_check=view.definition_check)
            for view in draft.amendments
        ],
        ignore_index=True,
    )
    categories = categories[["amendment", *[c for c in categories.columns if c != "amendment"]]]
    today = pd.concat([view.today.assign(amendment=view.number) for view in draft.amendments], ignore_index=True)
    today = today[["amendment", *[c for c in today.columns if c != "amendment"]]]
    tables = [("Categories", categories), ("Correlation", draft.correlation), ("Justification", today)]
    tables.append(("Definitions", draft.definitions))
    if draft.evidence is not None:
        tables.append(("Evidence", draft.evidence.table))
    if len(draft.problems):
        tables.append(("Problems", draft.problems))
    for name, frame in tables:
        book.frame(name, frame, _layout(frame))
    book.close()
