"""The report store on 1 million ATT report lines and 1 million customs lines (each; HSMAP_BENCH_ROWS to change).

    pytest benchmarks/test_bench_store.py --benchmark-only -s        # HSMAP_BENCH_ROWS=100000 for a quick run

Not part of the normal test run (``testpaths`` is ``tests/``). Synthetic reports: 40 reporting States × 10
years, one CSV file per State and year with both flows, partners written as names, alpha-2 or alpha-3 codes,
2 % withheld rows and some nil reports; customs lines come from ``generate.py`` (classified on the way in).
Measured in one run and put in ``extra_info``: load time and rate of each kind, the database size on disk,
query latency p50/p95 over a mix of filters, totals and pages (with the store open, and through the page's
API, which opens the store per request), and the time of a full mirror comparison. Nothing asserts a speed.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pycountry
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate

from hsmap.knowledge import load_knowledge
from hsmap.store import Store
from hsmap.store.web import StoreApp

ROWS = int(os.environ.get("HSMAP_BENCH_ROWS", "1000000"))
YEARS = tuple(range(2015, 2025))
STATES = (
    "AUS", "AUT", "BEL", "BGR", "BRA", "CAN", "CHE", "CZE", "DEU", "DNK", "ESP", "EST", "FIN", "FRA", "GBR", "GRC",
    "HRV", "HUN", "IRL", "ITA", "JPN", "KOR", "LTU", "LVA", "MEX", "NLD", "NOR", "NZL", "PER", "POL", "PRT", "ROU",
    "SRB", "SVK", "SVN", "SWE", "TUR", "UKR", "URY", "ZAF",
)  # fmt: skip
PARTNER_POOL = 120
CATEGORY_WEIGHTS = {
    "I": 2, "II": 4, "III": 3, "IV.a": 1, "IV.b": 1, "V.a": 1, "VI": 1, "VII.a": 1, "VII.b": 1,
    "VIII.SA.1": 20, "VIII.SA.2": 25, "VIII.SA.3": 5, "VIII.SA.4": 10, "VIII.SA.5": 3, "VIII.SA.6": 3,
    "VIII.LW.1": 3, "VIII.LW.2": 2, "VIII.LW.3": 1, "VIII.LW.4": 1, "VIII.LW.5": 1, "VIII.LW.6": 2, "VIII.LW.7": 1,
}  # fmt: skip
DESCRIPTIONS = ("rifles", "pistols", "howitzers", "armoured vehicles", "machine guns", "mortars", "launchers")
QUERIES_PER_KIND = 25
_STATE: dict[str, Any] = {}


def _spellings(iso3: str) -> list[str]:
    country = pycountry.countries.get(alpha_3=iso3)
    return [iso3, country.alpha_2, country.name] if country else [iso3]


def write_reports(folder: Path, rows: int, seed: int = 2024) -> list[Path]:
    """One CSV per reporting State and year, both flows, ~``rows`` lines in all."""
    rng = np.random.default_rng(seed)
    partners = [c.alpha_3 for c in pycountry.countries][:PARTNER_POOL]
    spelled = {iso3: _spellings(iso3) for iso3 in set(partners) | set(STATES)}
    categories = np.array(list(CATEGORY_WEIGHTS))
    weights = np.array(list(CATEGORY_WEIGHTS.values()), dtype=float)
    weights /= weights.sum()
    per_file = max(2, rows // (len(STATES) * len(YEARS)))
    paths = []
    for state_number, state in enumerate(STATES):
        basis = "authorized" if state_number % 5 == 0 else "actual"
        currency = "USD" if state_number % 3 == 0 else "EUR"
        for year in YEARS:
            n = per_file
            nil_imports = (state_number + year) % 17 == 0  # nothing imported that year: a nil report says so
            flow = np.where((rng.random(n) < 0.6) | nil_imports, "export", "import")
            partner_iso = rng.choice(partners, n)
            picks = rng.integers(0, 3, n)
            partner = [spelled[iso][k % len(spelled[iso])] for iso, k in zip(partner_iso, picks, strict=True)]
            withheld = rng.random(n) < 0.02
            frame = pd.DataFrame(
                {
                    "Reporting State": spelled[state][year % len(spelled[state])],
                    "Year": year,
                    "Flow": flow,
                    "Basis": basis,
                    "Category": rng.choice(categories, n, p=weights),
                    "Partner": np.where(withheld, "", partner),
                    "Number of items": np.where(withheld, "", rng.integers(1, 5000, n).astype(str)),
                    "Value": np.where(withheld, "", (rng.integers(1, 10**6, n) * 100).astype(str)),
                    "Currency": np.where(withheld, "", currency),
                    "Description": [
                        f"{DESCRIPTIONS[k % len(DESCRIPTIONS)]} model {k}" for k in rng.integers(0, 10**5, n)
                    ],
                    "Nil report": "no",
                    "Withheld": np.where(withheld, "yes", "no"),
                }
            )
            if nil_imports:
                nil = dict.fromkeys(frame.columns, "")
                nil.update({"Reporting State": state, "Year": year, "Flow": "import", "Basis": basis})
                nil.update({"Nil report": "yes", "Withheld": "no"})
                frame = pd.concat([frame, pd.DataFrame([nil])], ignore_index=True)
            path = folder / f"{state}_{year}.csv"
            frame.to_csv(path, index=False)
            paths.append(path)
    return paths


def _load(db: Path, reports: list[Path], customs: Path) -> dict[str, float]:
    kb = load_knowledge()
    with Store(db, kb=kb) as store:
        started = time.perf_counter()
        results = store.load(reports)
        reports_done = time.perf_counter()
        customs_result = store.load_customs(customs, reporter="CZE")
        customs_done = time.perf_counter()
        store.sql("CHECKPOINT")
        report_rows = sum(result.rows for result in results)
        assert all(result.status == "loaded" for result in results), [r for r in results if r.status != "loaded"][:3]
    return {
        "report_rows": report_rows,
        "report_files": len(results),
        "report_load_s": round(reports_done - started, 2),
        "customs_rows": customs_result.rows,
        "customs_load_s": round(customs_done - reports_done, 2),
        "db_mib": round(db.stat().st_size / 2**20, 1),
    }


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("store_inputs")
    reports = write_reports(folder, ROWS)
    customs = folder / "customs.parquet"
    generate(ROWS, customs)
    return {"reports": reports, "customs": customs, "folder": folder}


@pytest.fixture(scope="module")
def loaded(inputs, tmp_path_factory) -> dict[str, Any]:
    """The loaded store: built by the load benchmark when it ran first, else here."""
    if "db" not in _STATE:
        db = tmp_path_factory.mktemp("store") / "store.duckdb"
        _STATE.update(_load(db, inputs["reports"], inputs["customs"]), db=db)
    return _STATE


@pytest.mark.benchmark(group="store-load")
def test_load_one_million_report_and_customs_lines(benchmark, inputs, tmp_path_factory) -> None:
    db = tmp_path_factory.mktemp("store") / "store.duckdb"
    figures = benchmark.pedantic(_load, args=(db, inputs["reports"], inputs["customs"]), rounds=1, iterations=1)
    _STATE.update(figures, db=db)
    benchmark.extra_info.update(figures)
    benchmark.extra_info["report_rows_per_s"] = round(figures["report_rows"] / figures["report_load_s"])
    benchmark.extra_info["customs_rows_per_s"] = round(figures["customs_rows"] / figures["customs_load_s"])
    print(f"\nstore load: {benchmark.extra_info}")


def _query_mix(seed: int = 7) -> list[tuple[str, dict[str, Any]]]:
    """Representative requests: a reporter's years, a partner, a category, totals, pages sorted by value."""
    rng = random.Random(seed)
    mix: list[tuple[str, dict[str, Any]]] = []
    for _ in range(QUERIES_PER_KIND):
        state, partner = rng.choice(STATES), rng.choice(STATES)
        first = rng.choice(YEARS[:-3])
        mix += [
            ("count reporter+years", {"reporter": state, "year": f"{first}-{first + 3}"}),
            ("page partner by value", {"partner": partner, "order_by": "value", "descending": True, "limit": 50}),
            ("page category+year+flow", {"category": "VIII.SA", "year": first, "flow": "export", "limit": 50}),
            ("totals category,year of a reporter", {"by": "category,year", "reporter": state}),
            ("totals by partner, years, flow", {"by": "partner", "year": f"{first}-2024", "flow": "import"}),
            ("count text search", {"text": "howitzers model 12"}),
            ("customs totals by category", {"by": "category", "data": "customs"}),
            ("customs page of a category", {"data": "customs", "category": "VIII", "limit": 50}),
        ]
    return mix


def _run(store: Store, kind: str, arguments: dict[str, Any]) -> None:
    if "by" in arguments:
        store.totals(**arguments)
    elif "limit" in arguments:
        store.query(**arguments)
    else:
        store.count(**arguments)


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ms = np.array(latencies) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1)}


@pytest.mark.benchmark(group="store-query")
def test_query_latency(benchmark, loaded) -> None:
    mix = _query_mix()
    latencies: dict[str, list[float]] = {}
    with Store(loaded["db"], read_only=True) as store:
        for kind, arguments in mix[:8]:  # warm the caches once
            _run(store, kind, arguments)

        def all_queries() -> None:
            for kind, arguments in mix:
                started = time.perf_counter()
                _run(store, kind, arguments)
                latencies.setdefault(kind, []).append(time.perf_counter() - started)

        benchmark.pedantic(all_queries, rounds=1, iterations=1)
    everything = [value for values in latencies.values() for value in values]
    benchmark.extra_info.update({"queries": len(everything), **_percentiles(everything)})
    benchmark.extra_info["by_kind"] = {kind: _percentiles(values) for kind, values in latencies.items()}
    benchmark.extra_info["db_mib"] = loaded["db_mib"]
    print(f"\nstore queries: {benchmark.extra_info}")


@pytest.mark.benchmark(group="store-query")
def test_page_api_latency(benchmark, loaded) -> None:
    """What the page waits for: each request opens the store read-only, answers, closes it."""
    app = StoreApp(loaded["db"], load_knowledge())
    targets = [
        f"/api/query?reporter={state}&year=2018-2024&sort=value&desc=1&limit=50" for state in STATES[:QUERIES_PER_KIND]
    ] + [f"/api/chart?dim=partner&metric=lines&reporter={state}" for state in STATES[:QUERIES_PER_KIND]]
    latencies: list[float] = []

    def requests(call: Callable[[str], Any] = app.respond) -> None:
        for target in targets:
            started = time.perf_counter()
            response = call(target)
            assert response.status == 200
            latencies.append(time.perf_counter() - started)

    benchmark.pedantic(requests, rounds=1, iterations=1)
    benchmark.extra_info.update({"requests": len(latencies), **_percentiles(latencies)})
    print(f"\npage API: {benchmark.extra_info}")


@pytest.mark.benchmark(group="store-mirror")
def test_full_mirror_comparison(benchmark, loaded) -> None:
    with Store(loaded["db"], read_only=True) as store:
        table = benchmark.pedantic(store.mirror, rounds=1, iterations=1)
    benchmark.extra_info["mirror_rows"] = len(table)
    benchmark.extra_info["statuses"] = table["status"].value_counts().to_dict()
    print(f"\nmirror: {benchmark.extra_info}")
