"""Values in one currency: rate tables, conversion factors, the target currency and converting both sides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hsmap.errors import InputError
from hsmap.io import read_table


def normalise_rates(rates: pd.DataFrame | None, file: str = "rate table") -> pd.DataFrame:
    """A rate table with columns ``year`` (0 = any year), ``from``, ``to``, ``rate``; InputError if malformed."""
    if rates is None or rates.empty:
        return pd.DataFrame({"year": pd.Series(dtype="int64"), "from": [], "to": [], "rate": []})
    columns = {str(name).strip().lower(): name for name in rates.columns}
    missing = [name for name in ("from", "to", "rate") if name not in columns]
    if missing:
        raise InputError(
            file,
            1,
            None,
            f"a rate table needs the columns from, to, rate (and optionally year); missing: {', '.join(missing)}",
        )
    table = pd.DataFrame(
        {
            "year": pd.to_numeric(rates[columns["year"]], errors="coerce").fillna(0).astype("int64")
            if "year" in columns
            else 0,
            "from": rates[columns["from"]].astype("str").str.strip().str.upper(),
            "to": rates[columns["to"]].astype("str").str.strip().str.upper(),
            "rate": pd.to_numeric(rates[columns["rate"]], errors="coerce"),
        }
    )
    bad = table["rate"].isna() | (table["rate"] <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError(file, row, str(columns["rate"]), "the rate must be a number above 0")
    bad_code = ~table["from"].str.fullmatch(r"[A-Z]{3}") | ~table["to"].str.fullmatch(r"[A-Z]{3}")
    if bad_code.any():
        row = int(np.flatnonzero(bad_code.to_numpy())[0]) + 2
        raise InputError(file, row, None, "from and to must be ISO 4217 currency codes such as EUR or USD")
    return table


def conversion_factors(pairs: pd.DataFrame, target: str, rates: pd.DataFrame) -> pd.Series:
    """Factor turning an amount in ``currency`` (of ``year``) into ``target``: 1 for the same currency, a rate
    of that year, else a rate without a year, else the inverse of the opposite rate; NaN when none is known."""
    lookup: dict[tuple[int, str, str], float] = {}
    for year, source, dest, rate in rates[["year", "from", "to", "rate"]].itertuples(index=False):
        lookup.setdefault((int(year), dest, source), 1.0 / rate)
    for year, source, dest, rate in rates[["year", "from", "to", "rate"]].itertuples(index=False):
        lookup[(int(year), source, dest)] = rate  # a direct rate wins over an inverted one

    def factor(year: int, currency: str) -> float:
        if currency == target:
            return 1.0
        for key in ((year, currency, target), (0, currency, target)):
            if key in lookup:
                return lookup[key]
        return float("nan")

    distinct = pairs[["year", "currency"]].drop_duplicates()
    factors = {
        (int(year), str(currency)): factor(int(year), str(currency))
        for year, currency in distinct.itertuples(index=False)
    }
    keys = list(zip(pairs["year"].astype("int64"), pairs["currency"].astype("str"), strict=True))
    return pd.Series([factors[key] for key in keys], index=pairs.index, dtype="float64")


# --- the result ---------------------------------------------------------------------------------------------------


def read_rates(path: Path | str) -> pd.DataFrame:
    """A rate table from .csv or .xlsx (columns from, to, rate, optional year)."""
    path = Path(path)
    return normalise_rates(read_table(path), file=str(path))


def target_currency(wanted: str | None, rep: pd.DataFrame, parts: pd.DataFrame) -> str:
    """The one currency values are compared in: asked for, else the report's most common, else customs'."""
    if wanted:
        return wanted.strip().upper()
    report_currencies = rep.loc[rep["value"].notna() & rep["currency"].ne(""), "currency"]
    if len(report_currencies):
        return str(report_currencies.value_counts().index[0])
    with_values = parts[(parts["value_lines"] > 0) & parts["currency"].ne("")]
    if len(with_values):
        return str(with_values.groupby("currency")["value_lines"].sum().idxmax())
    return ""


def convert_customs(cells: pd.DataFrame, target: str, rates: pd.DataFrame) -> pd.DataFrame:
    cells = cells.copy()
    factor = conversion_factors(cells, target, rates) if len(cells) else pd.Series(dtype="float64")
    has_value = cells["value_lines"] > 0
    cells["value_cmp"] = (cells["value"] * factor).where(has_value, 0.0).fillna(0.0)
    cells["unconvertible_lines"] = np.where(has_value & factor.isna(), cells["value_lines"], 0)
    return cells


def convert_report(rows: pd.DataFrame, target: str, rates: pd.DataFrame) -> pd.DataFrame:
    rows = rows.copy()
    factor = conversion_factors(rows, target, rates) if len(rows) else pd.Series(dtype="float64")
    rows["value_cmp"] = rows["value"] * factor
    rows["unconvertible"] = (rows["value"].notna() & factor.isna()).astype("int64")
    rows["bad_currency"] = rows["currency"].where(rows["unconvertible"] > 0, "")
    return rows
