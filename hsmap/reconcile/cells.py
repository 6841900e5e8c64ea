"""Comparison cells: customs partials and report rows summed per (year, flow, partner, category) and joined
into one table with a default for every column."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from hsmap.knowledge import Knowledge
from hsmap.reconcile.aggregate import FIRSTS, SUMS
from hsmap.reconcile.money import convert_report


def joined(values: Iterable[object], limit: int = 6) -> str:
    unique = list(dict.fromkeys(str(value) for value in values if str(value) not in ("", "nan")))
    return ", ".join(unique[:limit]) + (f" … (+{len(unique) - limit})" if len(unique) > limit else "")


def _shared_codes(kb: Knowledge) -> list[tuple[str, str]]:
    """(code digits, top-level category) of every link a civilian good shares (``att_hs.csv``)."""
    shared = kb.links[kb.links["relation"] == "shared-civil"]
    tops = {cid: kb.top_level(cid) for cid in kb.categories}
    return sorted(
        {
            (str(code).replace(".", ""), tops[category])
            for code, category in zip(shared["code"], shared["category"], strict=True)
        }
    )


def sum_customs_cells(cells: pd.DataFrame, kb: Knowledge) -> pd.DataFrame:
    """Customs partials summed per comparison cell, with the codes, categories and units they came from."""
    keys = ["year", "flow", "partner_key", "cmp"]
    if cells.empty:
        return pd.DataFrame({name: pd.Series(dtype="int64" if name == "year" else "str") for name in keys})
    shared = _shared_codes(kb)
    distinct = cells[["hs6", "top"]].drop_duplicates()
    shared_pairs = {
        (hs6, top)
        for hs6, top in distinct.itertuples(index=False)
        if any(str(hs6).replace(".", "").startswith(code) and top == code_top for code, code_top in shared)
    }
    cells = cells.assign(
        undecided_code=cells["hs6"].where(cells["undecided"] != "", ""),
        shared_code=[
            hs6 if ((hs6, top) in shared_pairs or lines > 0) else ""
            for hs6, top, lines in zip(cells["hs6"], cells["top"], cells["shared_civil_lines"], strict=True)
        ],
        other_unit=cells["unit"].where(cells["unit"].str.startswith("other:"), "").str.slice(6),
        bad_currency=cells["currency"].where(cells["unconvertible_lines"] > 0, ""),
    )
    sums = [name for name in SUMS if name != "value"] + ["value_cmp", "unconvertible_lines", "re_export_lines"]
    grouped = cells.groupby(keys, sort=False)
    out = grouped[sums].sum()
    out["first_row"] = grouped["first_row"].min()
    for name in FIRSTS:
        out[name] = grouped[name].first()
    by_code = cells.groupby([*keys, "hs6"], sort=False)["lines"].sum().reset_index()
    by_code = by_code.sort_values([*keys, "lines", "hs6"], ascending=[True] * 4 + [False, True])
    out["hs_codes"] = by_code.groupby(keys, sort=False)["hs6"].agg(
        lambda codes: joined(c or "(no code)" for c in codes)
    )
    out["hs_lines"] = by_code.groupby(keys, sort=False).apply(
        lambda frame: ", ".join(
            f"{code or '(no code)'} ({lines})" for code, lines in zip(frame["hs6"], frame["lines"], strict=True)
        ),
        include_groups=False,
    )
    out["customs_categories"] = grouped["category"].agg(joined)
    out["other_units"] = grouped["other_unit"].agg(joined)
    out["shared_codes"] = grouped["shared_code"].agg(joined)
    out["undecided_codes"] = grouped["undecided_code"].agg(joined)
    out["bad_currencies"] = grouped["bad_currency"].agg(joined)
    out = out.rename(columns={name: f"c_{name}" for name in out.columns})
    return out.reset_index()


def sum_report_cells(rows: pd.DataFrame, target: str, rates: pd.DataFrame) -> pd.DataFrame:
    """Report rows summed per comparison cell."""
    keys = ["year", "flow", "partner_key", "cmp"]
    if rows.empty:
        return pd.DataFrame({name: pd.Series(dtype="int64" if name == "year" else "str") for name in keys})
    rows = convert_report(rows, target, rates)
    grouped = rows.groupby(keys, sort=False)
    by_category = rows.groupby([*keys, "category"], sort=False).agg(
        items=("items", lambda items: items.sum() if items.notna().all() else np.nan),
        source_rows=("source_row", lambda numbers: ", ".join(str(n) for n in numbers)),
    )
    by_category["part"] = [
        f"{category} {'without a number' if pd.isna(items) else f'{items:,.0f}'}, row{'s' if ',' in at else ''} {at}"
        for (*_, category), items, at in zip(
            by_category.index, by_category["items"], by_category["source_rows"], strict=True
        )
    ]
    out = pd.DataFrame(
        {
            "rows": grouped.size(),
            "source_rows": grouped["source_row"].agg(lambda numbers: ", ".join(str(n) for n in numbers)),
            "items": grouped["items"].sum(min_count=1).astype("float64"),
            "items_missing": grouped["items"].agg(lambda items: int(items.isna().sum())),
            "value": grouped["value_cmp"].sum(min_count=1),
            "value_missing": grouped["value"].agg(lambda values: int(values.isna().sum())),
            "unconvertible": grouped["unconvertible"].sum(),
            "bad_currencies": grouped["bad_currency"].agg(joined),
            "categories": grouped["category"].agg(joined),
            "breakdown": by_category.groupby(level=keys, sort=False)["part"].agg("; ".join),
            "partner": grouped["partner"].first(),
            "descriptions": grouped["description"].agg(lambda texts: joined(texts, 3)),
            "comments": grouped["comments"].agg(lambda texts: " | ".join(dict.fromkeys(t for t in texts if t))),
            "origin": grouped["state_of_origin"].agg(joined),
            "withheld": grouped["withheld"].sum(),
            "basis": grouped["basis"].first(),
            "reporter": grouped["reporting_state_iso3"].first(),
        }
    )
    out = out.rename(columns={name: f"r_{name}" for name in out.columns})
    return out.reset_index()


def special_report_rows(rows: pd.DataFrame, target: str, rates: pd.DataFrame) -> pd.DataFrame:
    """Nil, withheld, unresolved-partner and other-basis report rows: one comparison row each."""
    if rows.empty:
        return pd.DataFrame({"kind": pd.Series(dtype="str")})
    rows = convert_report(rows, target, rates)
    return pd.DataFrame(
        {
            "year": rows["year"].to_numpy(),
            "flow": rows["flow"].to_numpy(),
            "partner_key": rows["partner_key"].to_numpy(),
            "cmp": rows["category"].to_numpy(),
            "kind": rows["role"].to_numpy(),
            "r_rows": 1,
            "r_source_rows": rows["source_row"].astype("str").to_numpy(),
            "r_items": rows["items"].astype("float64").to_numpy(),
            "r_items_missing": rows["items"].isna().astype("int64").to_numpy(),
            "r_value": rows["value_cmp"].to_numpy(),
            "r_value_missing": rows["value"].isna().astype("int64").to_numpy(),
            "r_unconvertible": rows["unconvertible"].to_numpy(),
            "r_bad_currencies": rows["bad_currency"].to_numpy(),
            "r_categories": rows["category"].to_numpy(),
            "r_partner": rows["partner"].to_numpy(),
            "r_descriptions": rows["description"].to_numpy(),
            "r_comments": rows["comments"].to_numpy(),
            "r_origin": rows["state_of_origin"].to_numpy(),
            "r_withheld": rows["withheld"].astype("int64").to_numpy(),
            "r_basis": rows["basis"].to_numpy(),
            "r_reporter": rows["reporting_state_iso3"].to_numpy(),
            "r_note": rows["partner_note"].fillna("").astype("str").to_numpy(),
        }
    )


_COUNT_COLUMNS = [f"c_{name}" for name in SUMS if name != "value"] + [
    "c_value_cmp",
    "c_unconvertible_lines",
    "c_re_export_lines",
    "r_rows",
    "r_items_missing",
    "r_value_missing",
    "r_unconvertible",
    "r_withheld",
]
_TEXT_COLUMNS = [
    "partner_key",
    "cmp",
    "kind",
    "c_partner",
    "c_partner_status",
    "c_partner_note",
    "c_description",
    "c_hs_codes",
    "c_hs_lines",
    "c_customs_categories",
    "c_other_units",
    "c_shared_codes",
    "c_undecided_codes",
    "c_bad_currencies",
    "r_source_rows",
    "r_bad_currencies",
    "r_categories",
    "r_breakdown",
    "r_partner",
    "r_descriptions",
    "r_comments",
    "r_origin",
    "r_basis",
    "r_reporter",
    "r_note",
]


def fill_defaults(table: pd.DataFrame) -> pd.DataFrame:
    for name in _COUNT_COLUMNS:
        table[name] = table[name].fillna(0) if name in table else 0
    for name in _TEXT_COLUMNS:
        table[name] = table[name].fillna("").astype("str") if name in table else ""
    for name in ("r_items", "r_value", "c_first_row"):
        if name not in table:
            table[name] = np.nan
    table["year"] = table["year"].astype("int64")
    table["flow"] = table["flow"].astype("str")
    return table.reset_index(drop=True)
