"""Writing a result to a file (.csv, .parquet, .xlsx) or an .xlsx stream, formula-safe."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hsmap.errors import InputError
from hsmap.io import TableWriter, neutralise_formulas
from hsmap.store.errors import StoreError

XLSX_MAX_ROWS = 1_048_575


def write_table(frame: pd.DataFrame, path: Path, sheet: str = "store") -> None:
    """Write a result as .csv, .parquet or .xlsx (formula-safe, atomic: a failed write leaves nothing)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        if not path.parent.exists():
            raise InputError(str(path), None, None, f"folder {path.parent} does not exist")
        temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            with temporary.open("wb") as handle:
                write_xlsx(frame, handle, sheet)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
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
    book = Workbook(write_only=True)
    page = book.create_sheet(sheet)
    page.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in frame.columns:
        cell = WriteOnlyCell(page, value=str(name))
        cell.font = bold
        header.append(cell)
    page.append(header)
    safe = neutralise_formulas(frame)
    for row in safe.itertuples(index=False):
        page.append([_cell(value) for value in row])
    book.save(target)


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value
