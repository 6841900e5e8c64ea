"""The status of one measure (items or value) between an export and an import, in the reconciliation's words.

``compare_measure`` repeats what :mod:`hsmap.reconcile` computes privately; it goes once reconcile offers it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXACT_VALUE = 0.5  # values closer than half a currency unit are equal (as in the reconciliation)
EPSILON = 1e-9


def compare_measure(
    exporter: pd.Series,
    importer: pd.Series,
    comparable: pd.Series,
    informative: pd.Series,
    tolerance: float,
    exact: float,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(status, export − import, relative to import) of one measure, with the reconciliation's statuses.

    ``""`` where neither side gives the measure, ``not-comparable`` where only one does (or in another
    currency), else ``match`` (within ``exact``), ``within-tolerance`` or ``mismatch``.
    """
    diff = (exporter - importer).where(comparable)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = diff / importer.where(importer != 0)
    rel = rel.mask(comparable & (importer == 0) & (diff.abs() <= exact), 0.0)
    equal = diff.abs() <= exact
    within = rel.abs() <= tolerance + EPSILON
    status = np.select(
        [~comparable & informative, ~comparable, equal, within],
        ["not-comparable", "", "match", "within-tolerance"],
        default="mismatch",
    )
    return pd.Series(status, index=exporter.index, dtype="str"), diff, rel
