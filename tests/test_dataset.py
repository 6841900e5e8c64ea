"""Datasets: folders and globs of declaration files, partition folders, one output file per input file written
atomically, the same rows as classifying one table, bounded memory, and reconciliation of a partitioned year."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hsmap.classify.editions import EditionReader
from hsmap.classify.pipeline import classify_dataset, classify_declarations
from hsmap.cli.main import app
from hsmap.customs import customs_frame
from hsmap.dataset import pieces, read_piece, resolve_dataset
from hsmap.errors import InputError
from hsmap.io import read_table
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.outputs import MANIFEST
from hsmap.reconcile import aggregate_customs, combine_aggregates, reconcile_files

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"
runner = CliRunner()

# (partition folder, file name, how it is written, first line, end line) over the labelled declarations
LAYOUT = [
    ("year=2023/month=11", "part-0.csv", "csv", 0, 150),
    ("year=2023/month=12", "part-0.parquet", "parquet", 150, 340),
    ("year=2024/month=01", "extract.csv", "semicolon", 340, 520),
    ("year=2024/month=02", "part-0.parquet", "parquet", 520, 689),
]


def _labelled() -> pd.DataFrame:
    """689 declaration lines in seven languages, codes written every way customs systems write them."""
    return read_table(DATA / "labelled_declarations.csv")


def _classified(frame: pd.DataFrame) -> pd.DataFrame:
    """The lines classified in memory by the function every engine runs (no dates: under the newest edition)."""
    return classify_declarations(frame, "hs_code", "description", EditionReader(load_knowledge()))


def _write(frame: pd.DataFrame, path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "parquet":
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=64)
    elif kind == "semicolon":
        frame.to_csv(path, sep=";", index=False)
    else:
        frame.to_csv(path, index=False)


def _dataset(root: Path, frame: pd.DataFrame) -> Path:
    for folder, name, kind, start, end in LAYOUT:
        _write(frame.iloc[start:end], root / folder / name, kind)
    return root


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = _dataset(tmp_path / "declarations", _labelled())
    (root / "_SUCCESS").write_text("")  # markers and temporaries other writers leave are not data
    (root / "year=2024" / ".part-9.parquet.123.partial").write_bytes(b"PAR1")
    (root / "README.txt").write_text("Extract of January 2024, export declarations\n")
    return root


def test_folder_resolves_to_its_data_files_in_path_order_with_partition_values(dataset: Path) -> None:
    files = resolve_dataset(dataset)
    assert [str(f.relative) for f in files] == [f"{folder}/{name}" for folder, name, *_ in LAYOUT]
    assert files[2].partitions == (("year", "2024"), ("month", "01"))
    assert [f.is_parquet for f in files] == [False, True, False, True]


def test_globs_relative_and_absolute_and_a_single_file(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parquet = resolve_dataset(f"{dataset}/year=*/month=*/*.parquet")
    assert [str(f.relative) for f in parquet] == [
        "year=2023/month=12/part-0.parquet",
        "year=2024/month=02/part-0.parquet",
    ]
    assert parquet[0].partitions == (("year", "2023"), ("month", "12"))
    monkeypatch.chdir(dataset.parent)
    relative = resolve_dataset("declarations/year=2024/**/*.csv")
    assert [str(f.relative) for f in relative] == ["year=2024/month=01/extract.csv"]
    assert relative[0].partitions == (("year", "2024"), ("month", "01"))  # a partition folder in the fixed part
    one = resolve_dataset(dataset / "year=2023" / "month=11" / "part-0.csv")
    assert len(one) == 1 and one[0].relative == PurePosixPath("part-0.csv") and one[0].partitions == ()


def test_partition_values_are_url_decoded(tmp_path: Path) -> None:
    _write(_labelled().head(3), tmp_path / "partner=C%C3%B4te%20d%27Ivoire" / "lines.csv", "csv")
    assert resolve_dataset(tmp_path)[0].partitions == (("partner", "Côte d'Ivoire"),)


def test_nothing_to_read_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \.csv or \.parquet files"):
        resolve_dataset(tmp_path / "empty")
    with pytest.raises(InputError, match=r"no \.csv or \.parquet files"):
        resolve_dataset(f"{tmp_path}/year=*/*.parquet")
    with pytest.raises(InputError, match="file not found"):
        resolve_dataset(tmp_path / "missing.csv")


def test_dataset_is_classified_file_for_file_exactly_as_one_table(dataset: Path, tmp_path: Path) -> None:
    frame = _labelled()
    expected = _classified(frame)
    target = tmp_path / "classified"
    summary = classify_dataset(dataset, target, chunk_rows=50)
    assert summary.rows == len(frame)
    assert summary.categories == expected["att_category"].replace("", "(none)").value_counts().to_dict()
    written = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert written == [MANIFEST, *(f"{folder}/{Path(name).with_suffix('.parquet')}" for folder, name, *_ in LAYOUT)]
    for folder, name, _, start, end in LAYOUT:
        out = pd.read_parquet(target / folder / Path(name).with_suffix(".parquet"))
        assert "year" not in out.columns and "month" not in out.columns  # the folders carry them
        pd.testing.assert_frame_equal(out, expected.iloc[start:end].reset_index(drop=True), check_dtype=False)
    whole = pads.dataset(target, partitioning="hive").to_table().to_pandas()
    assert whole["year"].tolist() == [2023] * 340 + [2024] * 349
    assert whole["att_category"].tolist() == expected["att_category"].tolist()


def test_each_file_finds_its_own_columns_and_a_partition_folder_is_never_the_code(tmp_path: Path) -> None:
    frame = _labelled()
    _write(frame.iloc[:100], tmp_path / "in" / "hs=93" / "a.csv", "csv")
    renamed = frame.iloc[100:200].rename(columns={"hs_code": "CN8", "description": "Goods description"})
    _write(renamed, tmp_path / "in" / "hs=93" / "b.csv", "csv")
    classify_dataset(tmp_path / "in", tmp_path / "out")
    expected = _classified(frame.iloc[:200])["att_category"].tolist()
    got = [pd.read_parquet(tmp_path / "out" / "hs=93" / f"{n}.parquet")["att_category"] for n in "ab"]
    assert pd.concat(got).tolist() == expected


def test_a_failed_run_leaves_the_previous_dataset_untouched(dataset: Path, tmp_path: Path) -> None:
    target = tmp_path / "classified"
    classify_dataset(dataset, target)
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    (dataset / "year=2024" / "month=03").mkdir()
    (dataset / "year=2024" / "month=03" / "part-0.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        classify_dataset(dataset, target)
    assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classified", "declarations"]  # no staging left


def test_a_new_run_replaces_only_the_files_an_earlier_run_wrote(dataset: Path, tmp_path: Path) -> None:
    target = tmp_path / "classified"
    classify_dataset(dataset, target)
    stale = target / "year=1999" / "stale.parquet"
    stale.parent.mkdir()
    pq.write_table(pa.table({"x": [1]}), stale)
    manifest = json.loads((target / MANIFEST).read_text())
    (target / MANIFEST).write_text(json.dumps({**manifest, "files": [*manifest["files"], "year=1999/stale.parquet"]}))
    (target / "notes.txt").write_text("the analyst's own notes")
    classify_dataset(dataset, target)
    assert not (target / "year=1999").exists()  # hsmap wrote it (the manifest says so): it goes
    assert (target / "notes.txt").read_text() == "the analyst's own notes"  # never written by hsmap: it stays
    assert len(list(target.rglob("*.parquet"))) == len(LAYOUT)
    assert sorted(json.loads((target / MANIFEST).read_text())["files"]) == sorted(
        f"{folder}/{Path(name).stem}.parquet" for folder, name, *_ in LAYOUT
    )


def test_two_inputs_that_would_share_an_output_are_refused(tmp_path: Path) -> None:
    _write(_labelled().head(5), tmp_path / "in" / "lines.csv", "csv")
    _write(_labelled().tail(5), tmp_path / "in" / "lines.parquet", "parquet")
    with pytest.raises(InputError, match="same file"):
        classify_dataset(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_pieces_cut_parquet_at_row_groups_and_read_the_same_rows(dataset: Path) -> None:
    files = resolve_dataset(dataset)
    parts = pieces(files, rows=100)
    parquet_parts = [p for p in parts if p.file == files[1]]
    assert len(parquet_parts) == 3 and [p.first_row for p in parquet_parts] == [0, 64, 128]
    assert all(p.row_groups is None for p in parts if not p.file.is_parquet)
    together = pd.concat([read_piece(p) for p in parts], ignore_index=True)
    frame = _labelled()
    assert together["description"].tolist() == frame["description"].tolist()
    assert together["hs_code"].tolist() == frame["hs_code"].tolist()
    assert together["month"].tolist() == ["11"] * 150 + ["12"] * 190 + ["01"] * 180 + ["02"] * 169


def test_command_classifies_a_folder_and_a_glob(dataset: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["classify", str(dataset), "-o", str(tmp_path / "by_folder")])
    assert result.exit_code == 0, result.output
    assert "wrote 689 lines" in result.stdout
    result = runner.invoke(app, ["classify", f"{dataset}/year=2024/*/*", "-o", str(tmp_path / "by_glob")])
    assert result.exit_code == 0, result.output
    assert "wrote 349 lines" in result.stdout
    assert sorted(p.name for p in (tmp_path / "by_glob" / "year=2024").iterdir()) == ["month=01", "month=02"]


def test_command_refuses_a_dataset_into_one_file(dataset: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["classify", str(dataset), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 2
    assert "give a folder as output" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


PEAK = """
import sys
from pathlib import Path
from hsmap.classify.pipeline import classify_dataset
summary = classify_dataset(Path(sys.argv[1]), Path(sys.argv[2]), chunk_rows=20_000)
assert summary.rows == int(sys.argv[3]), summary.rows
status = Path("/proc/self/status").read_text()
print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
"""
# VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across fork and exec, which would hide
# the child's own peak behind the test runner's.


def _peak_kib(source: Path, target: Path, rows: int) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(source), str(target), str(rows)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1])


def test_memory_follows_the_chunk_not_the_number_of_files(tmp_path: Path) -> None:
    frame = _labelled()
    month = pd.concat([frame] * 80, ignore_index=True)  # 55,120 lines a month, one in five with its own lot
    lot = " LOT " + pd.Series(range(len(month))).astype("str")
    month["description"] = month["description"].where(month.index % 5 > 0, month["description"] + lot)
    for number in range(1, 11):
        _write(month, tmp_path / "year" / f"month={number:02d}" / "part-0.parquet", "parquet")
    one = _peak_kib(tmp_path / "year" / "month=01", tmp_path / "one", len(month))
    ten = _peak_kib(tmp_path / "year", tmp_path / "ten", 10 * len(month))
    # ten times the lines: if results piled up, half a million lines of text would add hundreds of MiB
    assert ten < one + 64 * 1024, (one, ten)


# --- reconciliation of a partitioned year ------------------------------------------------------------------------


def _customs_year(root: Path) -> tuple[Path, Path]:
    """The example export declarations as one file with a year column, and as a dataset partitioned by
    year and month whose files have no year (the folders give it); one quantity is unreadable."""
    frame = read_table(EXAMPLES / "declarations.csv")
    frame.loc[30, "quantity"] = "12 pcs?"
    frame = frame.assign(year=frame["date"].str.slice(0, 4)).drop(columns=["date"])
    months = read_table(EXAMPLES / "declarations.csv")["date"].str.slice(5, 7)
    one = root / "customs.csv"
    frame.to_csv(one, index=False)
    for month, part in frame.groupby(months, sort=True):
        kind = "parquet" if int(month) % 2 else "csv"
        _write(part.drop(columns=["year"]), root / "customs" / "year=2024" / f"month={month}" / f"lines.{kind}", kind)
    return one, root / "customs"


def test_a_partitioned_year_reconciles_exactly_as_one_file(tmp_path: Path, kb: Knowledge) -> None:
    one, folder = _customs_year(tmp_path)
    assert len(resolve_dataset(folder)) > 6
    whole = reconcile_files(one, EXAMPLES / "att_report.csv", kb=kb)
    parts = reconcile_files(folder, EXAMPLES / "att_report.csv", kb=kb, chunk_rows=4)
    for name in ("comparison", "customs_unmatched", "customs_not_att", "report_unmatched", "problems", "accounting"):
        pd.testing.assert_frame_equal(getattr(parts, name), getattr(whole, name), check_dtype=False, obj=name)
    assert parts.problems["first_row"].tolist() == [32]  # numbered across the files, as in the one file
    assert parts.problems["problem"].tolist() == ["quantity '12 pcs?'"]
    assert (parts.comparison["status"] == "match").sum() > 3


def test_combined_aggregates_hold_distinct_cells_not_lines(kb: Knowledge) -> None:
    frame = read_table(EXAMPLES / "declarations.csv")
    one = aggregate_customs([customs_frame(frame, kb=kb)])
    many = combine_aggregates(one for _ in range(300))
    assert many.lines == 300 * len(frame)
    assert len(many.partials) == len(one.partials)
    assert many.partials["lines"].sum() == 300 * len(frame)
    assert many.partials["first_row"].tolist() == one.partials["first_row"].tolist()  # the first part's rows
    assert len(many.partners) == len(one.partners)
