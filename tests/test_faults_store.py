"""Fault tests of the store: a file that is not a store is never taken for one; SQL typed by a person reads
the store and nothing else; the local page bounds what one request may cost; a load never locks readers out.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hsmap.cli.main import app
from hsmap.store import Store, StoreError, updating
from hsmap.store.connection import LOCK_SUFFIX
from hsmap.store.web import StoreApp, StoreServer, make_server

DATA = Path(__file__).parent / "data" / "store"
REPORTS = ("cze_2024.csv", "cze_2023.csv", "ukr_2024.csv", "pol_2024.csv")


def invoke(*args: str | Path):
    return CliRunner().invoke(app, [str(arg) for arg in args])


@pytest.fixture
def db(tmp_path: Path, kb) -> Path:
    """A store of the four planted reports, one of them with a description written as a formula."""
    formula = tmp_path / "svk_2022.csv"
    formula.write_text(
        "Reporting State,Year,Flow,Basis,Category,Partner,Number of items,Description\n"
        'Slovakia,2022,export,actual,I,Ukraine,1,"=HYPERLINK(""http://evil.example"",""x"")"\n',
        encoding="utf-8",
    )
    path = tmp_path / "store.duckdb"
    with Store(path, kb=kb) as store:
        results = store.load([*(DATA / name for name in REPORTS), formula])
        assert all(result.status == "loaded" for result in results)
    return path


def new_report(folder: Path) -> Path:
    path = folder / "est_2023.csv"
    path.write_text(
        "Reporting State,Year,Flow,Basis,Category,Partner,Number of items\nEstonia,2023,export,actual,I,Latvia,2\n",
        encoding="utf-8",
    )
    return path


def report_lines(db: Path) -> int:
    with Store(db, read_only=True) as store:
        return store.count()


# --- 3. a path that is not a store ---------------------------------------------------------------------------


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
    tmp_path: Path, name: str, words: str, one_line_error
) -> None:
    db = tmp_path / name
    if name == "folder":
        db.mkdir()
    elif name != "new.csv":
        db.write_bytes((DATA / "cze_2024.csv").read_bytes())
    before = db.read_bytes() if db.is_file() else None
    for args in (["store", "load", DATA / "cze_2024.csv", "--db", db], ["store", "sources", "--db", db]):
        one_line_error(invoke(*args), words)
    assert (db.read_bytes() if db.is_file() else None) == before
    assert db.exists() == (name != "new.csv")


# --- 6. CSV on the terminal is formula-safe ------------------------------------------------------------------


def test_csv_on_the_terminal_is_formula_safe(db: Path) -> None:
    queried = invoke("store", "query", "--reporter", "SVK", "--format", "csv", "--db", db)
    assert queried.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(queried.stdout)))
    assert [row["description"] for row in rows] == ['\'=HYPERLINK("http://evil.example","x")']
    sql = invoke("store", "sql", "SELECT description AS \"=cmd|' /C calc'!A0\" FROM report_lines "
                 "WHERE reporter_iso3 = 'SVK'", "--format", "csv", "--db", db)  # fmt: skip
    assert sql.exit_code == 0
    header, row = list(csv.reader(io.StringIO(sql.stdout)))[:2]
    assert header == ["'=cmd|' /C calc'!A0"] and row[0].startswith("'=HYPERLINK")


# --- 7. SQL that used to raise ----------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["", "   ", ";", " ; "])
def test_an_empty_sql_statement_is_one_clear_line(db: Path, statement: str, one_line_error) -> None:
    one_line_error(invoke("store", "sql", statement, "--db", db), "no SQL statement")


def test_sql_results_with_lists_structs_and_gaps_are_shown(db: Path) -> None:
    result = invoke("store", "sql", "SELECT [1, 2] AS l, {'a': 1} AS s, NULL::DOUBLE AS gap", "--db", db)
    assert result.exit_code == 0 and "[1, 2]" in result.stdout


# --- 9. store sql and the page read the store only ------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_csv('/etc/passwd', sep = ':')",
        "SELECT * FROM read_text('{secret}')",
        "COPY (SELECT * FROM report_lines) TO '{copy}'",
        "ATTACH '{other}' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SELECT * FROM 'https://example.org/data.parquet'",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
    ],
)
def test_store_sql_reads_no_file_network_or_extension(db: Path, tmp_path: Path, statement: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the minister's password")
    text = statement.format(secret=secret, copy=tmp_path / "copy.csv", other=tmp_path / "other.duckdb")
    result = invoke("store", "sql", text, "--db", db)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "password" not in result.output
    assert not (tmp_path / "copy.csv").exists() and not (tmp_path / "other.duckdb").exists()
    assert invoke("store", "sql", "SELECT count(*) AS n FROM report_lines", "--db", db).exit_code == 0


def test_the_page_connection_is_sandboxed_too(db: Path, kb) -> None:
    with StoreApp(db, kb).open() as store, pytest.raises(StoreError, match="disabled"):
        store.sql("SELECT * FROM read_csv('/etc/passwd', sep = ':')")


# --- 10. the page under load -------------------------------------------------------------------------------------


@pytest.fixture
def server(db: Path, kb) -> Iterator[tuple[StoreServer, list[str]]]:
    log: list[str] = []
    running = make_server(db, kb=kb, log=log.append, max_connections=3, idle_seconds=3)
    running.start_background()
    try:
        yield running, log
    finally:
        running.shutdown()
        running.server_close()


def fetch(server: StoreServer, target: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(server.url + target, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_xlsx_download_too_large_is_refused_before_it_is_built(
    db: Path, kb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hsmap.store.web.MAX_XLSX_ROWS", 5)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole selection was queried")

    monkeypatch.setattr(Store, "query", never)
    response = StoreApp(db, kb).respond("/api/download?format=xlsx")
    assert response.status == 400 and b"download CSV" in response.body  # type: ignore[operator]


def test_a_filter_with_thousands_of_values_is_refused_and_hundreds_are_answered(
    server: tuple[StoreServer, list[str]],
) -> None:
    running, _ = server
    many = ",".join(f"Nowhere {number}" for number in range(2000))
    status, body = fetch(running, f"api/query?partner={urllib.parse.quote(many)}")
    assert status == 400 and "more than 300 values" in body["error"]
    some = ",".join(f"Nowhere {number}" for number in range(250))
    assert fetch(running, f"api/query?partner={urllib.parse.quote(some)}")[0] == 200


@pytest.mark.parametrize("offset", ["9223372036854775808", "18446744073709551616", "-1", str(10**400)])
def test_an_offset_out_of_range_is_answered_400(server: tuple[StoreServer, list[str]], offset: str) -> None:
    status, body = fetch(server[0], f"api/query?offset={offset}")
    assert status == 400 and "error" in body


def test_idle_connections_time_out_and_the_server_never_holds_more_than_its_slots(
    server: tuple[StoreServer, list[str]],
) -> None:
    running, _ = server
    host, port = running.server_address[:2]
    idle = [socket.create_connection((host, port), timeout=10) for _ in range(3)]  # every slot, sending nothing
    time.sleep(0.3)
    extra = socket.create_connection((host, port), timeout=10)
    assert extra.recv(64).startswith(b"HTTP/1.0 503")  # refused at once, no thread for it
    deadline = time.monotonic() + 20
    for connection in idle:  # the server closes each after three seconds of silence
        connection.settimeout(max(0.1, deadline - time.monotonic()))
        while connection.recv(1024):
            pass
        connection.close()
    assert fetch(running, "api/options")[0] == 200  # the slots are free again


def test_clients_that_leave_early_leave_no_traceback(
    server: tuple[StoreServer, list[str]], capfd: pytest.CaptureFixture[str]
) -> None:
    running, log = server
    host, port = running.server_address[:2]
    for target in ("/api/download?format=csv", "/api/download?format=xlsx", "/"):
        client = socket.create_connection((host, port), timeout=10)
        client.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        client.close()  # a reset, before the answer is read
    deadline = time.monotonic() + 120
    while (status := fetch(running, "api/options")[0]) == 503 and time.monotonic() < deadline:
        time.sleep(0.2)  # the three slots are busy until their answers fail
    assert status == 200
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "Traceback" not in "\n".join(log)
    assert not [line for line in log if "BrokenPipe" in line or "ConnectionReset" in line]


# --- 11. a load never locks readers out ------------------------------------------------------------------------


def test_readers_keep_reading_while_a_load_writes_into_a_copy(db: Path, kb) -> None:
    before = report_lines(db)
    with updating(db) as side, Store(side, kb=kb) as writer:
        assert [result.status for result in writer.load([new_report(db.parent)])] == ["loaded"]
        assert report_lines(db) == before  # a reader opens the store during the load and sees it as it was
    assert report_lines(db) == before + 1  # and the finished load replaced it
    assert sorted(path.name for path in db.parent.iterdir() if path.name.startswith(db.name)) == [
        db.name,
        db.name + LOCK_SUFFIX,
    ]


def test_a_failed_load_leaves_the_store_as_it_was(db: Path, kb) -> None:
    before = db.read_bytes()
    with pytest.raises(RuntimeError), updating(db) as side, Store(side, kb=kb) as writer:
        writer.sql("DELETE FROM report_lines")
        raise RuntimeError("interrupted")
    assert db.read_bytes() == before
    assert not [path for path in db.parent.iterdir() if "partial" in path.name]


def test_a_second_load_waits_with_a_message(db: Path, tmp_path: Path, hsmap_executable: str) -> None:
    before = report_lines(db)
    errors = tmp_path / "stderr.txt"
    with (db.parent / (db.name + LOCK_SUFFIX)).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another load is running
        with errors.open("w") as stderr:
            process = subprocess.Popen(
                [hsmap_executable, "store", "load", str(new_report(tmp_path)), "--db", str(db)],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + 300
        while "waiting for another hsmap store load" not in errors.read_text():
            assert process.poll() is None and time.monotonic() < deadline, errors.read_text()
            time.sleep(0.05)
        assert report_lines(db) == before  # readers are not locked out meanwhile
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert process.wait(timeout=300) == 0, errors.read_text()
    assert report_lines(db) == before + 1


def test_a_stopped_load_leaves_the_store_as_it_was(db: Path, tmp_path: Path, hsmap_executable: str) -> None:
    customs = tmp_path / "customs.csv"
    lines = (DATA / "customs_cze_2024.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    customs.write_text(lines[0] + "".join(lines[1:]) * 4000, encoding="utf-8")  # seconds of classifying
    before = db.read_bytes()
    command = [hsmap_executable, "store", "load", "--customs", str(customs), "--customs-reporter", "CZE"]
    process = subprocess.Popen(
        [*command, "--db", str(db)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    side = db.with_name(db.name + ".hsmap-partial")
    deadline = time.monotonic() + 300
    while not side.exists():  # the copy the load writes into
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 143 and "Traceback" not in stderr, stderr
    assert db.read_bytes() == before
    assert not [path for path in tmp_path.iterdir() if "partial" in path.name]
