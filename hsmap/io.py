"""Read declaration files in chunks and write results safely.

Readers yield pandas DataFrames of bounded size (CSV and XLSX cells as text, so codes keep their leading
zeros and every value passes through untouched; Parquet columns keep their types). Writers take the same
chunks, neutralise text cells a spreadsheet would run as a formula, and write through
:class:`hsmap.outputs.AtomicFile`, so a failed run never leaves a partial output behind nor spoils the old one.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import zipfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from hsmap.chunking import CHUNK_ROWS
from hsmap.errors import InputError
from hsmap.outputs import AtomicFile, release_quietly, writing
from hsmap.spreadsheet import spreadsheet_table
from hsmap.text_encoding import WIDE, detect_encoding
from hsmap.xlsx import XLSX_MAX_ROWS, Layout, TableSheet, XlsxBook, check_rows

if TYPE_CHECKING:
    import pyarrow.parquet as pq

READABLE = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")
WRITABLE = (".csv", ".parquet", ".xlsx")
_CSV_BLOCK = 1 << 22  # bytes the CSV reader parses at a time, into one batch (grown for a row larger than this)
_C_LONG_MAX = 2**31 - 1  # the largest field size limit every platform's csv module accepts
BYTES_READ = "hsmap.bytes_read"  # in a CSV or Parquet chunk's ``attrs``: bytes of its file parsed so far (progress)


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _check_text_file(path: Path, encoding: str) -> None:
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        raise InputError(str(path), None, None, "the file is empty")
    if b"\x00" in head and encoding not in WIDE:
        if head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
            message = "UTF-16 text without a byte-order mark; save it as UTF-8 (or UTF-16 with a BOM)"
        else:
            message = "binary data (NUL bytes), not a text CSV file"
        raise InputError(str(path), None, None, message)


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
    encoding = detect_encoding(path)
    _check_text_file(path, encoding)
    names, delimiter = _header(path, encoding)
    size, block_size, done, blocks = path.stat().st_size, _CSV_BLOCK, 0, 0

    def counted(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """The batches of one attempt, counted as they are read (each parses one block of the file)."""
        nonlocal blocks
        blocks = 0
        for batch in batches:
            blocks += 1
            yield batch

    while True:  # once, unless a row is larger than a block: then again with larger blocks, from that row on
        try:
            batches = counted(_csv_batches(path, encoding, delimiter, names, block_size))
            for table in _regrouped(_after(batches, done), chunk_rows):
                done += table.num_rows
                yield _read_so_far(_to_pandas(table, names), min(size, blocks * block_size))  # a batch, a block
            break
        except _RowTooLarge:
            if block_size > size:
                raise InputError(str(path), None, None, "a row could not be read whole (broken quoting?)") from None
            block_size *= 4
    if not done:
        yield _to_pandas(None, names)


class _RowTooLarge(Exception):
    """A row (a cell of several megabytes) does not fit in one block of the CSV reader."""


def _csv_batches(
    path: Path, encoding: str, delimiter: str, names: list[str], block_size: int
) -> Iterator[pa.RecordBatch]:
    """The file's record batches, every cell as text; one clear InputError for a malformed file."""

    def failure(error: pa.ArrowInvalid) -> Exception:
        if "straddl" in str(error):  # Arrow's words for a row longer than its block
            return _RowTooLarge()
        return _parse_error(path, encoding, delimiter, names, error)

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding.startswith("utf-8") else encoding, block_size=block_size
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),  # what pandas str stores: no cast
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        raise failure(error) from None
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as error:
            raise failure(error) from None


def _after(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """The batches without their first ``rows`` rows (those a first attempt already gave)."""
    for batch in batches:
        if rows >= batch.num_rows:
            rows -= batch.num_rows
            continue
        yield batch.slice(rows)
        rows = 0


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
    with path.open(encoding=encoding, newline="", errors="replace") as handle, csv_fields_up_to(path.stat().st_size):
        for number, row in enumerate(csv.reader(handle, delimiter=delimiter), start=1):
            if row and len(row) != len(names):
                return InputError(str(path), number, None, f"{len(row)} fields where the header has {len(names)}")
    return InputError(str(path), None, None, _arrow_message(error))


@contextmanager
def csv_fields_up_to(size: int) -> Iterator[None]:
    """Let Python's csv module read fields of up to ``size`` characters (it refuses any over 128 KiB, and a
    customs text cell can be larger)."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, min(size + 1, _C_LONG_MAX)))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _arrow_message(error: Exception) -> str:
    return str(error).splitlines()[0].removeprefix("CSV parse error: ")


def _to_pandas(table: pa.Table | None, names: list[str]) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame({name: pd.Series(dtype="str") for name in names})
    return arrow_to_pandas(table)


def arrow_to_pandas(data: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """Arrow data as pandas without copying cell by cell: text as pandas' ``str`` dtype, which stores
    ``large_string`` (a ``string`` column would be converted value by value), and dates and nested values
    (lists, structs, maps) kept as Arrow data rather than one Python object per cell — they also go back to
    a file as they were (as objects, a struct's whole numbers with a gap would come back as floats)."""
    schema = pa.schema(
        [field.with_type(pa.large_string()) if pa.types.is_string(field.type) else field for field in data.schema],
        metadata=data.schema.metadata,
    )
    return data.cast(schema).to_pandas(types_mapper=_keep_arrow)


def _keep_arrow(kind: pa.DataType) -> pd.ArrowDtype | None:
    return pd.ArrowDtype(kind) if pa.types.is_date(kind) or pa.types.is_nested(kind) else None


def _iter_parquet(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq  # here: reading and writing CSV never needs it (a fiftieth of a second)

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


@contextmanager
def sheet_rows(path: Path, sheet: str | None = None, shown: str | None = None) -> Iterator[Iterator[tuple[Any, ...]]]:
    """The rows of a sheet of an .xlsx file (the first sheet unless ``sheet`` is named) as cell values, for
    a ``with`` block that closes the file.

    A formula cell the file holds no computed value for (a workbook written by a program that does not
    calculate, and never opened in a spreadsheet since) gives its formula text, such as ``=SUM(B2:B9)``:
    read as a blank, its line would pass unnoticed; as text, a quantity, value, date or partner check flags
    it. ``shown`` is the file's name in messages (default: the path).
    """
    from openpyxl import load_workbook

    name = shown or str(path)
    if _is_encrypted(path):
        raise InputError(name, None, None, "the workbook is encrypted or password-protected; save it unprotected")
    books = []
    try:
        try:
            books.append(load_workbook(path, read_only=True, data_only=True))
            if _has_formulas(path):
                books.append(load_workbook(path, read_only=True, data_only=False))
        except Exception as error:  # openpyxl raises zipfile, KeyError, ValueError… on damaged files
            raise InputError(name, None, None, f"not a readable .xlsx ({type(error).__name__})") from None
        if sheet is not None and sheet not in books[0].sheetnames:
            names = ", ".join(books[0].sheetnames)
            raise InputError(name, None, None, f"no sheet named {sheet!r} (sheets: {names})")
        sheets = [book[sheet] if sheet else book.worksheets[0] for book in books]
        rows = sheets[0].iter_rows(values_only=True)
        yield rows if len(sheets) == 1 else _with_formulas(rows, sheets[1].iter_rows(values_only=True))
    finally:
        for book in books:
            book.close()


_FORMULA_TAG = re.compile(rb"<f[ >/]")


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the workbook holds a formula (read from its XML, a block at a time)."""
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.startswith("xl/worksheets/") or not member.endswith(".xml"):
                continue
            with archive.open(member) as xml:
                tail = b""
                while block := xml.read(1 << 20):
                    if _FORMULA_TAG.search(tail + block):
                        return True
                    tail = block[-3:]
    return False


def _with_formulas(values: Iterator[tuple[Any, ...]], formulas: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Value rows with each blank that is an uncomputed formula replaced by the formula's text."""
    for value_row, formula_row in zip(values, formulas, strict=False):
        if None in value_row:
            value_row = tuple(
                formula if value is None and isinstance(formula, str) and formula.startswith("=") else value
                for value, formula in zip(value_row, formula_row, strict=False)
            )
        yield value_row


def _iter_xlsx(path: Path, chunk_rows: int, sheet: str | None) -> Iterator[pd.DataFrame]:
    with sheet_rows(path, sheet) as rows:
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
            values = [cell_text(cell) for cell in row[: len(names)]]
            if not any(values):
                continue
            buffer.append(values + [""] * (len(names) - len(values)))
            if len(buffer) >= size:
                yield pd.DataFrame(buffer, columns=names, dtype="str")
                buffer, size = [], next(sizes)
        yield pd.DataFrame(buffer, columns=names, dtype="str")


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a person sees in it: 2024 not 2024.0, 0.1 not 0.1000000001 (the shortest
    decimal that reads back as the number), a date as ``2024-01-09`` (with its time only when it has one),
    ``yes``/``no`` for a boolean, blank for none; text as it is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**63 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def read_cells(path: Path, sheet: str | None = None, shown: str | None = None) -> list[list[str]]:
    """Every row of a small CSV or XLSX file (a report) as the text a person sees, surrounding spaces and
    no-break spaces removed; rows may differ in length. The same reading as :func:`iter_table`'s: CSV in any
    encoding :func:`hsmap.text_encoding.detect_encoding` recognises (UTF-8, UTF-16/32 with a byte-order mark,
    Windows-1252, Latin-1, or a mix), the delimiter its header uses most; XLSX through :func:`sheet_rows`."""
    name = shown or str(path)
    suffix = _suffix(path)
    if not path.is_file():
        raise InputError(name, None, None, "file not found")
    if suffix in (".xlsx", ".xlsm"):
        with sheet_rows(path, sheet, name) as rows:
            return [[tidy_text(cell_text(cell)) for cell in row] for row in rows]
    if suffix not in (".csv", ".txt", ".tsv"):
        raise InputError(name, None, None, f"unsupported file type {suffix or '(none)'!r}; use .csv or .xlsx")
    if sheet is not None:
        raise InputError(name, None, None, "a CSV file has no sheets; drop the sheet name")
    encoding = detect_encoding(path)
    _check_text_file(path, encoding)
    try:
        with path.open(encoding=encoding, newline="") as handle, csv_fields_up_to(path.stat().st_size):
            delimiter = _sniff_delimiter(handle.read(1 << 16))
            handle.seek(0)
            return [[tidy_text(cell) for cell in row] for row in csv.reader(handle, delimiter=delimiter)]
    except UnicodeDecodeError as error:  # UTF-16 cut in the middle of a character
        raise InputError(name, None, None, f"not readable text ({error.reason}); save it as 'CSV UTF-8'") from None
    except csv.Error as error:  # NUL bytes, broken quoting
        raise InputError(name, None, None, f"not a readable CSV file ({error})") from None


def tidy_text(text: str) -> str:
    """A cell's text without surrounding spaces, no-break spaces read as spaces."""
    return text.replace("\u00a0", " ").strip()


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


def count_rows(path: Path, sheet: str | None = None) -> int | None:
    """How many data rows a file holds, where that is cheap to know before reading it: a Parquet file's
    footer says; a CSV file's line breaks bound its rows (a quoted cell may hold more), and only a file with
    more line breaks than a sheet has rows is parsed to count them exactly. None for other files — a writer
    that cannot hold the rows (an .xlsx sheet) then refuses them at the first chunk past its limit."""
    suffix = _suffix(path)
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        with suppress(pa.ArrowInvalid, OSError):
            return pq.ParquetFile(path).metadata.num_rows
        return None
    if suffix not in (".csv", ".txt", ".tsv") or not path.is_file():
        return None
    breaks = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            breaks += block.count(b"\n")
    if breaks <= XLSX_MAX_ROWS:
        return breaks
    return sum(len(chunk) for chunk in _iter_csv(path, 1 << 20))


def read_table(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """A whole file as one DataFrame (for small files such as reports and labelled sets)."""
    return pd.concat(list(iter_table(path, sheet=sheet)), ignore_index=True)


class TableWriter:
    """Write chunks to .csv, .parquet or .xlsx through an :class:`~hsmap.outputs.AtomicFile`: the target is
    replaced only when every write and the close succeeded. CSV and XLSX get :func:`spreadsheet_table`
    (formula-safe text and headers, values a sheet can hold); XLSX is :mod:`hsmap.xlsx`'s typed, formatted
    sheet (``sheet`` names it), refused at once when ``rows`` — the row count, when the caller knows it — is
    more than a sheet holds; Parquet keeps the types and min/max statistics for every column but the
    ``free_text`` ones (sentences no reader filters by range)."""

    def __init__(
        self, path: Path, free_text: Collection[str] = (), *, sheet: str = "classified", rows: int | None = None
    ) -> None:
        suffix = _suffix(path)
        if suffix not in WRITABLE:
            raise InputError(str(path), None, None, f"cannot write {suffix!r} (use {', '.join(WRITABLE)})")
        if suffix == ".xlsx" and rows is not None:
            check_rows(rows, str(path))
        self.path, self.suffix, self.sheet_name = path, suffix, sheet
        self._file = AtomicFile(path)
        self.temporary = self._file.partial
        self._parquet: pq.ParquetWriter | None = None
        self._free_text = set(free_text)
        self._csv: pacsv.CSVWriter | None = None
        self._csv_schema: pa.Schema | None = None
        self._book: XlsxBook | None = None
        self._sheet: TableSheet | None = None
        self._finished = False

    def __enter__(self) -> TableWriter:
        self._file.__enter__()
        return self

    def write(self, chunk: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(chunk, preserve_index=False)
        with writing(self.path):
            if self.suffix == ".csv":
                table = spreadsheet_table(table)
                if self._csv is None:
                    self._csv_schema = table.schema
                    self._csv = pacsv.CSVWriter(self.temporary, table.schema)
                self._csv.write_table(table.cast(self._csv_schema))
            elif self.suffix == ".parquet":
                if self._parquet is None:
                    import pyarrow.parquet as pq

                    statistics = [name for name in table.schema.names if name not in self._free_text]
                    self._parquet = pq.ParquetWriter(self.temporary, table.schema, write_statistics=statistics)
                self._parquet.write_table(table.cast(self._parquet.schema))
            else:
                self._write_xlsx(table)
        self._file.sync_written()

    def _write_xlsx(self, table: pa.Table) -> None:
        if self._sheet is None:
            self._book = XlsxBook(self.temporary)
            layout = Layout(wrap=[name for name in table.schema.names if name in self._free_text])
            self._sheet = self._book.table(self.sheet_name, table.schema.names, layout)
        self._sheet.write(table)

    def _abandon(self) -> None:
        """After a failure: close what is open without raising again (openpyxl's row stream would otherwise
        report its own error when it is collected), and remove the partial file."""
        for writer in (self._parquet, self._csv):
            if writer is not None:
                with suppress(Exception):
                    writer.close()
        if self._book is not None:
            self._book = self._sheet = None
            release_quietly()  # XlsxWriter's temporary row files
        self._file.discard()

    def finish(self) -> None:
        """Complete the partial file (close the writer, save the workbook, flush it to the disk) without putting
        it in place yet, so a caller writing several files can complete them all before any of them replaces
        its target. Leaving the ``with`` block finishes the file if this was not called, then renames it."""
        if self._finished:
            return
        try:
            with writing(self.path):
                for writer in (self._parquet, self._csv):
                    if writer is not None:
                        writer.close()
                if self._book is not None:
                    self._book.close()
                    self._book = self._sheet = None
                elif self._csv is None and self._parquet is None:
                    self.temporary.touch()
        except BaseException:
            self._abandon()
            raise
        self._file.flush()
        self._finished = True

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Rename the file into place only when everything, the close too, succeeded; otherwise remove the
        partial file (the target keeps what it held)."""
        if kind is not None:
            self._abandon()
            return
        self.finish()
        self._file.commit()
