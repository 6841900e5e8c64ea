"""Write a result table to the terminal as a rich table, CSV or JSON (``--format``)."""

from __future__ import annotations

import sys
from enum import StrEnum

import pandas as pd
from rich.table import Table

from cli.app import console
from hsmap.spreadsheet import neutralise_formulas


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def emit(frame: pd.DataFrame, fmt: Format, title: str | None = None) -> None:
    """Show ``frame`` on stdout in the chosen format; CSV is formula-safe, as people redirect it to a file."""
    if fmt is Format.csv:
        neutralise_formulas(frame).to_csv(sys.stdout, index=False, lineterminator="\n")
    elif fmt is Format.json:
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False, indent=2) + "\n")
    else:
        table = Table(title=title, show_lines=False, header_style="bold")
        for column in frame.columns:
            table.add_column(str(column), overflow="fold")
        for row in frame.astype("object").where(frame.notna(), "").astype("str").itertuples(index=False):
            table.add_row(*row)
        console.print(table)
