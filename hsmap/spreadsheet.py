"""What a spreadsheet may be given: text that cannot run as a formula, and only types a sheet can hold.

A CSV or XLSX output is opened in a spreadsheet, where a cell (or a column name) starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return may run as a formula: such text gets a leading ``'``; numbers stay
numbers. Values a sheet cannot hold are converted rather than refused: category columns are decoded, nested
values (lists, structs, maps) and bytes become JSON text, and for .xlsx, which knows no time zones,
time-zone-aware timestamps become UTC wall-clock times with ``(UTC)`` added to the column's name.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hsmap.arrow_strings import string_bytes

_FORMULA_CHARACTERS = "=+-@\t\r"  # what a spreadsheet formula may begin with
_FORMULA_START = re.compile(f"^[{re.escape(_FORMULA_CHARACTERS)}]")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_RISKY_FIRST_BYTE = np.zeros(256, dtype=bool)
_RISKY_FIRST_BYTE[[ord(c) for c in _FORMULA_CHARACTERS]] = True


def safe_text(text: str) -> str:
    """One piece of text (a column name, a cell) as a spreadsheet shows it without running it."""
    return "'" + text if _FORMULA_START.match(text) and not _NUMBER.match(text) else text


def _starts_risky(chunk: pa.Array) -> np.ndarray:
    """Which cells of a string array begin with a byte a formula may begin with, read straight from its
    offsets and data buffers (one gather per column, where a regex would scan every cell)."""
    offsets, data = string_bytes(chunk)
    if data.size == 0:  # no cell has a byte
        return np.zeros(len(chunk), dtype=bool)
    starts = offsets[:-1]
    risky = _RISKY_FIRST_BYTE[data[np.minimum(starts, len(data) - 1)]] & (offsets[1:] > starts)
    if chunk.null_count:
        risky &= chunk.is_valid().to_numpy(zero_copy_only=False)
    return risky


def neutralise_arrow(table: pa.Table) -> pa.Table:
    """``neutralise_formulas`` on an Arrow table's text cells: a first-byte test over every cell, the number
    test only on the cells that failed it."""
    for position, column in enumerate(table.schema):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        values = table.column(position)
        risky = np.concatenate([_starts_risky(chunk) for chunk in values.chunks] or [np.zeros(0, dtype=bool)])
        if not risky.any():
            continue
        suspects = np.flatnonzero(risky)
        numbers = pc.match_substring_regex(values.take(suspects), _NUMBER.pattern).to_numpy(zero_copy_only=False)
        risky[suspects[numbers]] = False
        quoted = pc.binary_join_element_wise(pa.scalar("'", values.type), values, pa.scalar("", values.type))
        table = table.set_column(position, column, pc.if_else(pa.array(risky), quoted, values))
    return table


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells and column names that a spreadsheet would run as a formula; numbers stay
    numbers; category columns are compared (and returned) as their values."""
    result = frame.copy()
    result.columns = [safe_text(str(name)) for name in frame.columns]
    for position in range(result.shape[1]):
        values = result.iloc[:, position]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(values.cat.categories.dtype if len(values.cat.categories) else "object")
            result.isetitem(position, values)
        if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue
        text = values.astype("str")
        risky = text.str.contains(_FORMULA_START, na=False) & ~text.str.match(_NUMBER, na=False)
        if risky.any():
            result.isetitem(position, values.where(~risky, "'" + text))
    return result


def _nested(kind: pa.DataType) -> bool:
    return (
        pa.types.is_nested(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_fixed_size_binary(kind)
    )


def _as_json(column: pa.ChunkedArray) -> pa.Array:
    """Lists, structs, maps and bytes as JSON text, one cell at a time (such columns are rare and small)."""
    return pa.array(
        [None if value is None else json.dumps(value, ensure_ascii=False, default=str) for value in column.to_pylist()],
        pa.large_string(),
    )


def spreadsheet_table(table: pa.Table, xlsx: bool = False) -> pa.Table:
    """``table`` as a spreadsheet file can hold it, formula-safe (see the module docstring); columns that
    need nothing are passed through untouched."""
    names, columns = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        name, kind = field.name, field.type
        if pa.types.is_dictionary(kind):
            column, kind = column.cast(kind.value_type), kind.value_type
        if _nested(kind):
            column = _as_json(column)
        elif xlsx and pa.types.is_timestamp(kind) and kind.tz is not None:
            column, name = column.cast(pa.timestamp(kind.unit)), f"{name} (UTC)"
        names.append(safe_text(str(name)))
        columns.append(column)
    return neutralise_arrow(pa.table(columns, names=names))
