"""The category level each side is compared at: never below the report's finest level, and within a partner
at the coarsest category either side gives."""

from __future__ import annotations

import pandas as pd

from hsmap.reconcile.categories import CategoryTree


def capped_categories(cells: pd.DataFrame, rep: pd.DataFrame, tree: CategoryTree) -> pd.Series:
    """Customs categories no finer than the finest level the report uses in that tree, year and flow."""
    if cells.empty:
        return pd.Series(dtype="str", index=cells.index)
    with_category = rep[rep["category"].ne("")]
    finest = (
        with_category.assign(depth=with_category["category"].map(tree.depth))
        .groupby(["year", "flow", "top"])["depth"]
        .max()
        .to_dict()
    )
    distinct = cells[["year", "flow", "category"]].drop_duplicates()
    capped = {}
    for year, flow, category in distinct.itertuples(index=False):
        level = finest.get((year, flow, tree.top[category]))
        deeper = level is not None and tree.depth[category] > level
        capped[(year, flow, category)] = tree.at_depth(category, level) if deeper else category
    keys = zip(cells["year"], cells["flow"], cells["category"], strict=True)
    return pd.Series([capped[key] for key in keys], index=cells.index, dtype="str")


def comparison_levels(cells: pd.DataFrame, compare_rows: pd.DataFrame, tree: CategoryTree) -> pd.DataFrame:
    """Per (year, flow, partner): each category → the coarsest category of the same branch either side gives.

    Both sides' categories form a set S per partner; a category is compared at its shallowest ancestor (or
    itself) in S, so ``VIII.SA.4`` and ``VIII.SA.1`` on one side meet ``VIII.SA`` on the other at ``VIII.SA``.
    """
    on = ["year", "flow", "partner_key"]
    members = pd.concat(
        [
            cells[[*on, "capped"]].rename(columns={"capped": "member"}),
            compare_rows[[*on, "category"]].rename(columns={"category": "member"}),
        ],
        ignore_index=True,
    ).drop_duplicates()
    if members.empty:
        return pd.DataFrame({name: pd.Series(dtype="str") for name in [*on, "member", "cmp"]}).astype({"year": "int64"})
    ancestors = tree.ancestor_table(members["member"]).rename(columns={"category": "member"})
    pairs = members.merge(ancestors, on="member")
    present = members.rename(columns={"member": "ancestor"})
    pairs = pairs.merge(present, on=[*on, "ancestor"])
    best = pairs.sort_values("ancestor_depth", kind="stable").drop_duplicates([*on, "member"])
    return best[[*on, "member", "ancestor"]].rename(columns={"ancestor": "cmp"}).reset_index(drop=True)
