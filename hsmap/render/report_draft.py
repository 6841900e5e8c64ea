"""Write a draft ATT annual report in the format its file name asks for: .xlsx (the report sheet and the lines
behind it), .csv (the report table in hsmap's report schema, and beside it ``<name>.lines.csv``: every line
looked at with its decision) or .docx (a document to read). Every file is written as ``NAME.hsmap-partial`` and
renamed onto its target only when complete (:mod:`hsmap.outputs`); the two files of a .csv draft are both
complete before either replaces its target, so a failed run leaves the earlier pair as it was.
"""

from __future__ import annotations

from pathlib import Path

from hsmap.errors import InputError
from hsmap.io import TableWriter
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.outputs import write_atomically
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
    if suffix == ".csv":
        with TableWriter(path) as report, TableWriter(lines_path(path)) as lines:
            report.write(draft.report)
            lines.write(draft.lines)
            report.finish()
            lines.finish()
        return [path, lines_path(path)]
    if suffix == ".xlsx":
        from hsmap.render.report_draft_xlsx import write_report_draft_xlsx

        return [write_atomically(path, lambda partial: write_report_draft_xlsx(draft, partial))]
    from hsmap.render.report_draft_docx import write_report_draft_docx

    known = kb or load_knowledge()
    return [write_atomically(path, lambda partial: write_report_draft_docx(draft, partial, known))]
