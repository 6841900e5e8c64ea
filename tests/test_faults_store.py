"""Fault tests of the store: a file that is not a store is never taken for one."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

DATA = Path(__file__).parent / "data" / "store"


def invoke(*args: str | Path):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def assert_one_line_error(result, words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert words in lines[0], lines[0]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("existing.csv", "not a .csv file"),  # DuckDB would open it as an in-memory view and store nothing
        ("new.csv", "not a .csv file"),  # a mix-up of arguments, refused before a database named .csv exists
        ("report.parquet", "not a .parquet file"),
        ("notes.duckdb", "not a DuckDB database file"),  # the right name, the wrong content
        ("folder", "is a folder"),
    ],
)
def test_a_store_path_that_is_not_a_duckdb_file_is_refused_and_left_alone(
    tmp_path: Path, name: str, words: str
) -> None:
    db = tmp_path / name
    if name == "folder":
        db.mkdir()
    elif name != "new.csv":
        db.write_bytes((DATA / "cze_2024.csv").read_bytes())
    before = db.read_bytes() if db.is_file() else None
    for args in (["store", "load", DATA / "cze_2024.csv", "--db", db], ["store", "sources", "--db", db]):
        assert_one_line_error(invoke(*args), words)
    assert (db.read_bytes() if db.is_file() else None) == before
    assert db.exists() == (name != "new.csv")
