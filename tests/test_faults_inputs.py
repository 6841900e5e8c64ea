"""Fault tests: hostile and untidy input is handled, never a traceback, never a silent change.

Formula injection through column names and category columns; valid input that used to raise (a 10 MB
cell, a header-only labelled file, nested, category and time-zone-aware Parquet columns); and input
problems that used to pass unnoticed (mixed UTF-8 and Latin-1, UTF-16, uncomputed XLSX formulas, 1e309,
dates that do not exist) — each read correctly or flagged.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hsmap.cli.main import app
from hsmap.reconcile import reconcile_files

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"
HEADER = "hs_code,description,quantity,unit,value,currency,partner,date\n"
BIG = 10_000_000  # characters in the one huge cell


def invoke(*args: str | Path):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def ok(result) -> None:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def xlsx_rows(path: Path) -> list[list[object]]:
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def risky(text: object) -> bool:
    return isinstance(text, str) and text[:1] in ("=", "+", "-", "@")


# --- 6. formula injection -------------------------------------------------------------------------------------


def test_a_column_named_like_a_formula_is_neutralised_in_csv_and_xlsx(tmp_path: Path) -> None:
    source = tmp_path / "lines.csv"
    source.write_text(
        'hs_code,description,"=HYPERLINK(""http://evil.example"",""click"")"\n93019000,ASSAULT RIFLE,x\n',
        encoding="utf-8",
    )
    for suffix in (".csv", ".xlsx"):
        ok(invoke("classify", source, "-o", tmp_path / f"out{suffix}"))
    header = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "\"'=HYPERLINK(" in header
    names = xlsx_rows(tmp_path / "out.xlsx")[0]
    assert '\'=HYPERLINK("http://evil.example","click")' in names
    assert not any(risky(name) for name in names)


def test_a_category_column_is_neutralised_like_text(tmp_path: Path) -> None:
    source = tmp_path / "lines.parquet"
    table = pa.table(
        {
            "hs_code": ["93019000", "87100000"],
            "description": ["ASSAULT RIFLE", "BATTLE TANK"],
            "remark": pa.array(["=1+1", "@SUM(A1)"]).dictionary_encode(),
        }
    )
    pq.write_table(table, source)
    for suffix in (".csv", ".xlsx"):
        ok(invoke("classify", source, "-o", tmp_path / f"out{suffix}"))
    assert read_csv(tmp_path / "out.csv")["remark"].tolist() == ["'=1+1", "'@SUM(A1)"]
    assert [row[2] for row in xlsx_rows(tmp_path / "out.xlsx")[1:]] == ["'=1+1", "'@SUM(A1)"]


# --- 7. valid input that used to raise ------------------------------------------------------------------------


@pytest.fixture
def big_cell(tmp_path: Path) -> Path:
    """The example declarations with one description of ten million characters (larger than a read block)."""
    frame = read_csv(EXAMPLES / "declarations.csv").head(5)
    frame.loc[2, "description"] = "ASSAULT RIFLES " + "X" * BIG
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_ten_megabyte_cell_is_read_by_every_command(tmp_path: Path, big_cell: Path) -> None:
    ok(invoke("classify", big_cell, "-o", tmp_path / "out.csv"))
    out = read_csv(tmp_path / "out.csv")
    assert len(out) == 5 and len(out["description"][2]) == len("ASSAULT RIFLES ") + BIG
    labelled = tmp_path / "labelled.csv"
    read_csv(big_cell).assign(label="VIII.SA.4").to_csv(labelled, index=False)
    ok(invoke("evaluate", labelled))
    report = tmp_path / "report.csv"
    frame = read_csv(EXAMPLES / "att_report.csv")
    frame.loc[0, "Comments on the transfer"] = "Y" * BIG
    frame.to_csv(report, index=False)
    ok(invoke("reconcile", "--customs", big_cell, "--report", report, "-o", tmp_path / "rec.csv"))
    ok(invoke("propose", "--evidence", big_cell, "-o", tmp_path / "draft.md"))
    ok(invoke("store", "load", report, "--customs", big_cell, "--customs-reporter", "CZE", "--db",
              tmp_path / "store.duckdb"))  # fmt: skip


def test_a_header_only_labelled_file_is_one_clear_line(tmp_path: Path) -> None:
    source = tmp_path / "labelled.csv"
    source.write_text("hs_code,description,label\n", encoding="utf-8")
    result = invoke("evaluate", source)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no labelled lines" in result.stderr


def test_nested_category_and_time_zone_columns_reach_csv_and_xlsx(tmp_path: Path) -> None:
    prague = dt.timezone(dt.timedelta(hours=1))
    source = tmp_path / "lines.parquet"
    table = pa.table(
        {
            "hs_code": ["93019000", "87100000"],
            "description": ["ASSAULT RIFLE", "BATTLE TANK"],
            "serials": pa.array([["A1", "A2"], []]),
            "origin": pa.array([{"country": "CZ", "plant": 7}, None]),
            "kind": pa.array(["rifle", "tank"]).dictionary_encode(),
            "shipped": pa.array(
                [dt.datetime(2024, 1, 9, 13, 30, tzinfo=prague), None], pa.timestamp("us", tz="Europe/Prague")
            ),
        }
    )
    pq.write_table(table, source)
    for suffix in (".csv", ".xlsx", ".parquet"):
        ok(invoke("classify", source, "-o", tmp_path / f"out{suffix}"))
    out = read_csv(tmp_path / "out.csv")
    assert [json.loads(cell) for cell in out["serials"]] == [["A1", "A2"], []]
    assert json.loads(out["origin"][0]) == {"country": "CZ", "plant": 7} and out["origin"][1] == ""
    assert out["kind"].tolist() == ["rifle", "tank"]
    rows = xlsx_rows(tmp_path / "out.xlsx")
    header = rows[0]
    assert header[:6] == ["hs_code", "description", "serials", "origin", "kind", "shipped (UTC)"]
    assert rows[1][2:6] == ['["A1", "A2"]', '{"country": "CZ", "plant": 7}', "rifle", dt.datetime(2024, 1, 9, 12, 30)]
    assert pq.read_table(tmp_path / "out.parquet").schema.field("serials").type == pa.list_(pa.string())


# --- 8. input problems that used to pass unnoticed ------------------------------------------------------------


def test_mixed_utf8_and_latin1_lines_are_each_read_right(tmp_path: Path) -> None:
    source = tmp_path / "lines.csv"
    line = "93019000,FUSIL DE ASALTO,10,u,5000,USD,PERÚ,2024-01-09\n"
    source.write_bytes(HEADER.encode() + line.encode("utf-8") + line.encode("latin-1"))
    ok(invoke("classify", source, "-o", tmp_path / "out.csv"))
    out = read_csv(tmp_path / "out.csv")
    assert out["partner"].tolist() == ["PERÚ", "PERÚ"]
    assert out["flags"].tolist() == ["", ""]


def test_utf16_with_a_byte_order_mark_is_read_and_without_one_is_named(tmp_path: Path) -> None:
    text = HEADER + "93019000,ASSAULT RIFLE,10,u,5000,EUR,CÔTE D'IVOIRE,2024-01-09\n"
    (tmp_path / "bom.csv").write_bytes(text.encode("utf-16"))
    ok(invoke("classify", tmp_path / "bom.csv", "-o", tmp_path / "out.csv"))
    assert read_csv(tmp_path / "out.csv")["partner"].tolist() == ["CÔTE D'IVOIRE"]
    (tmp_path / "plain.csv").write_bytes(text.encode("utf-16-le"))
    result = invoke("classify", tmp_path / "plain.csv", "-o", tmp_path / "out2.csv")
    assert result.exit_code == 2 and "UTF-16" in result.stderr and "Traceback" not in result.output


def test_uncomputed_xlsx_formulas_are_flagged_not_read_as_blank(tmp_path: Path) -> None:
    book = openpyxl.Workbook()  # openpyxl stores formulas without computing them, as many exporters do
    sheet = book.active
    sheet.append(["hs_code", "description", "quantity", "unit", "value", "currency", "partner"])
    sheet.append(["93019000", "ASSAULT RIFLE", "=2*5", "u", 5000, "EUR", "FRA"])
    sheet.append(["93019000", "ASSAULT RIFLE", 10, "u", "=SUM(E2:E2)", "EUR", "FRA"])
    sheet.append(["93019000", "ASSAULT RIFLE", 10, "u", 5000, "EUR", "FRA"])
    book.save(tmp_path / "lines.xlsx")
    ok(invoke("classify", tmp_path / "lines.xlsx", "-o", tmp_path / "out.csv"))
    out = read_csv(tmp_path / "out.csv")
    assert out["flags"].tolist() == ["bad-quantity", "bad-value", ""]
    assert out["quantity"][0] == "'=2*5"  # the formula shown, and neutralised


def test_non_finite_numbers_and_impossible_dates_are_flagged(tmp_path: Path) -> None:
    source = tmp_path / "lines.csv"
    source.write_text(
        HEADER
        + "93019000,ASSAULT RIFLE,1e309,u,5000,EUR,FRA,2024-01-09\n"
        + "93019000,ASSAULT RIFLE,10,u,inf,EUR,FRA,2024-02-30\n"
        + "93019000,ASSAULT RIFLE,10,u,5000,EUR,FRA,2024-13-45\n"
        + "93019000,ASSAULT RIFLE,10,u,5000,EUR,FRA,31.04.2024\n"
        + "93019000,ASSAULT RIFLE,10,u,5000,EUR,FRA,2024-02-29\n",
        encoding="utf-8",
    )
    ok(invoke("classify", source, "-o", tmp_path / "out.csv"))
    assert read_csv(tmp_path / "out.csv")["flags"].tolist() == [
        "bad-quantity",
        "bad-value;bad-date",
        "bad-date",
        "bad-date",
        "",
    ]


def test_an_infinite_quantity_is_a_problem_in_the_reconciliation_not_a_mismatch(tmp_path: Path, kb) -> None:
    customs = tmp_path / "customs.csv"
    frame = read_csv(EXAMPLES / "declarations.csv")
    frame.loc[0, "quantity"] = "1e309"  # the Ukraine BREN 2 line the report matches exactly
    frame.to_csv(customs, index=False)
    result = reconcile_files(customs, EXAMPLES / "att_report.csv", kb=kb)
    numbers = result.comparison.select_dtypes("number").to_numpy(dtype=float)
    assert not (numbers == float("inf")).any()
    assert "1e309" in " ".join(result.problems.astype(str).to_numpy().ravel())
