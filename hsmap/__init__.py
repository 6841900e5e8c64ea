"""hsmap: ATT Art. 2(1) arms categories ↔ WCO HS codes — look up, classify customs lines, reconcile reports.

The public API is small; each function lives in a module of one job (see the module docstrings).
"""

from hsmap.classify import classify
from hsmap.codes import normalize_code, normalize_codes
from hsmap.errors import HsmapError, InputError, InvalidCode
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.lookup import categories_for_code, codes_for_category, correlate, describe_code, lookup_codes

__all__ = [
    "HsmapError",
    "InputError",
    "InvalidCode",
    "Knowledge",
    "categories_for_code",
    "classify",
    "codes_for_category",
    "correlate",
    "describe_code",
    "load_knowledge",
    "lookup_codes",
    "normalize_code",
    "normalize_codes",
]
