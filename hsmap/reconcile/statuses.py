"""Statuses: how one measure compares within a tolerance, and the status of each comparison row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hsmap.reconcile.categories import CategoryTree
from hsmap.reconcile.options import ReconcileOptions

STATUSES = ("match", "within-tolerance", "mismatch", "only-customs", "only-report", "not-comparable")
EXACT_VALUE = 0.5  # values closer than half a currency unit are equal
EPSILON = 1e-9


def compare_measure(
    measured: pd.Series,
    reference: pd.Series,
    comparable: pd.Series,
    informative: pd.Series,
    tolerance: float,
    exact: float,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(status, measured − reference, that difference relative to the reference) of one measure.

    The status is ``""`` where the measure is neither comparable nor informative, ``not-comparable`` where it
    is informative only, else ``match`` (within ``exact``), ``within-tolerance`` (relative difference within
    ``tolerance``) or ``mismatch``. Reconciliation compares customs (measured) with the report (reference).
    """
    diff = (measured - reference).where(comparable)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = diff / reference.where(reference != 0)
    rel = rel.mask(comparable & (reference == 0) & (diff.abs() <= exact), 0.0)
    equal = diff.abs() <= exact
    within = rel.abs() <= tolerance + EPSILON
    status = np.select(
        [~comparable & informative, ~comparable, equal, within],
        ["not-comparable", "", "match", "within-tolerance"],
        default="mismatch",
    )
    return pd.Series(status, index=measured.index, dtype="str"), diff, rel


_RANK = {"": 0, "not-comparable": 0, "match": 1, "within-tolerance": 2, "mismatch": 3}
_OF_RANK = {0: "not-comparable", 1: "match", 2: "within-tolerance", 3: "mismatch"}


def assign_statuses(
    table: pd.DataFrame, rep: pd.DataFrame, options: ReconcileOptions, tree: CategoryTree
) -> pd.DataFrame:
    """Each row's items, value and overall status, with the differences (``STATUSES``)."""
    has_c = table["c_lines"] > 0
    has_r = table["r_rows"] > 0
    cell = table["kind"] == "cell"
    resolved = ~table["partner_key"].str.match(r"^[?*]|^$")
    report_tops = set(zip(rep["year"], rep["flow"], rep["top"], strict=True))
    top_reported = pd.Series(
        [key in report_tops for key in zip(table["year"], table["flow"], table["top_category"], strict=True)],
        index=table.index,
    )
    in_scope = table["top_category"].map(tree.in_scope).astype(bool)
    table["out_of_scope"] = cell & table["top_category"].ne("") & ~in_scope & ~top_reported & ~has_r
    both = cell & has_c & has_r & resolved

    items_comparable = both & (table["c_item_lines"] == table["c_lines"]) & (table["r_items_missing"] == 0)
    items_informative = both & ((table["c_item_lines"] > 0) | table["r_items"].notna())
    table["items_status"], table["items_diff"], table["items_rel_diff"] = compare_measure(
        table["c_items"], table["r_items"], items_comparable, items_informative, options.tolerance, EPSILON
    )
    value_comparable = (
        both
        & (table["c_value_lines"] == table["c_lines"])
        & (table["c_unconvertible_lines"] == 0)
        & (table["r_value_missing"] == 0)
        & (table["r_unconvertible"] == 0)
    )
    value_informative = both & ((table["c_value_lines"] > 0) | (table["r_value_missing"] < table["r_rows"]))
    table["value_status"], table["value_diff"], table["value_rel_diff"] = compare_measure(
        table["c_value_cmp"], table["r_value"], value_comparable, value_informative, options.value_tol, EXACT_VALUE
    )
    rank = np.maximum(table["items_status"].map(_RANK), table["value_status"].map(_RANK))
    from_measures = rank.map(_OF_RANK)

    art2 = table[cell & has_c & in_scope & resolved]
    active = set(zip(art2["year"], art2["flow"], strict=True))
    nil_contradicted = pd.Series(
        [key in active for key in zip(table["year"], table["flow"], strict=True)], index=table.index
    )
    status = np.select(
        [
            table["kind"].eq("nil") & nil_contradicted,
            table["kind"].eq("nil"),
            ~cell,
            ~resolved,
            table["out_of_scope"],
            has_c & ~has_r,
            ~has_c & has_r,
        ],
        ["mismatch", "match", "not-comparable", "not-comparable", "not-comparable", "only-customs", "only-report"],
        default=from_measures,
    )
    table["status"] = pd.Series(status, index=table.index, dtype="str")
    return table
