"""The one .xlsx writer of every command: typed cells, a bold frozen header with a filter, sensible widths and
number formats, written in constant memory.

Each sheet is streamed row by row to disk by XlsxWriter's ``constant_memory`` mode, so a million-line output
needs no more memory than a thousand-line one (openpyxl's write-only mode streams too, at about the same
speed, but formats only cell by cell). A sheet holds at most :data:`XLSX_MAX_ROWS` data rows; a writer told
the row count refuses a longer table before writing anything, otherwise at the first chunk past the limit.

Cells keep their types. Arrow integers, decimals, booleans, dates and timestamps become numbers, booleans and
dates; text columns (CSV and XLSX inputs are read as text, so codes keep their leading zeros) are written back
as numbers or dates where every filled cell of the column's first chunk reads as a plain number (``500``,
``-12.5``; no leading zero, at most 15 digits) or an ISO date (``2024-01-09``, ``2024-01-09 13:05``) — what a
spreadsheet would show — except in columns whose name says they hold identifiers or codes (``hs_code``,
``declaration_id``, ``hs6``), which stay text. A later cell that does not read so stays text. Text passes
through :func:`hsmap.spreadsheet.spreadsheet_table` first (formula-safe, values a sheet can hold); a cell
longer than a sheet holds (32,767 characters) is cut there by the library.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hsmap.errors import HsmapError
from hsmap.outputs import AtomicFile, writing
from hsmap.spreadsheet import safe_text, spreadsheet_table

XLSX_MAX_ROWS = 1_048_575  # a sheet's 1,048,576 rows, less the header
COUNT_FORMAT = "#,##0"
AMOUNT_FORMAT = "#,##0.00"
SHARE_FORMAT = "0.0%"
PLAIN_FORMAT = "0"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
MIN_WIDTH, MAX_WIDTH = 8, 60
_SAMPLE = 2000  # cells of the first chunk a column's width is chosen from
_EXCEL_EPOCH_DAYS = 25569  # days from 1899-12-30 (Excel's day 0) to 1970-01-01
_FIRST_DAY = 61  # 1900-03-01: Excel's serial numbers before it are off by its 1900 leap-year bug
_LAST_DAY = 2958465  # 9999-12-31
_SAFE_INTEGER = 2**53  # integers beyond it are not exact in a sheet (a double): written as text
_IDENTIFIER = re.compile(
    r"(?:^|[^a-z])(?:ids?|codes?|hs\d*|cn\d*|hts\d*|tariff|commodity|(?:sub)?headings?|chapters?|refs?|reference|key|iso\d?|m49|zip)(?:[^a-z]|$)"
)
_INTEGER_TEXT = r"^-?(?:0|[1-9]\d{0,14})$"
_DECIMAL_TEXT = r"^-?(?:0|[1-9]\d{0,14})\.\d{1,15}$"
_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}$"
_DATETIME_TEXT = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?$"
_OPTIONS = {  # XlsxWriter turns text into formulas, links or numbers unless told not to
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": False,
}


class TooManyRows(HsmapError, ValueError):
    """A table longer than an .xlsx sheet holds; the message suggests CSV or Parquet."""


def check_rows(rows: int, where: str = "") -> None:
    """Refuse, before anything is written, a table of ``rows`` data rows that no sheet can hold."""
    if rows > XLSX_MAX_ROWS:
        prefix = f"{where}: " if where else ""
        raise TooManyRows(
            f"{prefix}{rows:,} rows are more than an .xlsx sheet holds ({XLSX_MAX_ROWS:,}); "
            "write .csv or .parquet instead"
        )


def is_identifier(name: str) -> bool:
    """Whether a column's name says it holds identifiers or codes, which stay text however they read."""
    return bool(_IDENTIFIER.search(str(name).casefold().replace("-", "_")))


def default_number_format(name: str, kind: str) -> str | None:
    """Thousands separators for counts and amounts, plain digits for years and identifiers, shares as %."""
    if kind in ("date", "text-date"):
        return DATE_FORMAT
    if kind in ("datetime", "text-datetime"):
        return DATETIME_FORMAT
    lowered = name.casefold()
    if kind in ("integer", "text-integer"):
        plain = (
            is_identifier(lowered)
            or lowered in ("year", "month", "row", "edition")
            or lowered.endswith(("year", "_row", "edition", "month"))
        )
        return PLAIN_FORMAT if plain else COUNT_FORMAT
    if kind in ("number", "text-number"):
        if lowered.endswith(("rel_diff", "share")):
            return SHARE_FORMAT
        return "0.00" if lowered in ("confidence", "score", "weight") else AMOUNT_FORMAT
    return None


@dataclass
class Layout:
    """How a table sheet looks beyond the defaults: fixed ``widths``, ``wrap``ped columns, ``number_formats``,
    ``fills`` (column → value → background colour, e.g. statuses) and ``indent`` (text column → the column
    whose whole number gives its indentation, as the HS sets its dashes)."""

    widths: Mapping[str, float] = field(default_factory=dict)
    wrap: Collection[str] = ()
    number_formats: Mapping[str, str] = field(default_factory=dict)
    fills: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    indent: Mapping[str, str] = field(default_factory=dict)


class XlsxBook:
    """An .xlsx workbook being written (to a path or a binary stream); sheets are added in order with
    :meth:`table` and :meth:`blocks`, and :meth:`close` completes the file. Use :func:`xlsx_file` for an
    output file, which is written atomically."""

    def __init__(self, target: Path | str | IO[bytes]) -> None:
        import xlsxwriter

        in_memory = not isinstance(target, (str, Path))
        options = {**_OPTIONS, "in_memory": in_memory} if in_memory else dict(_OPTIONS)
        self.book = xlsxwriter.Workbook(target if in_memory else str(target), options)
        self._formats: dict[tuple[tuple[str, Any], ...], Any] = {}
        self._sheets: list[TableSheet] = []

    def style(self, **properties: Any) -> Any:
        """One XlsxWriter format per distinct set of properties (a workbook holds a limited number)."""
        key = tuple(sorted(properties.items()))
        if key not in self._formats:
            self._formats[key] = self.book.add_format(dict(properties))
        return self._formats[key]

    def table(
        self, name: str, columns: list[str], layout: Layout | None = None, *, rows: int | None = None
    ) -> TableSheet:
        """A sheet holding one table: write it with :meth:`TableSheet.write`, chunk by chunk."""
        if rows is not None:
            check_rows(rows, f"sheet {name!r}")
        sheet = TableSheet(self, name, columns, layout or Layout())
        self._sheets.append(sheet)
        return sheet

    def frame(self, name: str, frame: pd.DataFrame | pa.Table, layout: Layout | None = None) -> TableSheet:
        """A sheet holding ``frame`` whole."""
        sheet = self.table(name, [str(column) for column in _names(frame)], layout, rows=len(frame))
        sheet.write(frame)
        return sheet

    def blocks(self, name: str, widths: Mapping[str, float] | None = None, wrap: Collection[str] = ()) -> BlockSheet:
        """A sheet of titled tables one under another (a summary); ``widths`` and ``wrap`` by column letter."""
        return BlockSheet(self, name, widths or {}, wrap)

    def close(self) -> None:
        from xlsxwriter.exceptions import FileCreateError

        for sheet in self._sheets:
            sheet.finish()
        try:
            self.book.close()
        except FileCreateError as error:  # XlsxWriter wraps the OSError of a full disk
            cause = error.args[0] if error.args and isinstance(error.args[0], OSError) else None
            if cause is None:
                raise
            raise cause from None


@contextmanager
def xlsx_file(target: Path | str) -> Iterator[XlsxBook]:
    """An :class:`XlsxBook` for ``target``, written to its partial file and put in place only when it is
    complete (:class:`hsmap.outputs.AtomicFile`)."""
    with AtomicFile(target) as file, writing(file.target):
        book = XlsxBook(file.partial)
        yield book
        book.close()


def _names(data: pd.DataFrame | pa.Table) -> list[str]:
    return [str(name) for name in (data.column_names if isinstance(data, pa.Table) else data.columns)]


def _arrow(data: pd.DataFrame | pa.Table) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    frame = data.copy()
    frame.columns = _names(data)
    for column in frame.columns:  # object columns of mixed Python values: as text, as a person reads them
        values = frame[column]
        if values.dtype == object:
            kinds = {type(value) for value in values.dropna()}
            if len(kinds) > 1 or kinds - {str, int, float, bool}:
                frame[column] = values.map(lambda value: value if value is None or pd.isna(value) else str(value))
    return pa.Table.from_pandas(frame, preserve_index=False)


class TableSheet:
    """One table on its own sheet: a bold header row, frozen, with a filter over every row written."""

    def __init__(self, book: XlsxBook, name: str, columns: list[str], layout: Layout) -> None:
        self.book, self.columns, self.layout = book, columns, layout
        self.sheet = book.book.add_worksheet(_sheet_name(name))
        self.rows = 0
        self._kinds: list[str] | None = None
        self.sheet.freeze_panes(1, 0)

    def _header(self, names: list[str]) -> None:
        """The header row, as :func:`spreadsheet_table` names the columns (formula-safe, ``(UTC)`` added)."""
        style = self.book.style(bold=True, bg_color="#EEF2F6", bottom=1, text_wrap=True, valign="top")
        for position, name in enumerate(names):
            self.sheet.write_string(0, position, name, style)

    def write(self, data: pd.DataFrame | pa.Table) -> None:
        """Append rows; the first call decides each column's kind, format and width."""
        table = spreadsheet_table(_arrow(data), xlsx=True)
        if self.rows + table.num_rows > XLSX_MAX_ROWS:
            check_rows(self.rows + table.num_rows, f"sheet {self.sheet.name!r}")
        if self._kinds is None:
            self._kinds = [_kind(name, column) for name, column in zip(self.columns, table.columns, strict=True)]
            self._set_columns(table)
            self._header(table.column_names)
        cells = [_cells(column, kind) for column, kind in zip(table.columns, self._kinds, strict=True)]
        styled = self._styled_columns(cells)
        write_row = self.sheet.write_row
        first = self.rows + 1
        for offset, row in enumerate(zip(*cells, strict=True)):
            write_row(first + offset, 0, row)
            for position, styles in styled:
                style = styles[offset]
                if style is not None and row[position] is not None:
                    self.sheet.write(first + offset, position, row[position], style)
        self.rows += table.num_rows

    def _styled_columns(self, cells: list[list[Any]]) -> list[tuple[int, list[Any]]]:
        """Per-cell styles of the columns the layout colours by value or indents by another column."""
        styled = []
        wrap = set(self.layout.wrap)
        for position, name in enumerate(self.columns):
            fills = self.layout.fills.get(name)
            if fills:
                wrapped = {"text_wrap": True, "valign": "top"} if name in wrap else {}
                styled.append(
                    (
                        position,
                        [
                            self.book.style(bg_color="#" + fills[str(value)], **wrapped)
                            if str(value) in fills
                            else None
                            for value in cells[position]
                        ],
                    )
                )
            by = self.layout.indent.get(name)
            if by is not None and by in self.columns:
                levels = cells[self.columns.index(by)]
                styled.append(
                    (
                        position,
                        [
                            self.book.style(indent=int(level), text_wrap=True, valign="top")
                            if isinstance(level, (int, float)) and level > 0
                            else None
                            for level in levels
                        ],
                    )
                )
        return styled

    def _set_columns(self, table: pa.Table) -> None:
        assert self._kinds is not None
        wrap = set(self.layout.wrap)
        for position, (name, column, kind) in enumerate(zip(self.columns, table.columns, self._kinds, strict=True)):
            number_format = self.layout.number_formats.get(name) or default_number_format(name, kind)
            properties: dict[str, Any] = {}
            if number_format:
                properties["num_format"] = number_format
            if name in wrap:
                properties.update(text_wrap=True, valign="top")
            width = self.layout.widths.get(name) or _width(name, column, kind, number_format)
            self.sheet.set_column(position, position, width, self.book.style(**properties) if properties else None)

    def finish(self) -> None:
        """The filter over the header and every row written."""
        if self._kinds is None:
            self._header([safe_text(name) for name in self.columns])
        if self.columns:
            self.sheet.autofilter(0, 0, max(self.rows, 1), len(self.columns) - 1)


class BlockSheet:
    """Titled tables one under another, as a summary sheet shows settings and counts."""

    def __init__(self, book: XlsxBook, name: str, widths: Mapping[str, float], wrap: Collection[str]) -> None:
        self.book = book
        self.sheet = book.book.add_worksheet(_sheet_name(name))
        self.row = 0
        wrapped = book.style(text_wrap=True, valign="top")
        for letter in sorted({*widths, *wrap}):
            self.sheet.set_column(f"{letter}:{letter}", widths.get(letter), wrapped if letter in wrap else None)

    def title(self, text: str, size: int = 14) -> None:
        self.sheet.write_string(self.row, 0, safe_text(text), self.book.style(bold=True, font_size=size))
        self.row += 2

    def block(self, heading: str, frame: pd.DataFrame, layout: Layout | None = None) -> None:
        """A bold heading, a bold header row, the rows (typed and formatted as in a table sheet), a gap."""
        layout = layout or Layout()
        self.sheet.write_string(self.row, 0, safe_text(heading), self.book.style(bold=True))
        self.row += 1
        names = _names(frame)
        for position, name in enumerate(names):
            self.sheet.write_string(self.row, position, safe_text(name), self.book.style(bold=True))
        self.row += 1
        table = spreadsheet_table(_arrow(frame), xlsx=True)
        kinds = [_kind(name, column) for name, column in zip(names, table.columns, strict=True)]
        cells = [_cells(column, kind) for column, kind in zip(table.columns, kinds, strict=True)]
        wrap = set(layout.wrap)
        styles = []
        for name, kind in zip(names, kinds, strict=True):
            number_format = layout.number_formats.get(name) or default_number_format(name, kind)
            properties: dict[str, Any] = {"num_format": number_format} if number_format else {}
            if name in wrap:
                properties.update(text_wrap=True, valign="top")
            styles.append(properties)
        for row in zip(*cells, strict=True):
            for position, value in enumerate(row):
                if value is None:
                    continue
                properties = dict(styles[position])
                fill = layout.fills.get(names[position], {}).get(str(value))
                if fill:
                    properties["bg_color"] = "#" + fill
                self.sheet.write(self.row, position, value, self.book.style(**properties) if properties else None)
            self.row += 1
        self.row += 1


def _sheet_name(name: str) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    return re.sub(r"[\[\]:*?/\\]", "-", name)[:31] or "sheet"


def _kind(name: str, column: pa.ChunkedArray) -> str:
    """How a column's cells are written: ``integer``, ``number``, ``bool``, ``date``, ``datetime``, ``text``,
    or text holding numbers or dates (``text-integer``, ``text-number``, ``text-date``, ``text-datetime``)."""
    kind = column.type
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    if pa.types.is_boolean(kind):
        return "bool"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_timestamp(kind):
        return "datetime"
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)) or is_identifier(name):
        return "text"
    filled = pc.drop_null(pc.if_else(pc.equal(column, ""), None, column))
    if len(filled) == 0:
        return "text"
    for pattern, text_kind in (
        (_INTEGER_TEXT, "text-integer"),
        (_DECIMAL_TEXT + "|" + _INTEGER_TEXT, "text-number"),
        (_DATE_TEXT, "text-date"),
        (_DATETIME_TEXT + "|" + _DATE_TEXT, "text-datetime"),
    ):
        if not pc.all(pc.match_substring_regex(filled, pattern)).as_py():
            continue
        if text_kind in ("text-date", "text-datetime") and _serials(filled, text_kind).null_count:
            continue  # 2024-02-30 is no day: the column stays text
        return text_kind
    return "text"


def _serials(column: pa.ChunkedArray | pa.Array, kind: str) -> pa.Array:
    """Dates and timestamps (or ISO text) as Excel serial numbers (days since 1899-12-30); null where a sheet
    cannot show the day (before 1 March 1900, after 9999, or not a real date)."""
    if kind.startswith("text"):
        text = pc.replace_substring(column, "T", " ")
        column = pc.strptime(text, format="%Y-%m-%d %H:%M" if kind == "text-datetime" else "%Y-%m-%d", unit="s",
                             error_is_null=True)  # fmt: skip
        if kind == "text-datetime":
            with_seconds = pc.strptime(text, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
            date_only = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
            column = pc.coalesce(with_seconds, column, date_only)
    seconds = pc.cast(pc.cast(column, pa.timestamp("ms")), pa.int64())
    days = pc.add(pc.divide(pc.cast(seconds, pa.float64()), 86_400_000.0), float(_EXCEL_EPOCH_DAYS))
    shown = pc.and_(pc.greater_equal(days, float(_FIRST_DAY)), pc.less(days, float(_LAST_DAY + 1)))
    result = pc.if_else(shown, days, None)
    return result.combine_chunks() if isinstance(result, pa.ChunkedArray) else result


def _cells(column: pa.ChunkedArray, kind: str) -> list[Any]:
    """A column as the Python values the sheet gets: numbers, booleans, day numbers or text; None is blank."""
    if kind == "integer":
        out = column.to_pylist()
        if column.type.bit_width == 64:  # smaller integers are always exact in a sheet's double
            big = pc.greater_equal(column, pa.scalar(_SAFE_INTEGER, column.type))
            if pa.types.is_signed_integer(column.type):
                big = pc.or_(big, pc.less_equal(column, pa.scalar(-_SAFE_INTEGER, column.type)))
            for position in np.flatnonzero(pc.fill_null(big, False).to_numpy(zero_copy_only=False)):
                out[position] = str(out[position])
        return out
    if kind == "number":
        floats = pc.cast(column, pa.float64())
        return pc.if_else(pc.is_finite(floats), floats, None).to_pylist()
    if kind in ("date", "datetime"):
        return _serials(column, kind).to_pylist()
    if kind == "bool":
        return column.to_pylist()
    text = (
        column
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        else column.cast(pa.large_string())
    )
    texts = np.asarray(pc.if_else(pc.equal(text, ""), None, text).to_pylist(), dtype=object)
    if kind == "text":
        return texts.tolist()
    if kind in ("text-integer", "text-number"):
        pattern = _INTEGER_TEXT if kind == "text-integer" else _DECIMAL_TEXT + "|" + _INTEGER_TEXT
        readable = pc.fill_null(pc.match_substring_regex(text, pattern), False)
        if not pc.any(readable).as_py():
            return texts.tolist()
        cast = pa.int64() if kind == "text-integer" else pa.float64()
        numbers = pc.cast(pc.if_else(readable, text, None), cast).to_numpy(zero_copy_only=False)
        mask = readable.to_numpy(zero_copy_only=False)
        texts[mask] = numbers[mask].tolist()
        return texts.tolist()
    days = _serials(text, kind)
    mask = days.is_valid().to_numpy(zero_copy_only=False)
    texts[mask] = days.to_numpy(zero_copy_only=False)[mask].tolist()
    return texts.tolist()


def _width(name: str, column: pa.ChunkedArray, kind: str, number_format: str | None) -> float:
    """A column as wide as its header and most of its first cells, within bounds."""
    if kind in ("date", "text-date"):
        content = 11
    elif kind in ("datetime", "text-datetime"):
        content = 19
    elif kind in ("integer", "number", "text-integer", "text-number"):
        content = 14 if number_format in (COUNT_FORMAT, AMOUNT_FORMAT) else 10
    elif kind == "bool":
        content = 6
    else:
        sample = column.slice(0, _SAMPLE)
        text = (
            sample
            if pa.types.is_string(sample.type) or pa.types.is_large_string(sample.type)
            else sample.cast(pa.large_string())
        )
        lengths = pc.drop_null(pc.utf8_length(text)).to_numpy(zero_copy_only=False)
        content = float(np.percentile(lengths, 90)) if len(lengths) else 0
    header = max((len(word) for word in str(name).split()), default=0)
    return float(min(max(content + 2, header + 3, MIN_WIDTH), MAX_WIDTH))
