"""Read declaration files in chunks and write results safely.

Readers yield pandas DataFrames of bounded size (CSV and XLSX cells as text, so codes keep their leading
zeros and every value passes through untouched; Parquet columns keep their types). Writers take the same
chunks, neutralise text cells a spreadsheet would run as a formula, and write to a temporary file that is
renamed only when everything succeeded, so a failed run never leaves a partial output behind.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from collections.abc import Collection, Iterator
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from hsmap.chunking import CHUNK_ROWS
from hsmap.errors import InputError
from hsmap.tokens import string_bytes

READABLE = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")
WRITABLE = (".csv", ".parquet", ".xlsx")
_XLSX_MAX_ROWS = 1_048_575
_CSV_BLOCK = 1 << 22  # bytes the CSV reader parses at a time (into one batch)
BYTES_READ = "hsmap.bytes_read"  # in a CSV or Parquet chunk's ``attrs``: bytes of its file parsed so far (progress)
_FORMULA_CHARACTERS = "=+-@\t\r"  # what a spreadsheet formula may begin with
_FORMULA_START = re.compile(f"^[{re.escape(_FORMULA_CHARACTERS)}]")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when every byte decodes as such, else Windows-1252, else Latin-1."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(0)
        try:
            while block := handle.read(1 << 16):  # small blocks stay in the CPU cache: 3× faster
                if not (block.isascii() and decoder.getstate()[0] == b""):  # ASCII needs no decoding
                    decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            try:
                path.read_bytes().decode("cp1252")
            except UnicodeDecodeError:  # bytes cp1252 leaves undefined: Latin-1 reads every byte
                return "latin-1"
            return "cp1252"
    return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


def _check_text_file(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        raise InputError(str(path), None, None, "the file is empty")
    if b"\x00" in head:
        raise InputError(str(path), None, None, "binary data (NUL bytes), not a text CSV file")


def _sniff_delimiter(sample: str) -> str:
    """The delimiter the header line uses most (column names rarely contain one); ``,`` when it has none."""
    header = sample.splitlines()[0] if sample else ""
    counts = {delimiter: header.count(delimiter) for delimiter in ",;\t|"}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _header(path: Path, encoding: str) -> tuple[list[str], str]:
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(1 << 16)
    delimiter = _sniff_delimiter(sample)
    first = next(csv.reader(sample.splitlines() or [""], delimiter=delimiter), [])
    names = [name.strip() for name in first]
    check_columns(names, path)
    return names, delimiter


def check_columns(names: list[str], path: Path) -> None:
    """Every column needs a name, and no name may repeat: later steps find columns by name."""
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            raise InputError(str(path), 1, f"#{position}", "a column has no name in the header")
        if name in seen:
            raise InputError(str(path), 1, name, "duplicate column name in the header")
        seen.add(name)


def _iter_csv(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    _check_text_file(path)
    encoding = detect_encoding(path)
    names, delimiter = _header(path, encoding)
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding.startswith("utf-8") else encoding, block_size=_CSV_BLOCK
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),  # what pandas str stores: no cast
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        raise _parse_error(path, encoding, delimiter, names, error) from None
    size, blocks = path.stat().st_size, 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal blocks
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as error:
                raise _parse_error(path, encoding, delimiter, names, error) from None
            blocks += 1
            yield batch

    yielded = False
    for table in _regrouped(batches(), chunk_rows):
        yielded = True
        yield _read_so_far(_to_pandas(table, names), min(size, blocks * _CSV_BLOCK))  # a batch parses a block
    if not yielded:
        yield _to_pandas(None, names)


def _read_so_far(frame: pd.DataFrame, position: int) -> pd.DataFrame:
    """``frame`` marked with how many bytes of its file had been parsed once it was read (:data:`BYTES_READ`)."""
    frame.attrs[BYTES_READ] = position
    return frame


def chunk_sizes(chunk_rows: int) -> Iterator[int]:
    """Rows per chunk: an eighth, a quarter, a half of ``chunk_rows``, then ``chunk_rows`` for good — the
    first rows reach a pipeline early, and the rest come in full chunks."""
    for share in (8, 4, 2):
        yield max(1, chunk_rows // share)
    while True:
        yield chunk_rows


def _regrouped(batches: Iterator[pa.RecordBatch], chunk_rows: int) -> Iterator[pa.Table]:
    """Batches regrouped into tables of :func:`chunk_sizes` rows (the last one may be smaller)."""
    sizes = chunk_sizes(chunk_rows)
    size = next(sizes)
    pending: pa.Table | None = None
    for batch in batches:
        table = pa.Table.from_batches([batch])
        pending = table if pending is None else pa.concat_tables([pending, table])
        while pending.num_rows >= size:
            yield pending.slice(0, size)
            pending, size = pending.slice(size), next(sizes)
    if pending is not None and pending.num_rows:
        yield pending


def _parse_error(path: Path, encoding: str, delimiter: str, names: list[str], error: Exception) -> InputError:
    """Turn Arrow's parse error into one line with the row a person would look at (header = row 1)."""
    with path.open(encoding=encoding, newline="", errors="replace") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter=delimiter), start=1):
            if row and len(row) != len(names):
                return InputError(str(path), number, None, f"{len(row)} fields where the header has {len(names)}")
    return InputError(str(path), None, None, _arrow_message(error))


def _arrow_message(error: Exception) -> str:
    return str(error).splitlines()[0].removeprefix("CSV parse error: ")


def _to_pandas(table: pa.Table | None, names: list[str]) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame({name: pd.Series(dtype="str") for name in names})
    return arrow_to_pandas(table)


def arrow_to_pandas(data: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """Arrow data as pandas without copying cell by cell: text as pandas' ``str`` dtype, which stores
    ``large_string`` (a ``string`` column would be converted value by value), and dates kept as Arrow dates
    rather than one Python object per cell — they also go back to a file as the dates they were."""
    schema = pa.schema(
        [field.with_type(pa.large_string()) if pa.types.is_string(field.type) else field for field in data.schema],
        metadata=data.schema.metadata,
    )
    return data.cast(schema).to_pandas(types_mapper=_keep_dates)


def _keep_dates(kind: pa.DataType) -> pd.ArrowDtype | None:
    return pd.ArrowDtype(kind) if pa.types.is_date(kind) else None


def _iter_parquet(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(str(path), None, None, f"not a readable Parquet file ({error})") from None
    check_columns(parquet.schema_arrow.names, path)
    empty = True
    size, rows, read = path.stat().st_size, max(1, parquet.metadata.num_rows), 0
    for table in _regrouped(parquet.iter_batches(batch_size=max(1, chunk_rows // 8)), chunk_rows):
        empty = False
        read += table.num_rows
        yield _read_so_far(arrow_to_pandas(table), size * read // rows)  # in proportion to the rows
    if empty:
        yield arrow_to_pandas(parquet.schema_arrow.empty_table())


def _iter_xlsx(path: Path, chunk_rows: int, sheet: str | None) -> Iterator[pd.DataFrame]:
    from openpyxl import load_workbook

    if _is_encrypted(path):
        raise InputError(str(path), None, None, "the workbook is encrypted or password-protected; save it unprotected")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zipfile, KeyError, ValueError… on damaged files
        raise InputError(str(path), None, None, f"not a readable .xlsx ({type(error).__name__})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            names = ", ".join(book.sheetnames)
            raise InputError(str(path), None, None, f"no sheet named {sheet!r} (sheets: {names})")
        rows = book[sheet].iter_rows(values_only=True) if sheet else book.active.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputError(str(path), None, None, "the sheet is empty")
        names = [("" if cell is None else str(cell)).strip() for cell in header]
        while names and not names[-1]:
            names.pop()
        check_columns(names, path)
        buffer: list[list[str]] = []
        sizes = chunk_sizes(chunk_rows)
        size = next(sizes)
        for row in rows:
            values = ["" if cell is None else _cell_text(cell) for cell in row[: len(names)]]
            if not any(values):
                continue
            buffer.append(values + [""] * (len(names) - len(values)))
            if len(buffer) >= size:
                yield pd.DataFrame(buffer, columns=names, dtype="str")
                buffer, size = [], next(sizes)
        yield pd.DataFrame(buffer, columns=names, dtype="str")
    finally:
        book.close()


def _cell_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _is_encrypted(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE container, not a zip


def iter_table(path: Path, chunk_rows: int = CHUNK_ROWS, sheet: str | None = None) -> Iterator[pd.DataFrame]:
    """Chunks of a CSV, XLSX or Parquet file, in order; every row of the file exactly once."""
    if not path.exists():
        raise InputError(str(path), None, None, "file not found")
    suffix = _suffix(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return _iter_csv(path, chunk_rows)
    if suffix in (".parquet", ".pq"):
        return _iter_parquet(path, chunk_rows)
    if suffix in (".xlsx", ".xlsm"):
        return _iter_xlsx(path, chunk_rows, sheet)
    raise InputError(str(path), None, None, f"unsupported file type {suffix!r} (use {', '.join(READABLE)})")


def read_table(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """A whole file as one DataFrame (for small files such as reports and labelled sets)."""
    return pd.concat(list(iter_table(path, sheet=sheet)), ignore_index=True)


_RISKY_FIRST_BYTE = np.zeros(256, dtype=bool)
_RISKY_FIRST_BYTE[[ord(c) for c in _FORMULA_CHARACTERS]] = True


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
    """``neutralise_formulas`` on an Arrow table: a first-byte test over every cell, the number test only on
    the cells that failed it."""
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
    """Prefix ``'`` to text cells that a spreadsheet would run as a formula; numbers stay numbers."""
    result = frame.copy()
    for column in result.columns:
        values = result[column]
        if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue
        text = values.astype("str")
        risky = text.str.contains(_FORMULA_START, na=False) & ~text.str.match(_NUMBER, na=False)
        if risky.any():
            result[column] = values.where(~risky, "'" + text)
    return result


class TableWriter:
    """Write chunks to .csv, .parquet or .xlsx through a temporary file renamed on success. Parquet keeps
    min/max statistics for every column but the ``free_text`` ones (sentences no reader filters by range)."""

    def __init__(self, path: Path, free_text: Collection[str] = ()) -> None:
        suffix = _suffix(path)
        if suffix not in WRITABLE:
            raise InputError(str(path), None, None, f"cannot write {suffix!r} (use {', '.join(WRITABLE)})")
        if not path.parent.exists():
            raise InputError(str(path), None, None, f"folder {path.parent} does not exist")
        self.path, self.suffix = path, suffix
        self.temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
        self._parquet: pq.ParquetWriter | None = None
        self._free_text = set(free_text)
        self._csv: pacsv.CSVWriter | None = None
        self._csv_schema: pa.Schema | None = None
        self._book = self._sheet = None
        self._rows = 0

    def __enter__(self) -> TableWriter:
        return self

    def write(self, chunk: pd.DataFrame) -> None:
        self._rows += len(chunk)
        if self.suffix == ".csv":
            table = neutralise_arrow(pa.Table.from_pandas(chunk, preserve_index=False))
            if self._csv is None:
                self._csv_schema = table.schema
                self._csv = pacsv.CSVWriter(self.temporary, table.schema)
            self._csv.write_table(table.cast(self._csv_schema))
        elif self.suffix == ".parquet":
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if self._parquet is None:
                statistics = [name for name in table.schema.names if name not in self._free_text]
                self._parquet = pq.ParquetWriter(self.temporary, table.schema, write_statistics=statistics)
            self._parquet.write_table(table.cast(self._parquet.schema))
        else:
            self._write_xlsx(chunk)

    def _write_xlsx(self, chunk: pd.DataFrame) -> None:
        if self._rows > _XLSX_MAX_ROWS:
            raise InputError(str(self.path), None, None, "more rows than an .xlsx sheet holds; write .csv or .parquet")
        if self._book is None:
            from openpyxl import Workbook

            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet("classified")
            self._sheet.freeze_panes = "A2"
            self._sheet.append(list(chunk.columns))
        for row in neutralise_formulas(chunk).itertuples(index=False):
            self._sheet.append([None if pd.isna(value) else value for value in row])

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            for writer in (self._parquet, self._csv):
                if writer is not None:
                    writer.close()
            if self._rows == 0 and self._csv is None and self._parquet is None and self._book is None and kind is None:
                self.temporary.touch()
            if self._book is not None and kind is None:
                self._book.save(self.temporary)
        finally:
            if kind is None:
                os.replace(self.temporary, self.path)
            else:
                self.temporary.unlink(missing_ok=True)
