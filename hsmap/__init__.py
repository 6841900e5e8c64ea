"""hsmap: ATT Art. 2(1) arms categories ↔ WCO HS codes — look up, classify customs lines, reconcile reports.

The public API is small; each function lives in a module of one job (see the module docstrings). Names are
imported on first use (:mod:`hsmap.lazy`): ``import hsmap`` loads none of pandas, pyarrow or DuckDB until a
function that needs them is called.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from hsmap.lazy import lazy_namespace

_HOMES = {  # public name → the module that defines it
    "HsmapError": "hsmap.errors",
    "InputError": "hsmap.errors",
    "InvalidCode": "hsmap.errors",
    "Knowledge": "hsmap.knowledge",
    "ReconcileOptions": "hsmap.reconcile",
    "categories_for_code": "hsmap.lookup",
    "classify": "hsmap.classify",
    "codes_for_category": "hsmap.lookup",
    "correlate": "hsmap.lookup",
    "describe_code": "hsmap.lookup",
    "load_knowledge": "hsmap.knowledge",
    "load_proposal": "hsmap.proposals",
    "lookup_codes": "hsmap.lookup",
    "normalize_code": "hsmap.codes",
    "normalize_codes": "hsmap.codes",
    "normalize_partners": "hsmap.countries",
    "read_report": "hsmap.report",
    "reconcile_files": "hsmap.reconcile",
    "validate_proposal": "hsmap.proposals",
}
__all__ = sorted(_HOMES)
_public, __dir__ = lazy_namespace(__name__, _HOMES)


def __getattr__(name: str) -> Any:
    if name == "__version__":  # from the installed distribution: one place to bump it
        from importlib.metadata import version

        return version("hsmap")
    return _public(name)


class _Package(ModuleType):
    """Keeps ``hsmap.classify`` the function, as the public API has always had it, after the module of the same
    name is imported (the import system sets a package's attribute to each submodule it loads)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "classify" and isinstance(value, ModuleType):
            value = value.classify
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
