"""Both sides made ready to compare: each report row's role, and a reason for every customs line that cannot
be compared."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hsmap.customs import partner_keys
from hsmap.reconcile.categories import CategoryTree
from hsmap.reconcile.options import ReconcileOptions


def prepare_report(report: pd.DataFrame, tree: CategoryTree) -> pd.DataFrame:
    """The report rows with their join key, category tree and role in the comparison."""
    rep = report.copy()
    for name in ("category", "partner", "currency", "description", "comments", "state_of_origin"):
        rep[name] = rep[name].fillna("").astype("str")
    rep["reporting_state_iso3"] = rep["reporting_state_iso3"].fillna("").astype("str")
    rep["year"] = rep["year"].astype("int64")
    rep["partner_key"] = partner_keys(rep["partner"], rep).to_numpy()
    rep["top"] = rep["category"].map(tree.top).fillna("").astype("str")
    transfers = rep[~rep["nil_report"]]
    actual = transfers[transfers["basis"] == "actual"].groupby(["year", "flow"]).size()
    bases = {key: "actual" for key in actual.index}
    for key in transfers.groupby(["year", "flow"]).size().index:
        bases.setdefault(key, "authorized")
    rep["cmp_basis"] = [bases.get(key, "actual") for key in zip(rep["year"], rep["flow"], strict=True)]
    ok = rep["partner_status"].astype("str").eq("ok")
    role = np.select(
        [
            rep["nil_report"].to_numpy(),
            (rep["withheld"] & (~ok | rep["category"].eq(""))).to_numpy(),
            (~ok | rep["category"].eq("")).to_numpy(),
            rep["basis"].ne(rep["cmp_basis"]).to_numpy(),
        ],
        ["nil", "withheld", "unresolved", "other-basis"],
        default="compare",
    )
    rep["role"] = role
    return rep


def prepare_partials(
    partials: pd.DataFrame, rep: pd.DataFrame, tree: CategoryTree, options: ReconcileOptions
) -> pd.DataFrame:
    """Map re-exports onto exports, and give a reason to lines the report cannot be compared with."""
    parts = partials.copy()
    parts["re_export_lines"] = np.where(parts["flow"].isin(["re-export", "re-import"]), parts["lines"], 0)
    reason = parts["exclusion"].astype("str")

    def mark(mask: pd.Series, text: pd.Series | str) -> pd.Series:
        return reason.mask(mask & (reason == ""), text)

    re_flows = parts["flow"].isin(["re-export", "re-import"])
    if not options.include_re_exports:
        reason = mark(re_flows, parts["flow"] + " (left out by --no-re-exports)")
    parts["flow"] = parts["flow"].replace({"re-export": "export", "re-import": "import"})
    states = set(rep["reporting_state_iso3"]) - {""}
    if states:
        other = parts["reporter_iso3"].ne("") & ~parts["reporter_iso3"].isin(states)
        reason = mark(other, "reporter " + parts["reporter_iso3"] + " is not the reporting State of the report")
    unknown = parts["category"].ne("") & ~parts["category"].isin(tree.ids)
    reason = mark(unknown, "unknown ATT category '" + parts["category"] + "'")
    covered = set(zip(rep["year"], rep["flow"], strict=True))
    keys = pd.Series(list(zip(parts["year"], parts["flow"], strict=True)), index=parts.index, dtype=object)
    outside = ~keys.isin(covered) & parts["flow"].ne("")
    reason = mark(outside, "the report has no " + parts["flow"] + " rows for " + parts["year"].astype("str"))
    parts["exclusion"] = reason.astype("str")
    parts["top"] = parts["category"].map(tree.top).fillna("").astype("str")
    return parts
