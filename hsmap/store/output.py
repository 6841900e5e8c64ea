"""Writing a result to a file (.csv, .parquet, .xlsx) or an .xlsx stream, formula-safe."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pandas as pd

from hsmap.io import TableWriter
from hsmap.store.errors import StoreError
from hsmap.xlsx import Layout, TooManyRows, XlsxBook, check_rows, xlsx_file

_WRAP = ("description", "comments", "explanation", "partner_note", "source_rows")


def write_table(frame: pd.DataFrame, path: Path, sheet: str = "store") -> None:
    """Write a result as .csv, .parquet or .xlsx (formula-safe, atomic: a failed write leaves nothing)."""
    if path.suffix.lower() == ".xlsx":
        _refuse_long(frame)
        with xlsx_file(path) as book:
            _sheet(book, frame, sheet)
        return
    with TableWriter(path) as writer:
        writer.write(frame)


def write_xlsx(frame: pd.DataFrame, target: IO[bytes], sheet: str = "store") -> None:
    """One typed sheet (:mod:`hsmap.xlsx`) into a binary stream, e.g. a download."""
    _refuse_long(frame)
    book = XlsxBook(target)
    _sheet(book, frame, sheet)
    book.close()


def _refuse_long(frame: pd.DataFrame) -> None:
    try:
        check_rows(len(frame))
    except TooManyRows as error:
        raise StoreError(str(error)) from None


def _sheet(book: XlsxBook, frame: pd.DataFrame, name: str) -> None:
    wrap = [column for column in frame.columns if column in _WRAP]
    book.frame(name, frame, Layout(wrap=wrap, widths=dict.fromkeys(wrap, 48)))
