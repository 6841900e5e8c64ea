"""Fault tests: nothing hsmap writes destroys data.

A folder hsmap did not write is never written into; an output is never an input; a full disk (simulated by a
file-size limit, which makes every write beyond it fail as a full disk does, or by a writer whose close or
flush fails) leaves the previous output byte for byte as it was and no partial file; SIGTERM and SIGINT sent
to the real ``hsmap`` process leave no partial output either. Every failure is one line on stderr, exit 2.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hsmap.cli.main import app
from hsmap.outputs import MANIFEST, PARTIAL_SUFFIX

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"
LIMIT = 8 * 1024  # bytes a file may grow to in the full-disk cases: smaller than every output below


def invoke(*args: str | Path):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def partials(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if PARTIAL_SUFFIX in path.name or path.name.endswith(".partial")]


@pytest.fixture
def lines_csv(tmp_path: Path) -> Path:
    """About 2,000 declaration lines (the labelled set three times): every output of them exceeds LIMIT."""
    frame = pd.read_csv(DATA / "labelled_declarations.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "lines.csv"
    pd.concat([frame] * 3).to_csv(path, index=False)
    return path


# --- 1. folders hsmap did not write ------------------------------------------------------------------------


@pytest.fixture
def input_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in" / "year=2024"
    folder.mkdir(parents=True)
    (folder / "part-0.csv").write_bytes((EXAMPLES / "declarations.csv").read_bytes())
    return tmp_path / "in"


def test_a_folder_of_someone_elses_files_is_refused_and_left_as_it_was(
    input_folder: Path, tmp_path: Path, one_line_error
) -> None:
    target = tmp_path / "out"
    (target / "sub").mkdir(parents=True)
    (target / "thesis.docx").write_bytes(b"four years of work")
    (target / "sub" / "notes.txt").write_text("notes")
    before = snapshot(tmp_path)
    result = invoke("classify", input_folder, "-o", target)
    one_line_error(result, "not written by hsmap")
    assert snapshot(tmp_path) == before
    assert not partials(tmp_path)


@pytest.mark.parametrize(
    ("output", "words"),
    [("in", "is the input"), ("in/classified", "inside the input folder"), ("in/year=2024", "is the input")],
)
def test_an_output_folder_that_is_or_lies_inside_the_input_is_refused(
    input_folder: Path, tmp_path: Path, output: str, words: str, one_line_error
) -> None:
    before = snapshot(tmp_path)
    result = invoke(
        "classify", input_folder if output != "in/year=2024" else input_folder / "year=2024", "-o", tmp_path / output
    )
    one_line_error(result, words)
    assert snapshot(tmp_path) == before


def test_an_output_folder_holding_the_input_is_refused_even_when_hsmap_wrote_it(
    input_folder: Path, tmp_path: Path, one_line_error
) -> None:
    target = tmp_path / "out"
    assert invoke("classify", input_folder, "-o", target).exit_code == 0
    (target / "new").mkdir()
    (target / "new" / "lines.csv").write_bytes((EXAMPLES / "declarations.csv").read_bytes())
    before = snapshot(tmp_path)
    result = invoke("classify", target / "new", "-o", target)
    one_line_error(result, "holds the input")
    assert snapshot(tmp_path) == before


def test_a_new_or_empty_folder_is_written_with_its_manifest(input_folder: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "new", tmp_path / "empty"):
        assert invoke("classify", input_folder, "-o", target).exit_code == 0
        assert sorted(snapshot(target)) == [MANIFEST, "year=2024/part-0.parquet"]
    assert not partials(tmp_path)


# --- 4. an output that is an input --------------------------------------------------------------------------


def _same_file_cases(tmp_path: Path) -> dict[str, tuple[list[str | Path], Path]]:
    customs, report = tmp_path / "declarations.csv", tmp_path / "att_report.csv"
    customs.write_bytes((EXAMPLES / "declarations.csv").read_bytes())
    report.write_bytes((EXAMPLES / "att_report.csv").read_bytes())
    labelled = tmp_path / "labelled.csv"
    labelled.write_bytes((DATA / "labelled_declarations.csv").read_bytes())
    (tmp_path / "link.csv").symlink_to(customs)
    folder = tmp_path / "customs"
    folder.mkdir()
    (folder / "part-0.csv").write_bytes(customs.read_bytes())
    evidence = tmp_path / "evidence.xlsx"
    assert invoke("classify", customs, "-o", evidence).exit_code == 0
    listed = tmp_path / "draft.lines.csv"  # customs lines in the file a .csv draft would write its lines to
    listed.write_bytes(customs.read_bytes())
    rates = tmp_path / "rates.csv"
    rates.write_text("from,to,rate\nEUR,USD,1.08\n", encoding="utf-8")
    draft = ["draft-report", "--state", "CZE", "--year", "2024"]
    return {
        "classify": (["classify", customs, "-o", customs], customs),
        "classify through a link": (["classify", tmp_path / "link.csv", "-o", customs], customs),
        "evaluate": (["evaluate", labelled, "-o", labelled], labelled),
        "reconcile customs": (["reconcile", "--customs", customs, "--report", report, "-o", customs], customs),
        "reconcile report": (["reconcile", "--customs", customs, "--report", report, "-o", report], report),
        "reconcile into the customs folder": (
            ["reconcile", "--customs", folder, "--report", report, "-o", folder / "gaps.csv"],
            folder / "part-0.csv",
        ),
        "reconcile into a file the glob reads": (
            ["reconcile", "--customs", f"{folder}/*.csv", "--report", report, "-o", folder / "part-0.csv"],
            folder / "part-0.csv",
        ),
        "propose evidence": (["propose", "--evidence", evidence, "-o", evidence], evidence),
        "draft-report customs": ([*draft, "--customs", customs, "-o", customs], customs),
        "draft-report lines beside the draft": ([*draft, "--customs", listed, "-o", tmp_path / "draft.csv"], listed),
        "draft-report into the customs folder": ([*draft, "--customs", folder, "-o", folder / "draft.csv"], folder),
        "store query rates": (
            ["store", "query", "--db", tmp_path / "store.duckdb", "--by", "year", "--rates", rates, "-o", rates],
            rates,
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "classify",
        "classify through a link",
        "evaluate",
        "reconcile customs",
        "reconcile report",
        "reconcile into the customs folder",
        "reconcile into a file the glob reads",
        "propose evidence",
        "draft-report customs",
        "draft-report lines beside the draft",
        "draft-report into the customs folder",
        "store query rates",
    ],
)
def test_an_output_that_is_an_input_is_refused(tmp_path: Path, case: str, one_line_error) -> None:
    args, kept = _same_file_cases(tmp_path)[case]
    before = snapshot(tmp_path)
    result = invoke(*args)
    one_line_error(result, "input")
    assert snapshot(tmp_path) == before, f"{kept} changed"


# --- 2. a full disk ------------------------------------------------------------------------------------------


@contextmanager
def full_disk(limit: int = LIMIT) -> Iterator[None]:
    """Every write that would make a file larger than ``limit`` fails with EFBIG, as a full disk fails
    with ENOSPC: the soft file-size limit of this process, restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead of killing the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def _commands(tmp_path: Path, lines: Path) -> dict[str, list[str | Path]]:
    customs, report = EXAMPLES / "declarations.csv", EXAMPLES / "att_report.csv"
    folder = tmp_path / "dataset"
    (folder / "year=2024").mkdir(parents=True)
    (folder / "year=2024" / "part-0.csv").write_bytes(lines.read_bytes())
    declarations = tmp_path / "declarations.csv"  # the example three times: a lines file of a draft over LIMIT
    frame = pd.read_csv(customs, dtype=str, keep_default_na=False)
    pd.concat([frame] * 3).to_csv(declarations, index=False)
    return {
        "classify csv": ["classify", lines, "-o", tmp_path / "prev.csv"],
        "classify parquet": ["classify", lines, "-o", tmp_path / "prev.parquet"],
        "classify xlsx": ["classify", lines, "-o", tmp_path / "prev.xlsx"],
        "classify folder": ["classify", folder, "-o", tmp_path / "classified"],
        "evaluate xlsx": ["evaluate", DATA / "labelled_declarations.csv", "-o", tmp_path / "pred.xlsx"],
        "reconcile xlsx": ["reconcile", "--customs", customs, "--report", report, "-o", tmp_path / "rec.xlsx"],
        "reconcile html": ["reconcile", "--customs", customs, "--report", report, "-o", tmp_path / "rec.html"],
        "propose docx": ["propose", "-o", tmp_path / "draft.docx"],
        "propose md": ["propose", "-o", tmp_path / "draft.md"],
        "propose xlsx": ["propose", "-o", tmp_path / "draft.xlsx"],
        "report template": ["report-template", "-o", tmp_path / "template.xlsx"],
        **{
            f"draft-report {suffix}": [
                *("draft-report", "--customs", declarations, "--state", "CZE", "--year", "2024"),
                *("-o", tmp_path / f"draft.{suffix}"),
            ]
            for suffix in ("xlsx", "docx", "csv")
        },
    }


@pytest.mark.parametrize(
    "case",
    [
        "classify csv",
        "classify parquet",
        "classify xlsx",
        "classify folder",
        "evaluate xlsx",
        "reconcile xlsx",
        "reconcile html",
        "propose docx",
        "propose md",
        "propose xlsx",
        "report template",
        "draft-report xlsx",
        "draft-report docx",
        "draft-report csv",  # the report table fits, its lines file does not: neither replaces the earlier one
    ],
)
def test_a_full_disk_leaves_the_previous_output_intact(
    tmp_path: Path, lines_csv: Path, case: str, one_line_error
) -> None:
    args = _commands(tmp_path, lines_csv)[case]
    first = invoke(*args)
    assert first.exit_code in (0, 1), first.output  # a good previous output to protect
    before = snapshot(tmp_path)
    with full_disk():
        result = invoke(*args)
    one_line_error(result, "could not be written (File too large)")
    assert snapshot(tmp_path) == before
    assert not partials(tmp_path)


@pytest.mark.parametrize("failing", ["draft.csv", "draft.lines.csv"])
def test_a_csv_draft_and_its_lines_file_replace_the_earlier_pair_together_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str, one_line_error
) -> None:
    import hsmap.outputs

    args = ["draft-report", "--customs", EXAMPLES / "declarations.csv", "--state", "CZE", "--year", "2024"]
    assert invoke(*args, "-o", tmp_path / "draft.csv").exit_code == 0
    for name in ("draft.csv", "draft.lines.csv"):  # an earlier pair that differs from what this run writes
        (tmp_path / name).write_text(f"{name}, corrected by hand\n", encoding="utf-8")
    before = snapshot(tmp_path)
    flush = hsmap.outputs._fsync

    def fails_for_one(path: Path) -> None:
        if path.name == failing + PARTIAL_SUFFIX:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        flush(path)

    monkeypatch.setattr(hsmap.outputs, "_fsync", fails_for_one)
    result = invoke(*args, "-o", tmp_path / "draft.csv")
    one_line_error(result, "No space left on device")
    assert snapshot(tmp_path) == before and not partials(tmp_path)


def _failing(error_number: int) -> Callable[..., None]:
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(error_number, os.strerror(error_number))

    return fail


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_a_failing_flush_before_the_rename_leaves_the_previous_output(
    tmp_path: Path, lines_csv: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, one_line_error
) -> None:
    target = tmp_path / f"prev{suffix}"
    assert invoke("classify", lines_csv, "-o", target).exit_code == 0
    before = snapshot(tmp_path)
    monkeypatch.setattr(os, "fsync", _failing(errno.ENOSPC))
    result = invoke("classify", lines_csv, "-o", target)
    one_line_error(result, "No space left on device")
    assert snapshot(tmp_path) == before and not partials(tmp_path)


def test_a_parquet_footer_that_cannot_be_written_leaves_the_previous_output(
    tmp_path: Path, lines_csv: Path, monkeypatch: pytest.MonkeyPatch, one_line_error
) -> None:
    target = tmp_path / "prev.parquet"
    assert invoke("classify", lines_csv, "-o", target).exit_code == 0
    before = snapshot(tmp_path)
    monkeypatch.setattr(pq.ParquetWriter, "close", _failing(errno.ENOSPC))
    result = invoke("classify", lines_csv, "-o", target)
    one_line_error(result, "No space left on device")
    assert snapshot(tmp_path) == before and not partials(tmp_path)
    assert len(pq.read_table(target)) == 3 * 689  # still the good file


def test_an_xlsx_save_that_fails_halfway_leaves_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_line_error
) -> None:
    from xlsxwriter.workbook import Workbook

    target = tmp_path / "prev.xlsx"
    assert invoke("classify", EXAMPLES / "declarations.csv", "-o", target).exit_code == 0
    before = snapshot(tmp_path)

    def half_saved(self: Workbook) -> None:  # the library wraps this OSError in its own FileCreateError
        Path(self.filename).write_bytes(b"PK\x03\x04 half a workbook")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Workbook, "_store_workbook", half_saved)
    result = invoke("classify", EXAMPLES / "declarations.csv", "-o", target)
    one_line_error(result, "No space left on device")
    assert snapshot(tmp_path) == before and not partials(tmp_path)


def _limited(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_the_installed_command_on_a_full_disk(tmp_path: Path, lines_csv: Path, hsmap_executable: str) -> None:
    target = tmp_path / "prev.xlsx"
    command = [hsmap_executable, "classify", str(lines_csv), "-o", str(target)]
    assert subprocess.run(command, capture_output=True, timeout=600).returncode == 0
    before = snapshot(tmp_path)
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, preexec_fn=_limited(LIMIT))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "could not be written" in done.stderr
    assert snapshot(tmp_path) == before and not partials(tmp_path)


# --- 5. SIGTERM and SIGINT ------------------------------------------------------------------------------------


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, "hsmap finished before it could be interrupted"
        assert time.monotonic() < deadline, "hsmap never started writing"
        time.sleep(0.02)


def _long_source(folder: Path) -> Path:
    """20,670 declaration lines: classified in 500-line chunks, seconds of work to interrupt."""
    frame = pd.read_csv(DATA / "labelled_declarations.csv", dtype=str, keep_default_na=False)
    source = folder / "part-0.csv"
    folder.mkdir()
    pd.concat([frame] * 30).to_csv(source, index=False)
    return source


@pytest.mark.parametrize(("stop", "folder"), [(signal.SIGTERM, False), (signal.SIGTERM, True), (signal.SIGINT, False)])
def test_a_stopped_run_leaves_no_partial_output_and_the_previous_one_intact(
    tmp_path: Path, hsmap_executable: str, stop: signal.Signals, folder: bool
) -> None:
    source = _long_source(tmp_path / "in")
    small = tmp_path / "small" / "part-0.csv"
    small.parent.mkdir()
    small.write_bytes((EXAMPLES / "declarations.csv").read_bytes())
    target = tmp_path / ("out" if folder else "out.parquet")
    first = subprocess.run(
        [hsmap_executable, "classify", str(small.parent if folder else small), "-o", str(target)],
        capture_output=True,
        timeout=600,
    )
    assert first.returncode == 0  # the previous output the stopped run must leave alone
    before = snapshot(tmp_path)
    command = [hsmap_executable, "classify", str(source.parent if folder else source), "-o", str(target)]
    process = subprocess.Popen([*command, "--chunk-size", "500"], stderr=subprocess.PIPE, text=True)
    staging = target.with_name(target.name + PARTIAL_SUFFIX)
    _wait_for(lambda: any(staging.rglob("*.hsmap-partial")) if folder else staging.exists(), process)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 128 + stop, stderr
    assert "Traceback" not in stderr and f"stopped by {stop.name}" in stderr
    assert snapshot(tmp_path) == before
    assert not partials(tmp_path)


@pytest.mark.parametrize("entry", ["hsmap", "python -m hsmap"])
def test_a_stopped_run_to_standard_output_prints_nothing_and_leaves_no_temporary_file(
    tmp_path: Path, hsmap_executable: str, entry: str
) -> None:
    source = _long_source(tmp_path / "in")
    temporary = tmp_path / "tmp"  # where the output for standard output is staged
    temporary.mkdir()
    command = [hsmap_executable] if entry == "hsmap" else [sys.executable, "-m", "hsmap"]
    process = subprocess.Popen(
        [*command, "classify", str(source), "-o", "-", "--chunk-size", "500"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    _wait_for(lambda: any(temporary.rglob("*" + PARTIAL_SUFFIX)), process)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert b"Traceback" not in stderr and b"stopped by SIGTERM" in stderr
    assert stdout == b""
    assert list(temporary.iterdir()) == []


def test_a_stop_that_a_library_turns_into_its_own_error_still_ends_as_a_stop(monkeypatch, capsys) -> None:
    """DuckDB answers the exception a signal handler raises inside its call with its own "Query interrupted":
    the command still ends as stopped (exit 143, one line), not with that error's traceback."""
    from hsmap.cli import app as cli

    def command(prog_name: str | None = None) -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler runs here
        except cli.Stopped:
            raise RuntimeError("Query interrupted") from None  # what DuckDB does with it

    def exit_for_the_test(code: object) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(cli, "only_the_command_run", lambda arguments: command)
    monkeypatch.setattr(cli, "exit_without_teardown", exit_for_the_test)
    monkeypatch.setattr(cli, "_STOPS_RECEIVED", [])
    handlers = {stop: signal.getsignal(stop) for stop in cli.STOP_SIGNALS}
    try:
        with pytest.raises(SystemExit) as ended:
            cli.run()
    finally:
        for stop, handler in handlers.items():
            signal.signal(stop, handler)
    assert ended.value.code == 128 + signal.SIGTERM
    assert "stopped by SIGTERM" in capsys.readouterr().err


def test_a_reader_that_stops_early_is_no_error_and_the_summary_says_so(tmp_path: Path, hsmap_executable: str) -> None:
    source = _long_source(tmp_path / "in")  # far more output than a pipe holds
    process = subprocess.Popen(
        [hsmap_executable, "classify", str(source), "-o", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    header = process.stdout.readline()  # what `| head -1` reads before it exits
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=300) == 0, stderr
    assert header.startswith(b'"hs_code","description",')
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert "classified 20,670 lines; standard output was closed before all were written" in stderr
    assert "wrote" not in stderr


def test_a_full_disk_under_standard_output_writes_nothing_there(lines_csv: Path, one_line_error) -> None:
    with full_disk():
        result = invoke("classify", lines_csv, "-o", "-")
    one_line_error(result, "<stdout>: could not be written (File too large); nothing was written")
    assert result.stdout_bytes == b""
