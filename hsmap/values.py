"""Check the other fields of a declaration line (quantity, value, unit, currency, date, partner) and say what
is wrong with each, so a bad cell flags its row instead of being dropped, changed or guessed.

The fields are found by the names customs systems and UN Comtrade use (``hsmap.customs``), and read with the
same parsers the reconciliation uses, so a cell flagged here is a cell the reconciliation could not use.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from hsmap.countries import normalize_partners
from hsmap.customs import cell_text, detect_customs_columns, parse_amounts, parse_dates, parse_units
from hsmap.errors import InputError

VALUE_FLAGS = (
    "invalid-code",
    "bad-quantity",
    "negative-quantity",
    "bad-value",
    "negative-value",
    "unknown-unit",
    "unknown-currency",
    "bad-date",
    "blank-partner",
    "unknown-partner",
)
"""Flags that say an input cell is wrong (``--strict`` turns them into an error); the others are findings."""


@cache
def _currencies() -> frozenset[str]:
    import pycountry

    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def _append(flags: pd.Series, mask: pd.Series, flag: str) -> pd.Series:
    if not mask.any():
        return flags
    joined = flags.where(flags == "", flags + ";") + flag
    return flags.mask(mask.to_numpy(), joined)


def value_flags(frame: pd.DataFrame, file: str = "") -> pd.Series:
    """Per row, the problems of its quantity, value, unit, currency, date and partner cells (``;``-joined);
    empty where the row has none or the file has no such column."""
    names = [str(column) for column in frame.columns]
    flags = pd.Series("", index=frame.index, dtype="str")
    try:
        columns = detect_customs_columns(names, file)
    except InputError:  # no partner or code column: nothing of this kind to check
        columns = None
    amounts = (("quantity", "bad-quantity", "negative-quantity"), ("value", "bad-value", "negative-value"))
    for field, bad_flag, negative_flag in amounts:
        column = getattr(columns, field, None) if columns else None
        if column is not None:
            numbers, unreadable = parse_amounts(frame[column])
            flags = _append(flags, unreadable, bad_flag)
            flags = _append(flags, numbers.lt(0).fillna(False), negative_flag)
    if columns is not None and columns.unit is not None:
        text = cell_text(frame[columns.unit])
        kind, _ = parse_units(frame[columns.unit])
        flags = _append(flags, (text != "") & kind.str.startswith("other:"), "unknown-unit")
    if columns is not None and columns.currency is not None:
        text = cell_text(frame[columns.currency]).str.upper()
        flags = _append(flags, (text != "") & ~text.isin(_currencies()), "unknown-currency")
    if columns is not None and columns.date is not None:
        text = cell_text(frame[columns.date])
        years, _ = parse_dates(frame[columns.date])
        flags = _append(flags, (text != "") & years.eq(0), "bad-date")
    if columns is not None and columns.partner is not None:
        status = normalize_partners(frame[columns.partner])["partner_status"].set_axis(frame.index)
        flags = _append(flags, status.eq("blank"), "blank-partner")
        flags = _append(flags, status.eq("unknown"), "unknown-partner")
    return flags


_PROBLEM = "(?:^|;)(?:" + "|".join(VALUE_FLAGS) + ")(?:;|$)"


def has_input_problem(flags: pd.Series) -> pd.Series:
    """Which rows carry a flag saying an input cell is wrong."""
    return flags.str.contains(_PROBLEM, regex=True, na=False)


def merge_flags(first: pd.Series, second: pd.Series) -> pd.Series:
    """Two ``;``-joined flag columns as one."""
    both = (first != "") & (second != "")
    return (first + second.where(~both, ";" + second)).astype("str")
