"""Check the other fields of a declaration line (quantity, value, unit, currency, date, partner) and say what
is wrong with each, so a bad cell flags its row instead of being dropped, changed or guessed.

The fields are found by the names customs systems and UN Comtrade use (``hsmap.customs``), and read with the
same parsers the reconciliation uses, so a cell flagged here is a cell the reconciliation could not use.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


_PLAIN_NUMBER = r"^\d+(\.\d+)?$"


def _amount_problems(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(unreadable, negative) masks of an amount column. Plain non-negative numbers — nearly every cell — are
    recognised in one Arrow pass; only the rest go through the full parser."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return pd.Series(False, index=values.index), values.lt(0).fillna(False)
    text = pc.utf8_trim_whitespace(pc.fill_null(pa.array(values.astype("str"), type=pa.string()), ""))
    plain = pd.Series(
        pc.or_(pc.match_substring_regex(text, _PLAIN_NUMBER), pc.equal(text, "")).to_numpy(zero_copy_only=False),
        index=values.index,
    )
    unreadable = pd.Series(False, index=values.index)
    negative = pd.Series(False, index=values.index)
    if not plain.all():
        numbers, bad = parse_amounts(values[~plain])
        unreadable[~plain] = bad.to_numpy()
        negative[~plain] = numbers.lt(0).fillna(False).to_numpy()
    return unreadable, negative


def _per_distinct(values: pd.Series, check: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Run a column check once per distinct value and spread the answer over the rows."""
    codes, uniques = pd.factorize(values)
    answers = check(pd.Series(uniques, dtype=values.dtype)).to_numpy()
    return pd.Series(np.append(answers, False)[codes], index=values.index)


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
            unreadable, negative = _amount_problems(frame[column])
            flags = _append(flags, unreadable, bad_flag)
            flags = _append(flags, negative, negative_flag)
    if columns is not None and columns.unit is not None:
        flags = _append(flags, _per_distinct(frame[columns.unit], _unknown_units), "unknown-unit")
    if columns is not None and columns.currency is not None:
        flags = _append(flags, _per_distinct(frame[columns.currency], _unknown_currencies), "unknown-currency")
    if columns is not None and columns.date is not None:
        flags = _append(flags, _per_distinct(frame[columns.date], _bad_dates), "bad-date")
    if columns is not None and columns.partner is not None:
        codes, uniques = pd.factorize(frame[columns.partner], use_na_sentinel=False)
        status = _partner_status(pd.Series(uniques, dtype=object)).to_numpy()[codes]
        flags = _append(flags, pd.Series(status == "blank", index=frame.index), "blank-partner")
        flags = _append(flags, pd.Series(status == "unknown", index=frame.index), "unknown-partner")
    return flags


def _partner_status(values: pd.Series) -> pd.Series:
    return normalize_partners(values)["partner_status"].set_axis(values.index)


def _unknown_units(values: pd.Series) -> pd.Series:
    kind, _ = parse_units(values)
    return (cell_text(values) != "") & kind.str.startswith("other:")


def _unknown_currencies(values: pd.Series) -> pd.Series:
    text = cell_text(values).str.upper()
    return (text != "") & ~text.isin(_currencies())


def _bad_dates(values: pd.Series) -> pd.Series:
    years, _ = parse_dates(values)
    return (cell_text(values) != "") & years.eq(0)


_PROBLEM = "(?:^|;)(?:" + "|".join(VALUE_FLAGS) + ")(?:;|$)"


def has_input_problem(flags: pd.Series) -> pd.Series:
    """Which rows carry a flag saying an input cell is wrong."""
    return flags.str.contains(_PROBLEM, regex=True, na=False)


def merge_flags(first: pd.Series, second: pd.Series) -> pd.Series:
    """Two ``;``-joined flag columns as one."""
    both = (first != "") & (second != "")
    return (first + second.where(~both, ";" + second)).astype("str")
