"""HS amendment proposals that give ATT Art. 2(1) items codes of their own: the file format (:mod:`model`),
the checks a drafting officer relies on (:mod:`validate`, with the definition check of :mod:`definitions`
over the item attributes of :mod:`criteria`), the correlation they imply (:mod:`correlation`) and the
evidence declaration data gives for them (:mod:`evidence`).

:func:`validate_proposal` returns every problem at once, each with the code and the rule it breaks;
:func:`compute_evidence` counts the declaration lines, items, kilograms and value each proposed subheading
would have received.
"""

from hsmap.proposals.correlation import CORRELATION_COLUMNS, correlation_table, wco_table_one, wco_table_two
from hsmap.proposals.definitions import DefinitionCheck, definition_checks, place_items
from hsmap.proposals.evidence import AMBIGUOUS, EVIDENCE_COLUMNS, Evidence, compute_evidence, place_line
from hsmap.proposals.model import (
    Amendment,
    CurrentCode,
    Link,
    NewLine,
    Problem,
    Proposal,
    find_proposal,
    load_proposal,
    shipped_proposals,
)
from hsmap.proposals.validate import (
    current_level,
    errors,
    isolated_categories,
    problems_table,
    validate_proposal,
)

__all__ = [
    "AMBIGUOUS",
    "CORRELATION_COLUMNS",
    "EVIDENCE_COLUMNS",
    "Amendment",
    "CurrentCode",
    "DefinitionCheck",
    "Evidence",
    "Link",
    "NewLine",
    "Problem",
    "Proposal",
    "compute_evidence",
    "correlation_table",
    "current_level",
    "definition_checks",
    "errors",
    "find_proposal",
    "isolated_categories",
    "load_proposal",
    "place_items",
    "place_line",
    "problems_table",
    "shipped_proposals",
    "validate_proposal",
    "wco_table_one",
    "wco_table_two",
]
