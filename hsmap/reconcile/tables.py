"""The output tables: the comparison, the unmatched lines and rows of each side, the partners and where every
input line went."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hsmap.countries import country_name
from hsmap.reconcile.aggregate import CustomsAggregate
from hsmap.reconcile.categories import CategoryTree

COMPARISON_COLUMNS = (
    "status",
    "year",
    "flow",
    "partner",
    "partner_name",
    "category",
    "category_name",
    "top_category",
    "customs_lines",
    "customs_items",
    "customs_kg",
    "customs_value",
    "report_rows",
    "report_row_count",
    "report_items",
    "report_value",
    "currency",
    "items_status",
    "items_diff",
    "items_rel_diff",
    "value_status",
    "value_diff",
    "value_rel_diff",
    "hs_codes",
    "customs_categories",
    "report_categories",
    "basis",
    "gaps",
    "explanation",
)
_STATUS_ORDER = {
    "mismatch": 0,
    "only-customs": 1,
    "only-report": 2,
    "not-comparable": 3,
    "within-tolerance": 4,
    "match": 5,
}


def comparison_table(table: pd.DataFrame, tree: CategoryTree, currency: str) -> pd.DataFrame:
    """The public comparison table, worst statuses first."""
    resolved = ~table["partner_key"].str.match(r"^[?*]|^$")
    shown_partner = table["partner_key"].where(
        resolved, table["c_partner"].where(table["c_partner"] != "", table["r_partner"])
    )
    names = {key: country_name(key) for key in table["partner_key"].unique()}
    partner_name = table["r_partner"].where(table["r_partner"] != "", table["partner_key"].map(names).fillna(""))
    partner_name = partner_name.where(partner_name != "", table["c_partner"])
    value_known = (table["c_value_lines"] > 0) & (table["c_unconvertible_lines"] < table["c_value_lines"])
    out = pd.DataFrame(
        {
            "status": table["status"],
            "year": table["year"],
            "flow": table["flow"],
            "partner": shown_partner,
            "partner_name": partner_name,
            "category": table["cmp"],
            "category_name": table["cmp"].map(tree.name).fillna(""),
            "top_category": table["top_category"],
            "customs_lines": table["c_lines"].astype("int64"),
            "customs_items": table["c_items"].where(table["c_item_lines"] > 0),
            "customs_kg": table["c_kg"].where(table["c_kg_lines"] > 0),
            "customs_value": table["c_value_cmp"].where(value_known),
            "report_rows": table["r_source_rows"],
            "report_row_count": table["r_rows"].astype("int64"),
            "report_items": table["r_items"],
            "report_value": table["r_value"],
            "currency": currency,
            "items_status": table["items_status"],
            "items_diff": table["items_diff"],
            "items_rel_diff": table["items_rel_diff"].replace([np.inf, -np.inf], np.nan),
            "value_status": table["value_status"],
            "value_diff": table["value_diff"],
            "value_rel_diff": table["value_rel_diff"].replace([np.inf, -np.inf], np.nan),
            "hs_codes": table["c_hs_lines"],
            "customs_categories": table["c_customs_categories"],
            "report_categories": table["r_categories"],
            "basis": table["r_basis"],
            "gaps": table["gaps"],
            "explanation": table["explanation"],
            "cell_id": table["cell_id"],
        }
    )
    order = out["status"].map(_STATUS_ORDER)
    out = out.assign(_order=order).sort_values(["_order", "year", "flow", "partner", "category"], kind="stable")
    return out.drop(columns=["_order"]).reset_index(drop=True)


def _partial_view(parts: pd.DataFrame) -> pd.DataFrame:
    """Partial sums as a reviewer reads them: amounts only where lines gave them."""
    return pd.DataFrame(
        {
            "year": parts["year"],
            "flow": parts["flow"],
            "partner": parts["partner"],
            "partner_key": parts["partner_key"],
            "category": parts["category"],
            "hs6": parts["hs6"],
            "unit": parts["unit"],
            "lines": parts["lines"].astype("int64"),
            "items": parts["items"].where(parts["item_lines"] > 0),
            "kg": parts["kg"].where(parts["kg_lines"] > 0),
            "value": parts["value"].where(parts["value_lines"] > 0),
            "currency": parts["currency"],
            "first_row": parts["first_row"].astype("int64"),
        },
        index=parts.index,
    )


def customs_unmatched_table(cells: pd.DataFrame, excluded: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Customs partial sums that found no report counterpart or could not be compared, and the excluded ones."""
    statuses = table.loc[table["kind"] == "cell", ["year", "flow", "partner_key", "cmp", "status"]]
    linked = cells.merge(statuses, on=["year", "flow", "partner_key", "cmp"], how="left")
    unmatched = linked[linked["status"].isin(["only-customs", "not-comparable"])]
    first = _partial_view(unmatched).assign(
        reason=unmatched["status"].to_numpy(), compared_as=unmatched["cmp"].to_numpy()
    )
    second = _partial_view(excluded).assign(reason=excluded["exclusion"].to_numpy(), compared_as="")
    frames = [frame for frame in (first, second) if len(frame)]
    if not frames:
        return _partial_view(excluded).assign(reason="", compared_as="")
    out = pd.concat(frames, ignore_index=True)
    columns = ["reason", *[name for name in out.columns if name not in ("reason", "compared_as")], "compared_as"]
    return (
        out[columns]
        .sort_values(["reason", "year", "flow", "partner_key", "category", "hs6"], kind="stable")
        .reset_index(drop=True)
    )


def not_att_table(not_att: pd.DataFrame) -> pd.DataFrame:
    view = _partial_view(not_att).drop(columns=["category"])
    return view.sort_values(
        ["lines", "year", "partner_key", "hs6"], ascending=[False, True, True, True], kind="stable"
    ).reset_index(drop=True)


def report_unmatched_table(rep: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The report rows whose comparison row is only-report or not-comparable, with that row's explanation."""
    rows = table.loc[table["status"].isin(["only-report", "not-comparable"]) & (table["r_rows"] > 0)]
    exploded = (
        rows[["r_source_rows", "status", "explanation"]]
        .assign(source_row=rows["r_source_rows"].str.split(", "))
        .explode("source_row")
    )
    exploded["source_row"] = exploded["source_row"].astype("int64")
    columns = [
        "source_row",
        "year",
        "flow",
        "basis",
        "category",
        "partner",
        "partner_iso3",
        "items",
        "value",
        "currency",
        "state_of_origin",
        "description",
        "comments",
        "nil_report",
        "withheld",
    ]
    out = rep[columns].merge(exploded[["source_row", "status", "explanation"]], on="source_row")
    return out[["status", *columns, "explanation"]].sort_values("source_row").reset_index(drop=True)


_PARTNER_ORDER = {"unknown": 0, "special": 1, "blank": 2, "ok": 3}


def partners_table(customs: pd.DataFrame, rep: pd.DataFrame) -> pd.DataFrame:
    """Every partner spelling of both sides with what it was read as; the unresolved ones first."""
    report = (
        rep.assign(partner_iso3=rep["partner_iso3"].fillna(""), partner_note=rep["partner_note"].fillna(""))
        .groupby(["partner", "partner_iso3", "partner_status", "partner_note"], observed=True, dropna=False)
        .size()
        .rename("lines")
        .reset_index()
    )
    frames = [customs.assign(side="customs"), report.assign(side="report")]
    out = pd.concat([frame for frame in frames if len(frame)], ignore_index=True)
    if out.empty:
        return pd.DataFrame(columns=["side", "partner", "partner_iso3", "partner_status", "partner_note", "lines"])
    out["partner_status"] = out["partner_status"].astype("str")
    out = out.assign(_order=out["partner_status"].map(_PARTNER_ORDER).fillna(9))
    out = out.sort_values(["_order", "side", "partner"], kind="stable").drop(columns=["_order"])
    out["lines"] = out["lines"].astype("int64")
    return out[["side", "partner", "partner_iso3", "partner_status", "partner_note", "lines"]].reset_index(drop=True)


def accounting_table(
    customs: CustomsAggregate, excluded: pd.DataFrame, not_att: pd.DataFrame, cells: pd.DataFrame, rep: pd.DataFrame
) -> pd.DataFrame:
    """Where every input line went: the customs lines and report rows add up to what was read."""
    rows: list[tuple[str, str, int]] = [
        ("customs", "lines read", customs.lines),
        ("customs", "in comparison cells (ATT categories)", int(cells["lines"].sum())),
        ("customs", "not classified as ATT items", int(not_att["lines"].sum())),
    ]
    for reason, lines in excluded.groupby("exclusion", sort=True)["lines"].sum().items():
        rows.append(("customs", f"excluded: {reason}", int(lines)))
    rows.append(("report", "rows read", len(rep)))
    names = {
        "compare": "compared in cells",
        "nil": "nil-report rows",
        "withheld": "withheld rows without a partner",
        "unresolved": "rows whose partner is not a State",
        "other-basis": "rows of the other basis (authorised/actual)",
    }
    counts = rep["role"].value_counts()
    rows.extend(("report", label, int(counts.get(role, 0))) for role, label in names.items() if counts.get(role, 0))
    return pd.DataFrame(rows, columns=["side", "what", "count"])
