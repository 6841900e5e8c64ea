"""Write a draft ATT annual report in the format its file name asks for: .xlsx (the report sheet and the lines
behind it), .csv (the report table in hsmap's report schema, and beside it ``<name>.lines.csv``: every line
looked at with its decision) or .docx (a document to read). Each file is written through a temporary file that
replaces the target only when complete.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

from hsmap.errors import InputError
from hsmap.io import TableWriter
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.report_draft import ReportDraft
from hsmap.review_list import lines_path

REPORT_DRAFT_FORMATS = (".xlsx", ".csv", ".docx")


def write_report_draft(draft: ReportDraft, path: Path | str, kb: Knowledge | None = None) -> list[Path]:
    """Write the draft; returns the files written (two for .csv)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in REPORT_DRAFT_FORMATS:
        shown = suffix or "a file without suffix"
        raise InputError(str(path), None, None, f"cannot write {shown!r} (use {', '.join(REPORT_DRAFT_FORMATS)})")
    if not path.parent.exists():
        raise InputError(str(path), None, None, f"folder {path.parent} does not exist")
    if suffix == ".csv":
        with ExitStack() as stack:  # both files, or neither
            report = stack.enter_context(TableWriter(path))
            lines = stack.enter_context(TableWriter(lines_path(path)))
            report.write(draft.report)
            lines.write(draft.lines)
        return [path, lines_path(path)]
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        if suffix == ".xlsx":
            from hsmap.render.report_draft_xlsx import write_report_draft_xlsx

            write_report_draft_xlsx(draft, temporary)
        else:
            from hsmap.render.report_draft_docx import write_report_draft_docx

            write_report_draft_docx(draft, temporary, kb or load_knowledge())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return [path]
