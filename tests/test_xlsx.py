"""The one .xlsx writer, opened as a person's spreadsheet opens it (openpyxl): typed cells, formats, a bold
frozen header with a filter, widths; and a sheet too long for Excel refused before anything is written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import hsmap.xlsx
from hsmap.classify import pipeline
from hsmap.cli.main import app
from hsmap.io import TableWriter, read_table
from hsmap.outputs import partial_path
from hsmap.store.output import write_table
from hsmap.xlsx import TooManyRows, xlsx_file

EXAMPLES = Path(__file__).parents[1] / "examples"


def _classify(source: Path, target: Path) -> None:
    result = CliRunner().invoke(app, ["classify", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output


def _cells(path: Path, sheet: str | None = None) -> tuple[list[str], list[list[openpyxl.cell.Cell]], object]:
    book = openpyxl.load_workbook(path)
    page = book[sheet] if sheet else book.worksheets[0]
    rows = list(page.iter_rows())
    return [cell.value for cell in rows[0]], rows[1:], page


def test_classify_from_csv_writes_numbers_and_dates_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    _classify(EXAMPLES / "declarations.csv", target)
    header, rows, page = _cells(target)
    first = {name: cell for name, cell in zip(header, rows[0], strict=True)}
    assert first["quantity"].value == 500 and first["quantity"].number_format == "#,##0"
    assert first["value"].value == 1_150_000 and first["value"].number_format == "#,##0"
    assert first["date"].value == dt.datetime(2024, 1, 9) and first["date"].number_format == "yyyy-mm-dd"
    assert first["hs_code"].value == "93019000"  # a code stays text however it reads
    assert first["declaration_id"].value == "24CZ61000000079191" and first["hs6"].value == "9301.90"
    assert isinstance(first["confidence"].value, float) and first["hs_edition"].value == 2022
    assert all(cell.font.b for cell in page[1]) and page.freeze_panes == "A2"
    assert page.auto_filter.ref == f"A1:S{len(rows) + 1}"
    widths = [page.column_dimensions[cell.column_letter].width for cell in page[1]]
    assert all(8 <= width <= 62 for width in widths)
    assert widths[header.index("description")] > widths[header.index("unit")]


def test_an_xlsx_input_keeps_its_numbers_and_dates_through_classify(tmp_path: Path) -> None:
    source = tmp_path / "in.xlsx"
    frame = pd.DataFrame(
        {
            "hs_code": ["93019000", "87100000"],
            "description": ["ASSAULT RIFLES", "BATTLE TANKS"],
            "date": [dt.datetime(2024, 1, 9), dt.datetime(2024, 3, 1, 13, 5)],
            "quantity": [500, 10],
            "value": [1150000.5, 9_500_000],
        }
    )
    frame.to_excel(source, index=False)
    assert read_table(source)["date"].tolist() == ["2024-01-09", "2024-03-01 13:05:00"]  # as a person sees them
    target = tmp_path / "out.xlsx"
    _classify(source, target)
    header, rows, _ = _cells(target)
    values = [[cell.value for cell in row] for row in rows]
    assert [row[header.index("date")] for row in values] == [dt.datetime(2024, 1, 9), dt.datetime(2024, 3, 1, 13, 5)]
    assert [row[header.index("quantity")] for row in values] == [500, 10]
    assert [row[header.index("value")] for row in values] == [1150000.5, 9_500_000]


def test_arrow_types_become_cell_types(tmp_path: Path) -> None:
    table = pa.table(
        {
            "count": pa.array([3, None, 2**60], pa.int64()),
            "amount": pa.array([1.25, float("nan"), None]),
            "day": pa.array([dt.date(2024, 1, 9), None, dt.date(1899, 1, 1)], pa.date32()),
            "at": pa.array([dt.datetime(2024, 1, 9, 13, 30), None, None], pa.timestamp("us")),
            "ok": pa.array([True, False, None]),
            "mixed": ["12", "n/a", "-3.5"],
        }
    )
    target = tmp_path / "typed.xlsx"
    with xlsx_file(target) as book:
        book.frame("typed", table)
    header, rows, page = _cells(target)
    assert page.title == "typed"
    column = {name: [row[position].value for row in rows] for position, name in enumerate(header)}
    assert column["count"] == [3, None, str(2**60)]  # beyond 2**53 a sheet's number is not exact: text
    assert column["amount"] == [1.25, None, None]
    assert column["day"] == [dt.datetime(2024, 1, 9), None, None]  # before 1 March 1900 Excel cannot show a day
    assert column["at"] == [dt.datetime(2024, 1, 9, 13, 30), None, None]
    assert column["ok"] == [True, False, None]
    assert column["mixed"] == ["12", "n/a", "-3.5"]  # not every cell reads as a number: the column stays text


def test_a_later_cell_that_is_not_a_number_stays_text(tmp_path: Path) -> None:
    target = tmp_path / "chunks.xlsx"
    with TableWriter(target) as writer:
        writer.write(pd.DataFrame({"quantity": ["1", "2"]}, dtype="str"))
        writer.write(pd.DataFrame({"quantity": ["n/a", "4"]}, dtype="str"))
    _, rows, page = _cells(target)
    assert [row[0].value for row in rows] == [1, 2, "n/a", 4]
    assert page.auto_filter.ref == "A1:A5"


def test_a_sheet_too_long_is_refused_before_anything_is_written(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "big.xlsx"
    with pytest.raises(TooManyRows, match=r"1,048,576 rows are more than an \.xlsx sheet holds.*\.csv or \.parquet"):
        TableWriter(target, rows=1_048_576)
    assert not target.exists() and not partial_path(target).exists()

    monkeypatch.setattr(hsmap.xlsx, "XLSX_MAX_ROWS", 30)  # the 41-line example is then too long
    source = tmp_path / "lines.parquet"
    pq.write_table(pa.Table.from_pandas(read_table(EXAMPLES / "declarations.csv")), source)
    monkeypatch.setattr(pipeline, "_stream", lambda *args, **kwargs: pytest.fail("classified before refusing"))
    result = CliRunner().invoke(app, ["classify", str(source), "-o", str(target)])
    assert result.exit_code == 2 and "41 rows are more than an .xlsx sheet holds" in result.stderr
    with TableWriter(target) as writer, pytest.raises(TooManyRows):  # row count unknown: at the first chunk past it
        writer.write(pd.DataFrame({"a": range(20)}))
        writer.write(pd.DataFrame({"a": range(20)}))


def test_a_store_extract_is_the_same_typed_sheet(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"year": [2024], "reporter_iso3": ["CZE"], "items": [12], "value": [1.5e6], "description": ["=HYPERLINK()"]}
    )
    target = tmp_path / "extract.xlsx"
    write_table(frame, target, sheet="report lines")
    header, rows, page = _cells(target, "report lines")
    cells = {name: cell for name, cell in zip(header, rows[0], strict=True)}
    assert cells["year"].value == 2024 and cells["year"].number_format == "0"
    assert cells["items"].number_format == "#,##0" and cells["value"].number_format == "#,##0.00"
    assert cells["description"].value == "'=HYPERLINK()" and cells["description"].alignment.wrap_text
    assert page.freeze_panes == "A2" and page.auto_filter.ref == "A1:E2"
