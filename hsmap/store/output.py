"""Writing a result to a file (.csv, .parquet, .xlsx) or an .xlsx stream, formula-safe."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from hsmap.io import TableWriter
from hsmap.outputs import write_atomically
from hsmap.spreadsheet import spreadsheet_table, xlsx_rows
from hsmap.store.errors import StoreError

XLSX_MAX_ROWS = 1_048_575


def write_table(frame: pd.DataFrame, path: Path, sheet: str = "store") -> None:
    """Write a result as .csv, .parquet or .xlsx (formula-safe, atomic: a failed write leaves nothing)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        write_atomically(path, lambda partial: write_xlsx(frame, partial, sheet))
        return
    with TableWriter(path) as writer:
        writer.write(frame)


def write_xlsx(frame: pd.DataFrame, target: io.BufferedIOBase | io.BytesIO | Any, sheet: str = "store") -> None:
    """One sheet with a bold, frozen header; text a spreadsheet would run as a formula is neutralised."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if len(frame) > XLSX_MAX_ROWS:
        raise StoreError(f"{len(frame):,} rows do not fit in an .xlsx sheet; write .csv or .parquet")
    table = spreadsheet_table(pa.Table.from_pandas(frame, preserve_index=False), xlsx=True)
    book = Workbook(write_only=True)
    page = book.create_sheet(sheet)
    page.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in table.schema.names:
        cell = WriteOnlyCell(page, value=name)
        cell.font = bold
        header.append(cell)
    page.append(header)
    for row in xlsx_rows(table):
        page.append(row)
    book.save(target)
