"""Documents hsmap writes for people: draft HS amendment proposals as .md, .docx or .xlsx (here and in the
``proposal_*`` modules) and reconciliation reports (``reconcile_xlsx``, ``reconcile_html``).

:func:`write_draft` picks the format from the file's suffix and writes through a temporary file that is
renamed only when the document is complete (:mod:`hsmap.outputs`), so a failed run never leaves half a
document behind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hsmap.errors import InputError
from hsmap.outputs import write_atomically
from hsmap.render.draft import Draft, build_draft
from hsmap.render.proposal_md import render_markdown

FORMATS = (".md", ".docx", ".xlsx")

__all__ = ["FORMATS", "Draft", "build_draft", "render_markdown", "write_draft"]


def _writer(suffix: str) -> Callable[[Draft, Path], None]:
    if suffix == ".md":
        return lambda draft, path: path.write_text(render_markdown(draft), encoding="utf-8")
    if suffix == ".docx":
        from hsmap.render.proposal_docx import write_docx

        return write_docx
    from hsmap.render.proposal_xlsx import write_xlsx

    return write_xlsx


def write_draft(draft: Draft, path: Path | str) -> Path:
    """Write the draft in the format its suffix names (.md, .docx, .xlsx); returns the path written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            str(path), None, None, f"cannot write {suffix or 'a file without suffix'!r} (use .md, .docx or .xlsx)"
        )
    return write_atomically(path, lambda partial: _writer(suffix)(draft, partial))
