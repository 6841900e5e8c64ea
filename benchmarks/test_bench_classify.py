"""Classification speed on realistic synthetic declarations (1 million lines by default).

    pytest benchmarks/test_bench_classify.py --benchmark-only        # HSMAP_BENCH_ROWS=200000 for a quick run

Measured in one run: ``hsmap.classify`` throughput, end-to-end ``classify_file`` CSV→CSV and Parquet→Parquet,
the I/O floor (pyarrow reading and writing the same file, no classification), a naive baseline (a per-row loop
calling ``rapidfuzz.process.extractOne`` against the lexicon), and the peak memory of the ``hsmap classify``
command on a file five times larger. Figures go to ``extra_info`` (lines/s); nothing here asserts a speed.
"""

from __future__ import annotations

import os
import sys
import time
import weakref
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from rapidfuzz import fuzz, process, utils

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate
from peak import run_command

from hsmap.classify import classify
from hsmap.classify.pipeline import classify_file
from hsmap.knowledge import load_knowledge

ROWS = int(os.environ.get("HSMAP_BENCH_ROWS", "1000000"))
NAIVE_SAMPLE = 5_000
ROUNDS = 5  # this machine varies by ±15 % from run to run: quote the medians


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("declarations")
    paths = {"csv": folder / "declarations.csv", "parquet": folder / "declarations.parquet"}
    for path in paths.values():
        generate(ROWS, path)
    return paths


@pytest.fixture(scope="module")
def frame(files) -> pd.DataFrame:
    return pq.read_table(files["parquet"]).to_pandas()


def _lines_per_second(benchmark, rows: int) -> None:
    benchmark.extra_info["rows"] = rows
    benchmark.extra_info["lines_per_s"] = round(rows / benchmark.stats.stats.median)


@pytest.mark.benchmark(group="classify")
def test_classify_throughput(benchmark, frame):
    kb = load_knowledge()
    result = benchmark.pedantic(classify, args=(frame, "hs_code", "description"), kwargs={"kb": kb}, rounds=ROUNDS)
    assert len(result) == len(frame)
    _lines_per_second(benchmark, len(frame))


@pytest.mark.benchmark(group="end-to-end")
@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_end_to_end(benchmark, files, kind, tmp_path, monkeypatch):
    """In one warm process: rounds reuse the process's shared classifier (after the first), as a service or a
    batch of files does. What a fresh ``hsmap classify`` pays — imports, knowledge base, compiled lexicon,
    scan and typo caches — is measured whole in ``test_bench_process.py``, not by a first round here."""
    monkeypatch.setattr(sys.modules["hsmap.classify.decide"], "_SHARED", weakref.WeakKeyDictionary())
    source, target = files[kind], tmp_path / f"classified.{kind}"
    summary = benchmark.pedantic(classify_file, args=(source, target), rounds=ROUNDS)
    assert summary.rows == ROWS
    _lines_per_second(benchmark, ROWS)


def _copy_csv(source: Path, target: Path) -> None:
    pacsv.write_csv(pacsv.read_csv(source), target)


def _copy_parquet(source: Path, target: Path) -> None:
    pq.write_table(pq.read_table(source), target)


@pytest.mark.benchmark(group="io-floor")
@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_io_floor(benchmark, files, kind, tmp_path):
    copy = _copy_csv if kind == "csv" else _copy_parquet
    benchmark.pedantic(copy, args=(files[kind], tmp_path / f"copy.{kind}"), rounds=ROUNDS)
    _lines_per_second(benchmark, ROWS)


def naive_classify(descriptions: list[str], terms: list[str], categories: list[str]) -> list[str]:
    """The obvious approach the library avoids: one fuzzy search of the whole lexicon per line."""
    found = []
    for text in descriptions:
        match = process.extractOne(text, terms, scorer=fuzz.token_set_ratio, processor=utils.default_process)
        found.append(categories[match[2]] if match and match[1] >= 85 else "")
    return found


@pytest.mark.benchmark(group="classify")
def test_naive_baseline(benchmark, frame):
    kb = load_knowledge()
    sample = frame["description"].head(NAIVE_SAMPLE).tolist()
    terms, categories = kb.terms["term"].tolist(), kb.terms["category"].tolist()
    result = benchmark.pedantic(naive_classify, args=(sample, terms, categories), rounds=1)
    assert len(result) == len(sample)
    _lines_per_second(benchmark, len(sample))


@pytest.mark.benchmark(group="memory")
def test_peak_memory_of_the_command_on_a_file_five_times_larger(benchmark, tmp_path):
    source, target = tmp_path / "big.csv", tmp_path / "big_out.csv"
    generate(5 * ROWS, source)
    peaks: list[int] = []
    started = time.perf_counter()
    benchmark.pedantic(lambda: peaks.append(run_command("classify", str(source), "-o", str(target))), rounds=1)
    benchmark.extra_info["rows"] = 5 * ROWS
    benchmark.extra_info["peak_rss_mib"] = peaks[-1]
    benchmark.extra_info["lines_per_s"] = round(5 * ROWS / (time.perf_counter() - started))
