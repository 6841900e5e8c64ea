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

from hsmap.countries import load_partner_index
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


_BIT = {flag: np.uint16(1 << position) for position, flag in enumerate(VALUE_FLAGS)}
_PLAIN_NUMBER = r"^\d+(\.\d+)?$"


def _amount_problems(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(unreadable, negative) masks of an amount column. Nearly every cell is a plain number: Arrow's cast
    to float settles them all at once (or, when some cell is not, a plain-number regex settles the rest);
    only what neither settles goes through the full parser."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        return np.isinf(numbers), values.lt(0).fillna(False).to_numpy(dtype=bool) & ~np.isinf(numbers)
    text = pc.fill_null(pa.array(values.astype("str")), "")
    blank = pc.equal(text, "")
    numbers = np.zeros(len(values))
    try:
        numbers = pc.cast(pc.if_else(blank, pa.scalar(None, text.type), text), pa.float64()).to_numpy(
            zero_copy_only=False
        )
        settled = np.isfinite(numbers) | blank.to_numpy(zero_copy_only=False)  # "nan", "inf": the parser says
    except pa.ArrowInvalid:  # "1,250", " 12": not every cell is a plain number
        plain = pc.match_substring_regex(pc.utf8_trim_whitespace(text), _PLAIN_NUMBER)
        settled = pc.or_(plain, blank).to_numpy(zero_copy_only=False)
    unreadable = np.zeros(len(values), dtype=bool)
    negative = np.where(settled, numbers < 0, False)
    if not settled.all():
        parsed, bad = parse_amounts(values[~settled])
        unreadable[~settled] = bad.to_numpy(dtype=bool)
        negative[~settled] = parsed.lt(0).fillna(False).to_numpy(dtype=bool)
    return unreadable, negative


def _distinct_problems(values: pd.Series, check: Callable[[pd.Series], np.ndarray]) -> np.ndarray | None:
    """Run a column check (distinct values → problem bits) once per distinct value — and once per process,
    since verdicts are remembered across chunks; the bits of every row, or None when no value has a problem
    (the common case: then no pass over the rows)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    keys = [_memo_key(value) for value in uniques.tolist()]
    memo = _VERDICTS.setdefault(check.__name__, {})
    if len(memo) > _VERDICTS_LIMIT:  # a new dict, not a cleared one: a thread may still read the old
        memo = _VERDICTS[check.__name__] = {}
    fresh = [key for key in dict.fromkeys(keys) if key not in memo]
    if fresh:
        memo.update(zip(fresh, check(pd.Series(fresh, dtype=object)).tolist(), strict=True))
    bits = np.fromiter((memo[key] for key in keys), dtype=np.uint16, count=len(keys))
    return bits[codes] if bits.any() else None


_VERDICTS: dict[str, dict[object, int]] = {}  # check → value → problem bits, shared by every chunk
_VERDICTS_LIMIT = 1 << 16


def _memo_key(value: object) -> object:
    """Missing values of every kind (None, NaN, pd.NA) as one key; others as themselves."""
    return None if value is None or value is pd.NA or (isinstance(value, float) and value != value) else value


def _is_date(values: pd.Series) -> bool:
    """A typed date column (from Parquet): every cell is a date, so none can be a bad one."""
    kind = values.dtype
    return pd.api.types.is_datetime64_any_dtype(kind) or (
        isinstance(kind, pd.ArrowDtype) and pa.types.is_temporal(kind.pyarrow_dtype)
    )


def value_problems(frame: pd.DataFrame, file: str = "") -> np.ndarray:
    """Per row, the problems of its quantity, value, unit, currency, date and partner cells as a bit mask
    (bit ``i`` for ``VALUE_FLAGS[i]``): cheap to combine with the classification's decisions, and read out
    once per distinct mask by :func:`describe_problems`. Zero where the row has none or the file has no
    such column."""
    problems = np.zeros(len(frame), dtype=np.uint16)
    try:
        columns = detect_customs_columns([str(column) for column in frame.columns], file)
    except InputError:  # no partner or code column: nothing of this kind to check
        return problems
    for field, bad_flag, negative_flag in (
        ("quantity", "bad-quantity", "negative-quantity"),
        ("value", "bad-value", "negative-value"),
    ):
        if (column := getattr(columns, field)) is not None:
            unreadable, negative = _amount_problems(frame[column])
            problems[unreadable] |= _BIT[bad_flag]
            problems[negative] |= _BIT[negative_flag]
    for column, check in (
        (columns.unit, _unit_problems),
        (columns.currency, _currency_problems),
        (None if columns.date is None or _is_date(frame[columns.date]) else columns.date, _date_problems),
        (columns.partner, _partner_problems),
    ):
        if column is not None and (found := _distinct_problems(frame[column], check)) is not None:
            problems |= found
    return problems


def describe_problems(masks: np.ndarray) -> list[str]:
    """Bit masks of :func:`value_problems` as ``;``-joined flags (call it on distinct masks)."""
    return [";".join(flag for flag in VALUE_FLAGS if mask & _BIT[flag]) for mask in masks.tolist()]


def _bits(failing: pd.Series, flag: str) -> np.ndarray:
    return np.where(failing.to_numpy(dtype=bool), _BIT[flag], np.uint16(0)).astype(np.uint16)


def _partner_problems(values: pd.Series) -> np.ndarray:
    index = load_partner_index()
    status = pd.Series(["blank" if value is None else index.resolve(value).status for value in values], dtype=object)
    return _bits(status == "blank", "blank-partner") | _bits(status == "unknown", "unknown-partner")


def _unit_problems(values: pd.Series) -> np.ndarray:
    kind, _ = parse_units(values)
    return _bits((cell_text(values) != "") & kind.str.startswith("other:"), "unknown-unit")


def _currency_problems(values: pd.Series) -> np.ndarray:
    text = cell_text(values).str.upper()
    return _bits((text != "") & ~text.isin(_currencies()), "unknown-currency")


def _date_problems(values: pd.Series) -> np.ndarray:
    years, _ = parse_dates(values)
    return _bits((cell_text(values) != "") & years.eq(0), "bad-date")


_PROBLEM = "(?:^|;)(?:" + "|".join(VALUE_FLAGS) + ")(?:;|$)"


def has_input_problem(flags: pd.Series) -> pd.Series:
    """Which rows carry a flag saying an input cell is wrong."""
    return flags.str.contains(_PROBLEM, regex=True, na=False)


def merge_flags(first: pd.Series, second: pd.Series) -> pd.Series:
    """Two ``;``-joined flag columns as one."""
    both = (first != "") & (second != "")
    return (first + second.where(~both, ";" + second)).astype("str")
