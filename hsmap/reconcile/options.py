"""How strict a reconciliation is and how money is compared: the one settings object every step reads."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class ReconcileOptions:
    """How strict the comparison is and how money is compared.

    ``tolerance`` (relative, e.g. 0.1 = 10 %) applies to items and, unless ``value_tolerance`` is given, to
    values. ``currency`` is the one currency values are compared in (default: the report's most common).
    ``rates`` has columns ``from``, ``to``, ``rate`` (1 ``from`` = ``rate`` ``to``) and optionally ``year``.
    """

    tolerance: float = 0.0
    value_tolerance: float | None = None
    currency: str | None = None
    rates: pd.DataFrame | None = None
    include_re_exports: bool = True

    @property
    def value_tol(self) -> float:
        return self.tolerance if self.value_tolerance is None else self.value_tolerance
