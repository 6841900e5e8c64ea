"""hsmap: ATT Art. 2(1) arms categories ↔ WCO HS codes — look up, classify customs lines, reconcile reports.

The public API is small; each function lives in a module of one job (see the module docstrings). Names are
imported on first use (:mod:`hsmap.lazy`): ``import hsmap`` loads none of pandas, pyarrow or DuckDB until a
function that needs them is called. Errors about values given (a code, a category, an edition, a file's
cells) are :class:`ValueError` subclasses, as in python-stdnum; the package is typed (``py.typed``).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

from hsmap.lazy import lazy_namespace

_HOMES = {  # public name → the module that defines it
    "CustomsReading": "hsmap.customs",
    "HsmapError": "hsmap.errors",
    "InputError": "hsmap.errors",
    "InvalidCode": "hsmap.errors",
    "UnknownCategory": "hsmap.errors",
    "UnknownEdition": "hsmap.errors",
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
    "reconcile": "hsmap.reconcile.run:reconcile_files",
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


_FUNCTIONS = ("classify", "reconcile")  # package attributes that are functions of the API, not the subpackages


class _Package(ModuleType):
    """Keeps ``hsmap.classify`` and ``hsmap.reconcile`` the functions of the public API after the subpackages of
    the same names are imported: the import system sets a package's attribute to each submodule it loads, and that
    is not kept, so the name still reaches the function through ``__getattr__``, imported on first use (importing
    one module of a subpackage imports no more of it). ``from hsmap.classify import …`` still reaches the package."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FUNCTIONS and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


class _CheckoutCommandLine:
    """Finds ``hsmap.cli`` in the ``cli/`` folder of a source checkout. The wheel installs that folder as
    ``hsmap/cli`` (pyproject.toml), but a checkout keeps it beside ``hsmap/`` (the project's layout), where tests
    and editable installs import it from: one name, ``hsmap.cli``, however hsmap is run."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        if name != f"{__name__}.cli":
            return None
        from importlib.util import spec_from_file_location

        init = os.path.join(self.folder, "__init__.py")
        return spec_from_file_location(name, init, submodule_search_locations=[self.folder])


_HERE = os.path.dirname(__file__)
_CHECKOUT_CLI = os.path.join(os.path.dirname(_HERE), "cli")
if not os.path.isdir(os.path.join(_HERE, "cli")) and os.path.isfile(os.path.join(_CHECKOUT_CLI, "__init__.py")):
    sys.meta_path.append(_CheckoutCommandLine(_CHECKOUT_CLI))
