"""Scaling: a year of declarations (10 million lines by default) as a partitioned Parquet dataset.

    pytest benchmarks/test_bench_scale.py --benchmark-only        # HSMAP_BENCH_SCALE_ROWS=1000000 for a quick run

The dataset is twelve monthly files (``year=2024/month=MM/part-0.parquet``) of synthetic declarations
(:mod:`generate`). Measured, each once: the pandas engine (``hsmap classify FOLDER -o FOLDER`` in its own
process, with its peak resident memory), and the Dask engine on a LocalCluster of 1 and of 2 worker processes
(cluster start-up not counted; each worker loading the knowledge base is). Figures go to ``extra_info``
(lines/s, peak RSS); nothing here asserts a speed. Not part of the test suite (testpaths is ``tests/``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from generate import make_frame
from peak import run_command

ROWS = int(os.environ.get("HSMAP_BENCH_SCALE_ROWS", "10000000"))
MONTHS = 12


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Twelve monthly Parquet files adding up to ROWS lines, each month with its own random draw."""
    root = tmp_path_factory.mktemp("scale") / "declarations"
    per_month = -(-ROWS // MONTHS)
    for month in range(1, MONTHS + 1):
        rows = min(per_month, ROWS - (month - 1) * per_month)
        folder = root / "year=2024" / f"month={month:02d}"
        folder.mkdir(parents=True)
        frame = make_frame(rows, seed=month)
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / "part-0.parquet")
    return root


def _record(benchmark, seconds: float, **extra: object) -> None:
    benchmark.extra_info["rows"] = ROWS
    benchmark.extra_info["lines_per_s"] = round(ROWS / seconds)
    benchmark.extra_info.update(extra)


@pytest.mark.benchmark(group="scale")
def test_pandas_engine_one_process(benchmark, dataset, tmp_path):
    """The single-machine path: files one after another, each streamed in 100,000-line chunks."""
    peaks: list[int] = []
    started = time.perf_counter()
    benchmark.pedantic(
        lambda: peaks.append(run_command("classify", str(dataset), "-o", str(tmp_path / "classified"))), rounds=1
    )
    seconds = time.perf_counter() - started
    _record(benchmark, seconds, engine="pandas", workers=1, peak_rss_mib=peaks[-1])
    assert len(list((tmp_path / "classified").rglob("*.parquet"))) == MONTHS


@pytest.mark.benchmark(group="scale")
@pytest.mark.parametrize("workers", [1, 2])
def test_dask_engine_local_workers(benchmark, dataset, tmp_path, workers):
    """The same dataset on a LocalCluster of ``workers`` single-threaded processes."""
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    from hsmap.engines import classify_dataset_dask, dask_client

    with dask_client(workers=workers) as client:
        target = tmp_path / "classified"
        started = time.perf_counter()
        summary = benchmark.pedantic(classify_dataset_dask, args=(dataset, target, client), rounds=1)
        seconds = time.perf_counter() - started
    assert summary.rows == ROWS
    _record(benchmark, seconds, engine="dask", workers=workers)
