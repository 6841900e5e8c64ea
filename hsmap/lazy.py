"""Package namespaces whose names are imported on first use (PEP 562).

``import hsmap`` and ``import hsmap.store`` then cost nothing until a name is used, so a command imports only
what it needs (``hsmap --help`` no pandas, ``hsmap classify`` no DuckDB) while ``hsmap.classify(...)`` and
``hsmap.store.Store(...)`` keep working as public API.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_namespace(package: str, homes: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: each public name in ``homes`` (name → the module that
    defines it, or ``module:name`` where it is defined under another name) is imported on first use, and any
    other name is tried as a submodule (``hsmap.io``)."""

    def __getattr__(name: str) -> Any:
        if name in homes:
            module, _, defined = homes[name].partition(":")
            return getattr(importlib.import_module(module), defined or name)
        if not name.startswith("__"):
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as error:
                if error.name != f"{package}.{name}":
                    raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(homes)

    return __getattr__, __dir__
