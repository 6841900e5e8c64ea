"""Engines: the Dask engine gives the pandas engine's results row for row, on a local cluster and on a cluster
reached by its scheduler address; reconciliation on Dask adds up to the same cells; the function a Spark user
passes to ``mapInPandas`` classifies batch by batch as ``classify`` does, and the documented example runs."""

from __future__ import annotations

import functools
import importlib.util
import itertools
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import hsmap
from hsmap.classify.editions import EditionReader
from hsmap.classify.pipeline import classify_dataset, classify_declarations
from hsmap.cli.main import app
from hsmap.engines import classify_batches, dask_aggregation, output_columns
from hsmap.io import read_table
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.reconcile import reconcile_files

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"
DOCS = Path(__file__).parent.parent / "docs"
runner = CliRunner()

needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None or importlib.util.find_spec("dask") is None,
    reason="the dask extra is not installed (pip install 'hsmap[dask]')",
)


def _labelled() -> pd.DataFrame:
    return read_table(DATA / "labelled_declarations.csv")


def _classified(frame: pd.DataFrame) -> pd.DataFrame:
    """The lines classified in memory by the function every engine runs (no dates: under the newest edition)."""
    return classify_declarations(frame, "hs_code", "description", EditionReader(load_knowledge()))


def _write(frame: pd.DataFrame, path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "parquet":
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=50)
    else:
        frame.to_csv(path, index=False)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """The labelled lines four times over (2,756 lines, each copy with its own lot numbers on some lines) in
    six monthly files, Parquet files of several row groups beside CSV files."""
    frame = _labelled()
    year = pd.concat([frame] * 4, ignore_index=True)
    lot = " LOT " + pd.Series(range(len(year))).astype("str")
    year["description"] = year["description"].where(year.index % 3 > 0, year["description"] + lot)
    bounds = [0, 400, 900, 1300, 1900, 2300, len(year)]
    for number, (start, end) in enumerate(itertools.pairwise(bounds), start=1):
        kind = "csv" if number in (2, 5) else "parquet"
        _write(year.iloc[start:end], tmp_path / "in" / "year=2024" / f"month={number:02d}" / f"part-0.{kind}", kind)
    return tmp_path / "in"


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'hsmap[dask]')")
    from hsmap.engines import dask_client

    with dask_client(workers=2) as client:
        yield client


def _files(root: Path) -> dict[str, pd.DataFrame]:
    return {str(p.relative_to(root)): pd.read_parquet(p) for p in sorted(root.rglob("*.parquet"))}


@needs_dask
def test_dask_engine_gives_the_pandas_engine_results_row_for_row(dataset: Path, tmp_path: Path, client) -> None:
    from hsmap.engines import classify_dataset_dask

    pandas_summary = classify_dataset(dataset, tmp_path / "pandas", chunk_rows=300)
    dask_summary = classify_dataset_dask(dataset, tmp_path / "dask", client, partition_rows=200)
    on_pandas, on_dask = _files(tmp_path / "pandas"), _files(tmp_path / "dask")
    assert list(on_dask) == list(on_pandas) and len(on_dask) == 6
    for name, frame in on_pandas.items():
        pd.testing.assert_frame_equal(on_dask[name], frame, obj=name)
    assert dask_summary.rows == pandas_summary.rows == 4 * len(_labelled())
    assert dask_summary.categories == pandas_summary.categories
    assert dask_summary.flags == pandas_summary.flags
    assert (dask_summary.code_column, dask_summary.text_column) == ("hs_code", "description")
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".piece", ".partial"))]


@needs_dask
def test_one_parquet_file_of_many_pieces_on_dask(tmp_path: Path, client) -> None:
    from hsmap.engines import classify_dataset_dask

    frame = _labelled()
    _write(frame, tmp_path / "lines.parquet", "parquet")
    classify_dataset_dask(tmp_path / "lines.parquet", tmp_path / "out.parquet", client, partition_rows=100)
    assert pq.ParquetFile(tmp_path / "out.parquet").metadata.num_row_groups == 7  # seven pieces, in order
    expected = _classified(frame)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"), expected, check_dtype=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lines.parquet", "out.parquet"]


@needs_dask
def test_strict_on_dask_lists_rows_as_numbered_in_their_file_and_writes_nothing(tmp_path: Path, client) -> None:
    from hsmap.classify.pipeline import classify_file
    from hsmap.engines import classify_dataset_dask
    from hsmap.errors import InputError

    lines = pd.DataFrame({"hs_code": ["9301.90"] * 300, "description": ["ASSAULT RIFLE"] * 300, "partner": "FRA"})
    lines["value"] = ["ten" if row in (7, 260) else "100" for row in range(300)]  # file rows 9 and 262
    _write(lines, tmp_path / "lines.parquet", "parquet")
    with pytest.raises(InputError) as on_dask:
        classify_dataset_dask(
            tmp_path / "lines.parquet", tmp_path / "out.parquet", client, partition_rows=100, strict=True
        )
    with pytest.raises(InputError) as at_home:
        classify_file(tmp_path / "lines.parquet", tmp_path / "home.parquet", strict=True)
    listed = re.findall(r"row (\d+) \(bad-value\)", str(on_dask.value))
    assert listed == ["9", "262"] == re.findall(r"row (\d+) \(bad-value\)", str(at_home.value))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lines.parquet"]


@needs_dask
def test_classify_dask_maps_over_a_dask_dataframe_the_user_already_has(client) -> None:
    import dask.dataframe as dd

    from hsmap.engines import classify_dask

    frame = _labelled()
    lazy = classify_dask(dd.from_pandas(frame, npartitions=5))
    assert lazy.npartitions == 5
    assert list(lazy.columns) == output_columns(frame.columns)
    result = lazy.compute()
    expected = _classified(frame)
    assert result["att_category"].tolist() == expected["att_category"].tolist()
    assert result["reason"].tolist() == expected["reason"].tolist()


@needs_dask
def test_classify_dask_on_a_dataset_read_by_dask_itself(tmp_path: Path, client) -> None:
    """The README's example: ``dd.read_parquet`` (pyarrow strings, categorical partition columns) in,
    ``to_parquet`` partitioned by year and month out."""
    import dask.dataframe as dd

    from hsmap.engines import classify_dask

    frame = _labelled()
    for month, (start, end) in enumerate([(0, 300), (300, len(frame))], start=1):
        _write(frame.iloc[start:end], tmp_path / "in" / "year=2024" / f"month={month:02d}" / "p.parquet", "parquet")
    lines = dd.read_parquet(str(tmp_path / "in"))
    classified = classify_dask(lines, code_column="hs_code", text_column="description")
    classified.to_parquet(str(tmp_path / "out"), partition_on=["year", "month"])
    out = dd.read_parquet(str(tmp_path / "out")).compute()
    expected = _classified(frame)
    assert out["att_category"].tolist() == expected["att_category"].tolist()
    assert out["reason"].tolist() == expected["reason"].tolist()
    assert out["month"].astype("int64").tolist() == [1] * 300 + [2] * (len(frame) - 300)


@needs_dask
def test_reconciliation_on_dask_adds_up_to_the_same_cells(tmp_path: Path, kb: Knowledge, client) -> None:
    frame = read_table(EXAMPLES / "declarations.csv")
    frame.loc[35, "value"] = "n/a"
    months = frame["date"].str.slice(5, 7)
    for month, part in frame.groupby(months, sort=True):
        kind = "parquet" if int(month) % 2 else "csv"
        _write(part, tmp_path / "customs" / f"month={month}" / f"lines.{kind}", kind)
    report = EXAMPLES / "att_report.csv"
    on_pandas = reconcile_files(tmp_path / "customs", report, kb=kb)
    on_dask = reconcile_files(tmp_path / "customs", report, kb=kb, aggregation=dask_aggregation(client))
    for name in ("comparison", "customs_unmatched", "customs_not_att", "report_unmatched", "problems", "accounting"):
        pd.testing.assert_frame_equal(getattr(on_dask, name), getattr(on_pandas, name), check_dtype=False, obj=name)
    assert on_dask.problems["first_row"].tolist() == [37]
    assert (on_dask.comparison["status"] == "match").sum() > 3


@needs_dask
def test_command_on_a_running_cluster_by_its_address(dataset: Path, tmp_path: Path, client) -> None:
    address = client.scheduler.address
    args = ["classify", str(dataset), "-o", str(tmp_path / "out"), "--engine", "dask", "--scheduler", address]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"wrote {4 * len(_labelled()):,} lines" in result.stdout
    classify_dataset(dataset, tmp_path / "reference")
    for name, frame in _files(tmp_path / "reference").items():
        pd.testing.assert_frame_equal(_files(tmp_path / "out")[name], frame, obj=name)


@needs_dask
def test_reconcile_command_on_a_local_cluster(tmp_path: Path) -> None:
    frame = read_table(EXAMPLES / "declarations.csv")
    for half, part in enumerate((frame.iloc[:20], frame.iloc[20:])):
        _write(part, tmp_path / "customs" / f"half={half}" / "lines.csv", "csv")
    target = tmp_path / "reconciliation.csv"
    args = ["reconcile", "--customs", str(tmp_path / "customs"), "--report", str(EXAMPLES / "att_report.csv")]
    result = runner.invoke(app, [*args, "-o", str(target), "--engine", "dask", "--workers", "1"])
    assert result.exit_code == 0, result.output
    reference = runner.invoke(app, [*args, "-o", str(tmp_path / "reference.csv")])
    assert reference.exit_code == 0, reference.output
    assert target.read_text(encoding="utf-8") == (tmp_path / "reference.csv").read_text(encoding="utf-8")


def test_a_scheduler_needs_the_dask_engine(dataset: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["classify", str(dataset), "-o", str(tmp_path / "o"), "--scheduler", "tcp://x:8786"])
    assert result.exit_code == 2
    assert "--scheduler needs --engine dask" in result.stderr


# --- Spark: the function passed to mapInPandas, on plain pandas iterators -------------------------------------------


def test_the_spark_function_classifies_batch_by_batch_as_classify_does() -> None:
    frame = _labelled().rename(columns={"label": "flags"})  # a column named like a result column
    function = functools.partial(classify_batches, code_column="hs_code", text_column="description", edition=2022)
    batches = (frame.iloc[start : start + 100] for start in range(0, len(frame), 100))  # as Arrow batches come
    result = pd.concat(list(function(batches)))
    expected = _classified(frame)
    pd.testing.assert_frame_equal(result, expected)
    assert list(result.columns) == output_columns(frame.columns)
    assert "input_flags" in result.columns and result["att_category"].ne("").sum() > 300


def test_the_spark_function_reads_what_spark_hands_over() -> None:
    """Spark gives strings as object columns with None for nulls, and numbers as numbers."""
    batch = pd.DataFrame(
        {
            "hs_code": pd.Series(["9301.90.00", None, "93020000"], dtype=object),
            "description": pd.Series(["FUSIL D'ASSAUT HK416 5,56 MM", "PISTOL GLOCK 17 GEN5 9MM", None], dtype=object),
            "quantity": [10, 20, 30],
        }
    )
    (result,) = list(classify_batches(iter([batch])))
    assert result["att_category"].tolist() == ["VIII.SA.4", "VIII.SA.1", "VIII.SA.1"]
    assert result["quantity"].tolist() == [10, 20, 30]


def _example_code() -> str:
    text = (DOCS / "spark.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) == 1
    return blocks[0]


def test_the_documented_spark_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark", reason="PySpark is not installed (the administration's own Spark)")
    from pyspark.sql import SparkSession

    frame = _labelled()
    for month, (start, end) in enumerate([(0, 300), (300, len(frame))], start=1):
        _write(
            frame.iloc[start:end],
            tmp_path / "declarations" / "year=2024" / f"month={month:02d}" / "p.parquet",
            "parquet",
        )
    monkeypatch.chdir(tmp_path)
    here = str(Path(hsmap.__file__).parent.parent)  # Spark's Python workers must import hsmap, as executors do
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    try:
        exec(compile(_example_code(), str(DOCS / "spark.md"), "exec"), {})
        out = spark.read.parquet("classified").toPandas()
    finally:
        spark.stop()
    expected = _classified(frame)
    columns = ["hs_code", "description", "att_category", "confidence", "flags", "reason"]
    assert Counter(out[columns].itertuples(index=False)) == Counter(expected[columns].itertuples(index=False))
    assert sorted(set(out["month"])) == [1, 2]  # the partition folders came through as columns
