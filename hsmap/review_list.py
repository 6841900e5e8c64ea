"""The customs lines a draft ATT report left for the reporting officer, as the draft's files carry them, and how a
reconciliation keeps those lines out of its comparison.

``hsmap draft-report`` lists every declaration line it looked at, with a ``decision``: counted in a report row,
given as voluntary information, or left for review with the kinds of question it raises (``review``). An .xlsx
draft keeps the lines left for review in its ``for review`` sheet; a .csv draft writes the whole list beside
itself as ``<name>.lines.csv``. A line is named by its file (the path relative to the dataset, or the file's
name) and its row as a spreadsheet counts it, and carries its HS subheading as a check that the same data are
being read.

``hsmap reconcile --report DRAFT`` reads the list back (:func:`read_review_list`) and gives each of those lines
the exclusion "left for review in the draft" (:func:`exclude_reviewed`): they appear among the excluded lines,
with their kinds, and never make a difference in a comparison cell. Any other report has no such list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from hsmap.errors import InputError
from hsmap.io import read_table

REVIEW_SHEET = "for review"
LINES_SUFFIX = ".lines.csv"
FOR_REVIEW = "for review"
REVIEW_COLUMNS = ("file", "row", "hs6", "review")
EXCLUSION = "left for review in the draft: "
_FORMULA_GUARD = r"^'(?=[=+\-@\t\r])"  # the quote hsmap's writers put before a cell a spreadsheet would run


def lines_path(report: Path | str) -> Path:
    """Where a .csv draft keeps its lines: ``draft.csv`` → ``draft.lines.csv``."""
    path = Path(report)
    return path.with_name(path.stem + LINES_SUFFIX)


def no_review() -> pd.DataFrame:
    """The review list of a report that is not a draft: no lines."""
    return pd.DataFrame({"file": pd.Series(dtype="str"), "row": pd.Series(dtype="int64"), "hs6": [], "review": []})


def read_review_list(report: Path | str) -> pd.DataFrame:
    """The lines a draft report left for review (columns ``file``, ``row``, ``hs6``, ``review``); empty for a
    report that is not a draft. Raises InputError when the list is there but lacks a column."""
    path = Path(report)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm") and path.is_file():
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True)
        except Exception:  # the report reader says what is wrong with the workbook
            return no_review()
        found = REVIEW_SHEET in book.sheetnames
        book.close()
        if not found:
            return no_review()
        table, shown = read_table(path, sheet=REVIEW_SHEET), f"{path.name} (sheet {REVIEW_SHEET!r})"
    elif suffix == ".csv" and lines_path(path).is_file():
        table, shown = read_table(lines_path(path)), lines_path(path).name
        if "decision" in table.columns:
            table = table[table["decision"] == FOR_REVIEW]
    else:
        return no_review()
    missing = [name for name in REVIEW_COLUMNS if name not in table.columns]
    if missing:
        raise InputError(shown, 1, missing[0], "the list of lines left for review lacks this column")
    rows = pd.to_numeric(table["row"], errors="coerce")
    bad = table.index[rows.isna() | (rows % 1 != 0)]
    if len(bad):
        raise InputError(shown, int(bad[0]) + 2, "row", f"{table.at[bad[0], 'row']!r} is not a row number")
    out = pd.DataFrame(
        {
            "file": table["file"].astype("str").str.replace(_FORMULA_GUARD, "", regex=True),
            "row": rows.astype("int64"),
            "hs6": table["hs6"].astype("str"),
            "review": table["review"].astype("str"),
        }
    )
    return out.drop_duplicates(["file", "row"]).reset_index(drop=True)


def mark_reviewed(chunk: pd.DataFrame, file: str, review: pd.DataFrame, row_offset: int = 0) -> pd.DataFrame:
    """A canonical customs chunk of ``file`` with the lines of ``review`` excluded ("left for review in the
    draft: <kinds>"); ``row_offset`` turns the chunk's row numbers into the file's (for a piece of a file). A
    listed line whose HS subheading differs is not the line the draft saw and is left as it is."""
    mine = review[review["file"] == file]
    if mine.empty or chunk.empty:
        return chunk
    keys = pd.DataFrame({"row": chunk["source_row"].to_numpy() + row_offset, "hs6": chunk["hs6"].to_numpy()})
    found = keys.merge(mine[["row", "hs6", "review"]], on=["row", "hs6"], how="left")["review"]
    listed = found.notna().to_numpy() & (chunk["exclusion"] == "").to_numpy()
    if not listed.any():
        return chunk
    reason = (EXCLUSION + found.fillna("")).to_numpy()
    return chunk.assign(exclusion=chunk["exclusion"].mask(listed, pd.Series(reason, index=chunk.index)))


def exclude_reviewed(chunks: Iterable[pd.DataFrame], file: str, review: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """:func:`mark_reviewed` over the canonical chunks of one file."""
    for chunk in chunks:
        yield mark_reviewed(chunk, file, review)
