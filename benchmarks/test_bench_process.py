"""Whole processes, as users run hsmap: each round is a fresh interpreter started with subprocess.

    pytest benchmarks/test_bench_process.py --benchmark-only        # HSMAP_BENCH_ROWS=200000 for a quick run

Measured (medians; the machine's noise moves single runs by ±15 %):

- ``hsmap classify`` CSV → CSV on the generated file (:mod:`generate`), against the floor: a fresh interpreter
  that reads and writes the same file with pyarrow, as is and without transparent huge pages (as hsmap runs).
  They alternate round by round (the floors run in the round's untimed setup), so all see the same machine,
  and the ratio to the faster floor is the headline figure.
- The same command with an empty cache folder each round: a first run after installing or editing mappings/.
- ``hsmap classify`` on a 10-line file: what a user waits for a small job, with the cache warm and with an
  empty cache folder (the first run after installing hsmap or editing mappings/: everything compiled anew).
- ``hsmap --help`` against ``python -c "import pandas, pyarrow.csv"``, alternating likewise.

Rounds share one cache folder (``HSMAP_CACHE_DIR``), warmed by one run first, as a user's is after the first
run. hsmap's modules run from their compiled bytecode, as an installed package's do (pip compiles it when it
installs), even where the environment sets ``PYTHONDONTWRITEBYTECODE``. Figures go to ``extra_info``; nothing
here asserts a speed.
"""

from __future__ import annotations

import functools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate

ROWS = int(os.environ.get("HSMAP_BENCH_ROWS", "1000000"))
ROUNDS = 5
ROOT = Path(__file__).parent.parent
FLOOR = "import sys, pyarrow.csv as c; c.write_csv(c.read_csv(sys.argv[1]), sys.argv[2])"
# The same, without transparent huge pages, as hsmap runs (``without_transparent_huge_pages``): where the kernel
# hands out huge pages on request, Arrow's allocator gets them, and the plain floor may wait for the kernel to
# zero and compact them (seen here: 0.6 s in some runs, 1.0 s in others); the ratio is taken to the faster floor.
FLOOR_WITHOUT_THP = (
    "import ctypes, sys\nif sys.platform.startswith('linux'):\n    ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)\n" + FLOOR
)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("declarations") / "declarations.csv"
    generate(ROWS, path)
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> dict[str, str]:
    """The environment of every run: a cache folder of this module's own, bytecode kept (see above)."""
    return _environment(tmp_path_factory.mktemp("cache"))


def _environment(cache_folder: Path) -> dict[str, str]:
    environment = {**os.environ, "HSMAP_CACHE_DIR": str(cache_folder)}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def _run(environment: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, *args], check=True, capture_output=True, cwd=ROOT, env=environment)


def _hsmap(environment: dict[str, str], *args: str) -> Callable[[], None]:
    return functools.partial(_run, environment, "-m", "hsmap", *args)


def _alternating(benchmark, timed: Callable[[], None], others: dict[str, Callable[[], None]]) -> None:
    """``timed`` measured by the benchmark, each of ``others`` run and timed just before it in every round."""
    times: dict[str, list[float]] = {name: [] for name in others}

    def setup() -> None:
        for name, other in others.items():
            started = time.perf_counter()
            other()
            times[name].append(time.perf_counter() - started)

    benchmark.pedantic(timed, setup=setup, rounds=ROUNDS, warmup_rounds=1)
    median = statistics.median(benchmark.stats.stats.data)
    benchmark.extra_info["median_s"] = round(median, 3)
    for name, found in times.items():
        benchmark.extra_info[f"{name}_median_s"] = round(statistics.median(found[-ROUNDS:]), 3)
        benchmark.extra_info[f"ratio_to_{name}"] = round(median / statistics.median(found[-ROUNDS:]), 2)


@pytest.mark.benchmark(group="process")
def test_classify_csv_against_the_fresh_process_floor(benchmark, source, cache, tmp_path):
    classify = _hsmap(cache, "classify", str(source), "-o", str(tmp_path / "classified.csv"))
    floors = {
        name: functools.partial(_run, cache, "-c", script, str(source), str(tmp_path / "copy.csv"))
        for name, script in (("floor", FLOOR), ("floor_without_thp", FLOOR_WITHOUT_THP))
    }
    _alternating(benchmark, classify, floors)
    benchmark.extra_info["ratio_to_the_faster_floor"] = max(
        benchmark.extra_info["ratio_to_floor"], benchmark.extra_info["ratio_to_floor_without_thp"]
    )
    benchmark.extra_info["rows"] = ROWS
    benchmark.extra_info["lines_per_s"] = round(ROWS / benchmark.extra_info["median_s"])


def _with_empty_caches(benchmark, tmp_path_factory, *args: str) -> None:
    """``hsmap ARGS`` timed with a new, empty cache folder each round."""

    def empty_cache() -> tuple[tuple, dict]:
        return (_environment(tmp_path_factory.mktemp("empty-cache")), "-m", "hsmap", *args), {}

    benchmark.pedantic(_run, setup=empty_cache, rounds=3)
    benchmark.extra_info["median_s"] = round(statistics.median(benchmark.stats.stats.data), 3)


@pytest.mark.benchmark(group="process")
def test_classify_csv_with_an_empty_cache(benchmark, source, tmp_path_factory, tmp_path):
    _with_empty_caches(benchmark, tmp_path_factory, "classify", str(source), "-o", str(tmp_path / "out.csv"))


@pytest.fixture
def ten_lines(source, tmp_path) -> Path:
    small = tmp_path / "ten.csv"
    small.write_text("".join(source.open(encoding="utf-8").readlines()[:11]), encoding="utf-8")
    return small


@pytest.mark.benchmark(group="process")
def test_classify_ten_lines(benchmark, ten_lines, cache, tmp_path):
    classify = _hsmap(cache, "classify", str(ten_lines), "-o", str(tmp_path / "out.csv"))
    benchmark.pedantic(classify, rounds=ROUNDS, warmup_rounds=1)  # a warm cache folder, even when run alone
    benchmark.extra_info["median_s"] = round(statistics.median(benchmark.stats.stats.data), 3)


@pytest.mark.benchmark(group="process")
def test_classify_ten_lines_with_an_empty_cache(benchmark, ten_lines, tmp_path_factory, tmp_path):
    _with_empty_caches(benchmark, tmp_path_factory, "classify", str(ten_lines), "-o", str(tmp_path / "out.csv"))


@pytest.mark.benchmark(group="process")
def test_help_against_importing_pandas(benchmark, cache):
    pandas = functools.partial(_run, cache, "-c", "import pandas, pyarrow.csv")
    _alternating(benchmark, _hsmap(cache, "--help"), {"pandas_import": pandas})
