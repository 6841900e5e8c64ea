"""hsmap: ATT Art. 2(1) arms categories ↔ WCO HS codes — look up, classify customs lines, reconcile reports.

The public API is small; each function lives in a module of one job (see the module docstrings).
"""

from hsmap.classify import classify
from hsmap.codes import normalize_code, normalize_codes
from hsmap.countries import normalize_partners
from hsmap.errors import HsmapError, InputError, InvalidCode
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.lookup import categories_for_code, codes_for_category, correlate, describe_code, lookup_codes
from hsmap.proposals import load_proposal, validate_proposal
from hsmap.reconcile import ReconcileOptions, reconcile_files
from hsmap.report import read_report

__all__ = [
    "HsmapError",
    "InputError",
    "InvalidCode",
    "Knowledge",
    "ReconcileOptions",
    "categories_for_code",
    "classify",
    "codes_for_category",
    "correlate",
    "describe_code",
    "load_knowledge",
    "load_proposal",
    "lookup_codes",
    "normalize_code",
    "normalize_codes",
    "normalize_partners",
    "read_report",
    "reconcile_files",
    "validate_proposal",
]
