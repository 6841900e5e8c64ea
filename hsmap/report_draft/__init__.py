"""Draft an ATT annual report (Art. 13(3)) from national customs data: customs lines in, a pre-filled report out,
every figure traceable to its declaration lines.

Not to be confused with :mod:`hsmap.render.draft`, the draft HS amendment proposals.

The lines are read and classified as the reconciliation reads them (``collect``); each line gets a decision —
counted, voluntary information (Art. 3 ammunition, Art. 4 parts), or left for review with the kinds of question
it raises (``rules``); counted lines are summed per category and State by the reconciliation's aggregation and
described from the models they name (``describe``, ``build``). The result reads back with
:func:`hsmap.report.read_report`, and a reconciliation of the draft with the same customs data matches every
row it counts (the lines it left for review are excluded there with their reason, :mod:`hsmap.review_list`).
"""

from hsmap.report_draft.build import (
    LINE_TABLE_COLUMNS,
    REPORT_DRAFT_COLUMNS,
    VOLUNTARY_COLUMNS,
    DraftError,
    DraftOptions,
    ReportDraft,
    build_report_draft,
    compact_ids,
    draft_report_files,
)
from hsmap.report_draft.rules import INCLUDABLE, REVIEW_KINDS

__all__ = [
    "INCLUDABLE",
    "LINE_TABLE_COLUMNS",
    "REPORT_DRAFT_COLUMNS",
    "REVIEW_KINDS",
    "VOLUNTARY_COLUMNS",
    "DraftError",
    "DraftOptions",
    "ReportDraft",
    "build_report_draft",
    "compact_ids",
    "draft_report_files",
]
