"""Write a result table to the terminal as a rich table, CSV or JSON (``--format``)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING

from hsmap.cli.app import console

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def emit(frame: pd.DataFrame, fmt: Format, title: str | None = None, to: Console = console) -> None:
    """Show ``frame`` on stdout in the chosen format (a table on ``to``: stderr when stdout holds data); CSV is
    formula-safe, as people redirect it to a file."""
    if fmt is Format.csv:
        from hsmap.spreadsheet import neutralise_formulas

        neutralise_formulas(frame).to_csv(sys.stdout, index=False, lineterminator="\n")
    elif fmt is Format.json:
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False, indent=2) + "\n")
    else:
        from rich.table import Table

        table = Table(title=title, show_lines=False, header_style="bold")
        for column in frame.columns:
            table.add_column(str(column), overflow="fold")
        for row in frame.astype("object").where(frame.notna(), "").astype("str").itertuples(index=False):
            table.add_row(*row)
        to.print(table)
