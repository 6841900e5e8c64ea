"""The report store: loading (idempotent, all-or-nothing), filters, totals, mirror statuses, outputs, CLI.

The small reports in ``tests/data/store`` are planted so that every figure below can be checked by hand:

* ``cze_2024.csv`` — Czechia's 2024 exports (actual, EUR): Ukraine written three ways (``Ukraine``, ``UA``,
  ``UKR``), a withheld row (VIII.LW.6, no partner), a partner hsmap cannot identify (``Atlantis``), and one
  import from Austria.
* ``cze_2023.csv`` — Czechia's 2023 exports: V.a to Ukraine, VIII.SA.4 to Slovakia.
* ``ukr_2024.csv`` — Ukraine's 2024 imports (actual), loaded as .xlsx; mostly items only, III in USD.
* ``pol_2024.csv`` — Poland's 2024 exports (authorized) and a nil report for its 2024 imports.
* ``bad_report.csv`` — three invalid rows (unknown category, value without currency, missing partner).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from hsmap.cli.main import app
from hsmap.report import ReportError
from hsmap.store import (
    MIRROR_COLUMNS,
    MIRROR_STATUSES,
    QUERY_COLUMNS,
    Filters,
    Store,
    StoreError,
    compare_measure,
    default_db_path,
    parse_years,
    write_table,
)

DATA = Path(__file__).parent / "data" / "store"
REPORTS = ("cze_2024.csv", "cze_2023.csv", "ukr_2024.xlsx", "pol_2024.csv")
runner = CliRunner()


def csv_to_xlsx(source: Path, target: Path) -> Path:
    """The same report as a workbook, numbers as numbers (as a ministry's spreadsheet would hold them)."""
    book = openpyxl.Workbook()
    sheet = book.active
    with source.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            sheet.append([int(cell) if cell.isdigit() else (cell or None) for cell in row])
    book.save(target)
    return target


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "reports"
    folder.mkdir()
    found = {}
    for path in DATA.iterdir():
        found[path.name] = Path(shutil.copy(path, folder / path.name))
    found["ukr_2024.xlsx"] = csv_to_xlsx(DATA / "ukr_2024.csv", folder / "ukr_2024.xlsx")
    return found


@pytest.fixture
def store(files: dict[str, Path], kb) -> Store:
    with Store(":memory:", kb=kb) as opened:
        results = opened.load(
            [files[name] for name in REPORTS], [files["customs_cze_2024.csv"]], customs_options={"reporter": "Czechia"}
        )
        assert [result.status for result in results] == ["loaded"] * 5
        yield opened


def line_count(store: Store, table: str = "report_lines") -> int:
    return int(store.sql(f"SELECT count(*) AS n FROM {table}")["n"].iloc[0])


# --- loading ------------------------------------------------------------------------------------------------


def test_every_line_of_every_report_is_stored_with_its_source(store: Store) -> None:
    assert line_count(store) == 10 + 2 + 7 + 3
    assert line_count(store, "customs_lines") == 5
    rows = store.sql("SELECT s.file, count(*) AS n FROM report_lines JOIN sources s USING (source_id) GROUP BY 1")
    assert dict(zip(rows["file"], rows["n"], strict=True)) == {
        "cze_2024.csv": 10,
        "cze_2023.csv": 2,
        "ukr_2024.xlsx": 7,
        "pol_2024.csv": 3,
    }


def test_a_partner_written_three_ways_is_one_state(store: Store) -> None:
    lines = store.query(reporter="CZE", year=2024, flow="export", partner="Ukraine")
    assert sorted(lines["partner"]) == ["UA", "UKR", "Ukraine", "Ukraine", "Ukraine"]
    assert set(lines["partner_key"]) == {"UKR"}
    assert store.count(partner="UA") == store.count(partner="804") == store.count(partner="ukraine") == 8


def test_nil_reports_and_withheld_rows_are_kept_as_such(store: Store) -> None:
    nil = store.query(reporter="Poland", flow="import")
    assert len(nil) == 1
    assert bool(nil["nil_report"].iloc[0])
    assert nil["category"].isna().all() and nil["partner"].isna().all()
    withheld = store.query(reporter="CZE", category="VIII.LW.6")
    assert len(withheld) == 1
    row = withheld.iloc[0]
    assert bool(row["withheld"]) and pd.isna(row["partner"]) and row["partner_key"] == ""
    assert pd.isna(row["items"]) and row["description"] == "60 mm light mortars"


def test_sources_list_state_year_flow_rows_file_hash_and_time(store: Store) -> None:
    sources = store.sources()
    assert {"state", "year", "flow", "rows", "file", "sha256", "loaded_at", "kind", "nil_report"} <= set(sources)
    keyed = {(r.state, r.year, r.flow, r.kind): r for r in sources.itertuples()}
    assert keyed[("CZE", 2024, "export", "report")].rows == 9
    assert keyed[("CZE", 2024, "import", "report")].rows == 1
    assert keyed[("POL", 2024, "import", "report")].nil_report
    assert not keyed[("POL", 2024, "export", "report")].nil_report
    assert keyed[("POL", 2024, "export", "report")].basis == "authorized"
    assert keyed[("UKR", 2024, "import", "report")].file == "ukr_2024.xlsx"
    assert keyed[("CZE", 2024, "export", "customs")].rows == 5
    assert len(keyed) == len(sources) == 7
    assert sources["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()


def test_loading_the_same_content_again_adds_nothing(store: Store, files: dict[str, Path], tmp_path: Path) -> None:
    before, sources = line_count(store), len(store.sources())
    again = store.load_report(files["cze_2024.csv"])
    assert again.status == "already-loaded" and again.source_id == 1 and "cze_2024.csv" in again.message
    renamed = Path(shutil.copy(files["cze_2024.csv"], tmp_path / "renamed.csv"))
    assert store.load_report(renamed).status == "already-loaded"
    assert store.load_customs(files["customs_cze_2024.csv"], reporter="CZE").status == "already-loaded"
    assert line_count(store) == before and len(store.sources()) == sources


def test_a_file_with_problems_is_rejected_whole_with_its_reasons(store: Store, files: dict[str, Path]) -> None:
    before = line_count(store)
    [result] = store.load([files["bad_report.csv"]])
    assert result.status == "rejected"
    assert [problem.split(":")[0] for problem in result.problems] == [
        "row 3, column 'Category'",
        "row 4, column 'Currency'",
        "row 5, column 'Final importing State'",
    ]
    assert line_count(store) == before
    assert store.count(reporter="Slovakia") == 0  # row 2 was valid, and is not stored either
    with pytest.raises(ReportError):
        store.load_report(files["bad_report.csv"])


def test_a_report_whose_reporting_state_is_unknown_is_rejected_in_one_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "ruritania.csv"
    rows = "".join(f"Ruritania,2024,export,actual,VIII.SA.{n % 6 + 1},France,{n}\n" for n in range(16))
    path.write_text("Reporting State,Year,Flow,Basis,Category,Partner,Number of items\n" + rows, encoding="utf-8")
    with pytest.raises(ReportError) as caught:
        store.load_report(path)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (2, "reporting_state")
    assert "'Ruritania' on 16 rows (2, 3, 4, 5, 6 …) is not a State hsmap can identify" in problem.message
    assert "mappings/partners.csv" in problem.message
    assert store.count(year=2024, partner="France") == 0


def test_cli_load_names_the_options_for_fields_a_report_states_once(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "title_page.csv"
    path.write_text("Category,Final importing State,Number of items\nI,France,1\n", encoding="utf-8")
    result = runner.invoke(app, ["store", "load", str(path), "--flow", "export", "--db", str(db)])
    assert result.exit_code == 2
    for option in ("--state", "--year", "--basis"):
        assert f"give it once for the file with {option}" in result.output


def test_a_customs_file_failing_in_a_later_chunk_leaves_nothing_behind(store: Store, files: dict[str, Path]) -> None:
    before = line_count(store, "customs_lines")
    with pytest.raises(ReportError, match="98O000"):
        store.load_customs(files["customs_bad.csv"], reporter="CZE", chunk_rows=1)  # row 2 went in first
    assert line_count(store, "customs_lines") == before
    assert len(store.sources()[lambda s: s["file"] == "customs_bad.csv"]) == 0


def test_customs_lines_need_a_reporting_state(store: Store, files: dict[str, Path], tmp_path: Path) -> None:
    copy = Path(shutil.copy(files["customs_cze_2024.csv"], tmp_path / "no_reporter.csv"))
    with copy.open("a", encoding="utf-8") as handle:
        handle.write("D6,2024-06-01,export,93019000,RIFLES,1,u,1000,EUR,FRANCE\n")
    with pytest.raises(ReportError, match="--customs-reporter"):
        store.load_customs(copy)


def test_a_corrected_resubmission_is_flagged_and_can_replace_the_old_one(store: Store, files: dict[str, Path]) -> None:
    corrected = files["cze_2023.csv"].with_name("cze_2023_corrected.csv")
    corrected.write_text(files["cze_2023.csv"].read_text(encoding="utf-8").replace(",2,3000000,", ",3,4500000,"))
    result = store.load_report(corrected)
    assert result.status == "loaded"
    assert result.overlaps == ("CZE exports of 2023 are also in source 2 (cze_2023.csv)",)
    assert store.remove(2) == 2
    lines = store.query(reporter="CZE", year=2023, category="V.a")
    assert lines["items"].tolist() == [3] and lines["file"].tolist() == ["cze_2023_corrected.csv"]
    with pytest.raises(StoreError, match="no source 2"):
        store.remove(2)


# --- filters and totals -----------------------------------------------------------------------------------


def test_filters_combine(store: Store) -> None:
    assert store.count(reporter="CZE") == 12
    assert store.count(reporter="Czech Republic", year="2024") == 10
    assert store.count(reporter="CZ", year="2024", flow="export") == 9
    assert store.count(reporter="CZE", year="2024", flow="export", category="VIII") == 5
    assert store.count(reporter="CZE", year="2024", flow="export", category="viii.sa") == 3
    assert store.count(reporter="CZE", year="2024", flow="export", category="VIII.SA.4,I") == 2
    assert store.count(reporter="CZE,UKR", year="2024") == 17
    assert store.count(year="2019-2023") == 2
    assert store.count(year="2023,2024") == 22
    assert store.count(basis="authorized") == 3
    assert store.count(basis="authorised", flow="export") == 2
    assert store.count(text="RIFLES") == 6  # description, any case
    assert store.count(partner="Ukraine", category="VIII", basis="actual") == 1
    assert store.count(data="customs", partner="Ukraine") == 3
    assert store.count(data="customs", category="I", year=2024) == 1


def test_bad_filters_are_refused_with_a_reason(store: Store) -> None:
    with pytest.raises(StoreError, match="not an ATT category"):
        store.count(category="IX")
    with pytest.raises(StoreError, match="not a State"):
        store.count(reporter="Atlantis")
    with pytest.raises(StoreError, match="no basis"):
        store.count(data="customs", basis="actual")
    with pytest.raises(StoreError, match="2024-2019"):
        parse_years("2024-2019")
    with pytest.raises(StoreError, match="cannot sort by"):
        store.query(order_by="value; DROP TABLE report_lines")
    with pytest.raises(StoreError, match="cannot total by"):
        store.totals(by="items")


def test_user_values_never_become_sql(store: Store) -> None:
    hostile = "x') OR 1=1; DROP TABLE report_lines; --"
    assert store.count(partner=hostile) == 0
    assert store.count(text=hostile) == 0
    assert store.count(text="%") == 0  # not a wildcard
    assert line_count(store) == 22


def test_query_sorts_pages_and_names_its_columns(store: Store) -> None:
    lines = store.query(reporter="CZE", year=2024, flow="export", order_by="items", descending=True, limit=3)
    assert list(lines.columns) == list(QUERY_COLUMNS["report"])
    assert lines["items"].tolist() == [2300, 200, 24]
    last = store.query(reporter="CZE", year=2024, flow="export", order_by="items", descending=True, offset=8, limit=3)
    assert len(last) == 1 and bool(last["withheld"].iloc[0])  # no number sorts last
    whole = pd.concat(list(store.query_batches(reporter="CZE")), ignore_index=True)
    pd.testing.assert_frame_equal(whole, store.query(reporter="CZE"))


def test_totals_by_category_match_hand_computed_figures(store: Store) -> None:
    totals = store.totals(by="category", reporter="CZE", year=2024, flow="export")
    keyed = totals.set_index("category")
    assert list(totals["category"]) == [
        "I", "II", "III", "VIII.LW.1", "VIII.LW.6", "VIII.SA.1", "VIII.SA.2", "VIII.SA.4"
    ]  # fmt: skip
    assert keyed.loc["III", "lines"] == 2 and keyed.loc["III", "items"] == 6
    assert keyed.loc["III", "value"] == pytest.approx(21_200_000)
    assert keyed.loc["III", "category_name"] == "Large-calibre artillery systems"
    assert keyed.loc["VIII.LW.6", "withheld_lines"] == 1 and pd.isna(keyed.loc["VIII.LW.6", "items"])
    assert keyed.loc["VIII.LW.6", "lines_without_value"] == 1
    assert totals["items"].sum() == 10 + 24 + 6 + 20 + 2300 + 10 + 200
    assert totals["value"].sum() == pytest.approx(
        9_500_000 + 5_280_000 + 21_200_000 + 140_000 + 1_325_000 + 38_000 + 460_000
    )


def test_totals_never_add_bases_or_currencies(store: Store) -> None:
    totals = store.totals(by="year", partner="Ukraine", flow="export")
    assert totals[["year", "basis", "currency", "lines", "items"]].values.tolist() == [
        [2023, "actual", "EUR", 1, 2],
        [2024, "actual", "EUR", 5, 60],
        [2024, "authorized", "EUR", 2, 150],
    ]
    assert totals["value"].tolist() == pytest.approx([3_000_000, 36_120_000, 340_000])
    imports = store.totals(by="reporter,category", reporter="UKR", category="III")
    assert imports[["reporter", "reporter_name", "currency", "items", "value"]].values.tolist() == [
        ["UKR", "Ukraine", "USD", 6, 22_000_000.0]
    ]


def test_totals_leave_nil_reports_out(store: Store) -> None:
    totals = store.totals(by="flow", reporter="POL")
    assert totals["flow"].tolist() == ["export"] and totals["lines"].tolist() == [2]


def test_customs_totals(store: Store) -> None:
    totals = store.totals(by="category", data="customs")
    assert totals["lines"].sum() == 5
    assert totals["value"].sum() == pytest.approx(1_150_000 + 980_000 + 9_500_000 + 18_000 + 560_000)
    not_att = totals[totals["category"].isna()]
    assert not_att["value"].tolist() == [18_000]  # the oil filters
    tanks = totals.set_index("category").loc["I"]
    assert tanks["items"] == 10 and tanks["value"] == 9_500_000


# --- mirror -------------------------------------------------------------------------------------------------

EXPECTED_MIRROR = {
    # (year, exporter, importer, category, side): (status, gaps that must be present)
    (2024, "CZE", "UKR", "I", "both"): ("match", set()),
    (2024, "CZE", "UKR", "II", "both"): ("mismatch", set()),
    (2024, "CZE", "UKR", "III", "both"): ("match", {"currency"}),
    (2024, "POL", "UKR", "VIII.SA", "both"): ("match", {"aggregated", "authorised-vs-actual"}),
    # heavy machine guns (exporter VIII.LW.1) against machine guns and mortars (importer VIII.SA.5, VIII.LW.6)
    (2024, "CZE", "UKR", "VIII", "both"): ("mismatch", {"category-differs", "withheld"}),
    (2024, "CZE", "UKR", "V.a", "importer"): ("only-report", {"calendar-year"}),
    (2023, "CZE", "UKR", "V.a", "exporter"): ("only-report", {"no-counterpart-report", "calendar-year"}),
    (2023, "CZE", "SVK", "VIII.SA.4", "exporter"): ("only-report", {"no-counterpart-report"}),
    (2024, "CZE", "POL", "VIII.SA.4", "exporter"): ("only-report", {"nil-report"}),
    (2024, "CZE", "USA", "VIII.SA.1", "exporter"): ("only-report", {"no-counterpart-report"}),
    (2024, "AUT", "CZE", "VIII.SA.1", "importer"): ("only-report", {"no-counterpart-report"}),
    (2024, "CZE", "", "VIII.LW.6", "exporter"): ("not-comparable", {"withheld"}),
    (2024, "CZE", "?atlantis", "VIII.SA.2", "exporter"): ("not-comparable", {"unresolved-partner"}),
}


def test_mirror_statuses_on_planted_discrepancies(store: Store) -> None:
    table = store.mirror()
    assert list(table.columns) == list(MIRROR_COLUMNS)
    found = {
        (r.year, r.exporter, r.importer, r.category, r.side): (r.status, set(filter(None, r.gaps.split(";"))))
        for r in table.itertuples()
    }
    assert set(found) == set(EXPECTED_MIRROR)
    for key, (status, gaps) in EXPECTED_MIRROR.items():
        assert found[key][0] == status, key
        assert gaps <= found[key][1], (key, found[key][1])
    assert set(table["status"]) <= set(MIRROR_STATUSES)


def test_mirror_numbers_and_explanations(store: Store) -> None:
    table = store.mirror(year=2024).set_index(["exporter", "importer", "category", "side"])
    ii = table.loc[("CZE", "UKR", "II", "both")]
    assert (ii["export_items"], ii["import_items"], ii["items_diff"]) == (24, 20, 4)
    assert ii["items_rel_diff"] == pytest.approx(0.2)  # relative to the importer's figure
    assert ii["value_status"] == "not-comparable"  # only the exporter gives a value
    iii = table.loc[("CZE", "UKR", "III", "both")]
    assert iii["export_rows"] == 2 and iii["export_items"] == 6 and iii["export_value"] == 21_200_000
    assert iii["export_source_rows"] == "cze_2024.csv row 4, cze_2024.csv row 5"
    assert (iii["export_currency"], iii["import_currency"]) == ("EUR", "USD")
    assert "no exchange rate for 2024 converts them" in iii["explanation"] and "--rates" in iii["explanation"]
    small_arms = table.loc[("POL", "UKR", "VIII.SA", "both")]
    assert small_arms["export_categories"] == "VIII.SA.2,VIII.SA.4" and small_arms["export_items"] == 150
    assert (small_arms["export_basis"], small_arms["import_basis"]) == ("authorized", "actual")
    nil = table.loc[("CZE", "POL", "VIII.SA.4", "exporter")]
    assert "Poland (POL) filed a nil report for its 2024 imports" in nil["explanation"]
    weapons = table.loc[("CZE", "UKR", "VIII", "both")]
    assert (weapons["export_items"], weapons["import_items"], weapons["items_diff"]) == (20, 50, -30)
    assert (
        "The exporter reported VIII.LW.1, the importer VIII.LW.6, VIII.SA.5: compared at VIII" in weapons["explanation"]
    )
    assert "withholds the partner of VIII.LW.6" in weapons["explanation"]  # the exporter's mortars, partner withheld
    assert "cze_2024.csv row 8" in weapons["explanation"]
    assert "Atlantis" in table.loc[("CZE", "?atlantis", "VIII.SA.2", "exporter")]["explanation"]
    assert all(table["explanation"].str.len() > 0)


def test_mirror_tolerance_and_filters(store: Store) -> None:
    loose = store.mirror(tolerance=0.25, exporter="Czechia", importer="UA", category="II")
    assert loose[["status", "category"]].values.tolist() == [["within-tolerance", "II"]]
    assert store.mirror(tolerance=0.19, category="II")["status"].tolist() == ["mismatch"]
    only = store.mirror(status="only-report", year=2023)
    assert sorted(only["importer"]) == ["SVK", "UKR"]
    small_arms = store.mirror(category="VIII.SA.4", year=2024)  # the VIII.SA comparison holds VIII.SA.4 lines
    assert set(zip(small_arms["exporter"], small_arms["importer"], small_arms["category"], strict=True)) == {
        ("POL", "UKR", "VIII.SA"),
        ("CZE", "POL", "VIII.SA.4"),
    }
    with pytest.raises(StoreError, match="status"):
        store.mirror(status="only-exporter")


def test_mirror_keeps_the_other_basis_apart(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "svk.csv"
    path.write_text(
        "Reporting State,Year,Flow,Basis,Category,Partner,Number of items\n"
        "Slovakia,2024,export,actual,II,Ukraine,5\n"
        "Slovakia,2024,export,authorized,II,Ukraine,8\n",
        encoding="utf-8",
    )
    store.load_report(path)
    table = store.mirror(exporter="SVK")
    assert table[["status", "side", "export_basis", "export_items"]].values.tolist() == [
        ["only-report", "exporter", "actual", 5],
        ["not-comparable", "exporter", "authorized", 8],
    ]
    assert "authorised-vs-actual" in table["gaps"].iloc[1]


# Real-shaped Register returns in which the two States put one transfer in different sub-categories, and one
# pair whose categories differ at the top level (no parent to meet at: the reports say what they hold).
EXPORTERS = "Reporting State,Year,Flow,Basis,Category,Final importing State,Number of items,Description of item\n"
IMPORTERS = "Reporting State,Year,Flow,Basis,Category,Exporting State,Number of items,Description of item\n"
DISAGREEING = {
    "rus_2015_export.csv": EXPORTERS
    + "Russian Federation,2015,export,actual,VII(b),Viet Nam,26,MANPADS (missiles and launchers)\n",
    "vnm_2015_import.csv": IMPORTERS + "Viet Nam,2015,import,actual,VII(a),Russian Federation,26,IGLA-S\n",
    "swe_2014_export.csv": EXPORTERS + 'Sweden,2014,export,actual,VII(b),Brazil,113,"RBS 70 missiles, sights"\n',
    "bra_2014_import.csv": IMPORTERS + "Brazil,2014,import,actual,VII(a),Sweden,113,RBS-70 Bolide\n",
    "usa_2016_export.csv": EXPORTERS
    + "United States of America,2016,export,actual,VII(a),Romania,72,AIM-120C AMRAAM\n"
    + "United States of America,2016,export,actual,IV(a),Romania,12,F-16 (used)\n"
    + "United States of America,2016,export,actual,I,Romania,4,M1A1\n",
    "rou_2016_import.csv": IMPORTERS
    + "Romania,2016,import,actual,VII(b),United States of America,12,HIMARS launchers\n"
    + "Romania,2016,import,actual,IV(b),United States of America,12,F-16AM\n"
    + "Romania,2016,import,actual,II,United States of America,4,M1A1 tanks\n",
    "fra_2016_export.csv": EXPORTERS + "France,2016,export,actual,V(a),Mexico,3,Fennec AS555\n",
    "mex_2016_import.csv": IMPORTERS + "Mexico,2016,import,actual,V(b),France,3,Helicopters\n",
    "cze_2016_export.csv": EXPORTERS
    + "Czech Republic,2016,export,actual,VIII.SA.2,Peru,120,CZ 805 BREN A1 rifles\n"
    + "Czech Republic,2016,export,actual,VIII.SA.1,Peru,40,CZ 75 pistols\n",
    "per_2016_import.csv": IMPORTERS
    + "Peru,2016,import,actual,VIII.SA.4,Czechia,120,Assault rifles\n"
    + "Peru,2016,import,actual,VIII.SA.1,Czechia,40,Pistols\n",
}


@pytest.fixture
def disagreeing(tmp_path: Path, kb) -> Store:
    with Store(":memory:", kb=kb) as opened:
        paths = []
        for name, text in DISAGREEING.items():
            paths.append(tmp_path / name)
            paths[-1].write_text(text, encoding="utf-8")
        assert {result.status for result in opened.load(paths)} == {"loaded"}
        yield opened


@pytest.mark.parametrize(
    ("year", "exporter", "importer", "parent", "status", "said"),
    [
        (2015, "RUS", "VNM", "VII", "match", "The exporter reported VII.b, the importer VII.a"),
        (2014, "SWE", "BRA", "VII", "match", "The exporter reported VII.b, the importer VII.a"),
        (2016, "USA", "ROU", "VII", "mismatch", "The exporter reported VII.a, the importer VII.b"),
        (2016, "USA", "ROU", "IV", "match", "The exporter reported IV.a, the importer IV.b"),
        (2016, "FRA", "MEX", "V", "match", "The exporter reported V.a, the importer V.b"),
        (2016, "CZE", "PER", "VIII.SA", "match", "The exporter reported VIII.SA.1, VIII.SA.2, the importer "),
    ],
)
def test_mirror_compares_disagreeing_sub_categories_at_their_parent(
    disagreeing: Store, year: int, exporter: str, importer: str, parent: str, status: str, said: str
) -> None:
    table = disagreeing.mirror(year=year, exporter=exporter, importer=importer)
    row = table.set_index("category").loc[parent]
    assert (row["status"], row["side"]) == (status, "both")
    assert (
        row["export_items"]
        == disagreeing.totals(by="year", reporter=exporter, year=year, category=parent)["items"].sum()
    )
    assert "category-differs" in row["gaps"]
    assert (
        said in row["explanation"] and f"compared at {parent}, the lowest category holding both" in row["explanation"]
    )


def test_mirror_keeps_top_level_categories_apart(disagreeing: Store) -> None:
    table = disagreeing.mirror(year=2016, exporter="USA", category="I,II")
    assert table[["category", "status", "side"]].values.tolist() == [
        ["I", "only-report", "exporter"],
        ["II", "only-report", "importer"],
    ]  # no code to say they cannot be told apart: each report says what it holds
    assert all("category-differs" in gaps for gaps in table["gaps"])
    assert "reports II (4 items) from" in table["explanation"].iloc[0]


def test_mirror_converts_values_with_a_rate_table(store: Store) -> None:
    rates = pd.DataFrame({"from": ["EUR"], "to": ["USD"], "rate": [1.08], "year": [2024]})
    plain = store.mirror(year=2024, category="III").iloc[0]
    assert plain["value_status"] == "not-comparable" and "--rates" in plain["explanation"]
    converted = store.mirror(year=2024, category="III", rates=rates, currency="USD").iloc[0]
    assert (converted["export_currency"], converted["import_currency"]) == ("USD", "USD")
    assert converted["export_value"] == pytest.approx(21_200_000 * 1.08)
    assert converted["value_diff"] == pytest.approx(21_200_000 * 1.08 - 22_000_000)
    assert converted["value_status"] == "mismatch"
    assert "Values in EUR are converted to USD at the given rates" in converted["explanation"]
    lenient = store.mirror(year=2024, category="III", rates=rates, currency="USD", value_tolerance=0.05).iloc[0]
    assert lenient["status"] == "within-tolerance"
    inverse = store.mirror(year=2024, category="III", rates=rates, currency="EUR").iloc[0]  # 1 USD = 1/1.08 EUR
    assert inverse["import_value"] == pytest.approx(22_000_000 / 1.08)
    other_year = pd.DataFrame({"from": ["EUR"], "to": ["USD"], "rate": [1.1], "year": [2023]})
    assert store.mirror(year=2024, category="III", rates=other_year).iloc[0]["value_status"] == "not-comparable"


def test_totals_convert_values_with_a_rate_table(store: Store) -> None:
    rates = pd.DataFrame({"from": ["EUR"], "to": ["USD"], "rate": [1.08], "year": [2024]})
    totals = store.totals(by="reporter", year=2024, flow="export", rates=rates, currency="USD").dropna(subset="value")
    assert totals[["reporter", "basis", "currency"]].values.tolist() == [
        ["CZE", "actual", "USD"],
        ["POL", "authorized", "USD"],
    ]
    assert totals["value"].tolist() == pytest.approx([37_943_000 * 1.08, 340_000 * 1.08])
    by_year = store.totals(by="year", reporter="CZE", flow="export", rates=rates, currency="USD").dropna(subset="value")
    assert by_year[["year", "currency"]].values.tolist() == [[2023, "EUR"], [2024, "USD"]]  # no 2023 rate
    assert by_year["value"].tolist() == pytest.approx([3_230_000, 37_943_000 * 1.08])


def test_mirror_statuses_are_the_reconciliation_vocabulary() -> None:
    from hsmap.reconcile import STATUSES

    assert set(MIRROR_STATUSES) <= set(STATUSES)


def test_compare_measure() -> None:
    exporter = pd.Series([10.0, 12.0, 10.0, 5.0, np.nan, 0.0])
    importer = pd.Series([10.0, 10.0, 8.0, np.nan, np.nan, 0.0])
    comparable = pd.Series([True, True, True, False, False, True])
    informative = pd.Series([True, True, True, True, False, True])
    status, diff, rel = compare_measure(exporter, importer, comparable, informative, 0.2, 0.0)
    assert status.tolist() == ["match", "within-tolerance", "mismatch", "not-comparable", "", "match"]
    assert diff.tolist()[:3] == [0.0, 2.0, 2.0] and rel.tolist()[2] == pytest.approx(0.25)
    assert rel.iloc[5] == 0.0


def test_an_empty_store_answers_with_empty_tables(kb) -> None:
    with Store(":memory:", kb=kb) as empty:
        assert empty.mirror().empty and list(empty.mirror().columns) == list(MIRROR_COLUMNS)
        assert empty.totals(by="year").empty and empty.sources().empty and empty.count() == 0


# --- files, outputs and locations ---------------------------------------------------------------------------


def test_store_file_reopens_read_only_and_checks_its_version(files: dict[str, Path], tmp_path: Path, kb) -> None:
    path = tmp_path / "nested" / "store.duckdb"
    with pytest.raises(StoreError, match="no store here"):
        Store(path, read_only=True)
    with Store(path, kb=kb) as writable:
        writable.load_report(files["cze_2024.csv"])
    with Store(path, read_only=True, kb=kb) as readable:
        assert readable.count() == 10
        with pytest.raises(StoreError):
            readable.sql("DELETE FROM report_lines")
    with duckdb.connect(str(path)) as raw:
        raw.execute("UPDATE store_info SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="version 99"):
        Store(path, read_only=True)
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(StoreError, match="not an hsmap store"):
        Store(other, read_only=True)


def test_default_location_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HSMAP_STORE", str(tmp_path / "mine.duckdb"))
    assert default_db_path() == tmp_path / "mine.duckdb"
    monkeypatch.delenv("HSMAP_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "hsmap" / "store.duckdb"


def test_outputs_are_formula_safe_in_every_format(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "formula.csv"
    path.write_text(
        "Reporting State,Year,Flow,Basis,Category,Partner,Number of items,Description\n"
        'Slovakia,2022,export,actual,I,Ukraine,1,"=HYPERLINK(""http://x"",""y"")"\n',
        encoding="utf-8",
    )
    store.load_report(path)
    lines = store.query(reporter="SVK")
    write_table(lines, tmp_path / "out.csv")
    write_table(lines, tmp_path / "out.xlsx")
    write_table(lines, tmp_path / "out.parquet")
    assert pd.read_csv(tmp_path / "out.csv")["description"].iloc[0].startswith("'=HYPERLINK")
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(2, header.index("description") + 1).value.startswith("'=")
    assert sheet.cell(2, header.index("items") + 1).value == 1
    assert pd.read_parquet(tmp_path / "out.parquet")["items"].tolist() == [1]


def test_filters_object_and_keywords_are_the_same_query(store: Store, kb) -> None:
    filters = Filters.parse(kb=kb, reporter="Czechia", year="2024", category="III")
    assert filters.reporter == ("CZE",) and filters.year == ((2024, 2024),) and filters.category == ("III",)
    assert store.count(filters) == store.count(reporter="Czechia", year="2024", category="III") == 2
    with pytest.raises(StoreError, match="either"):
        store.count(filters, reporter="CZE")


# --- the command line ---------------------------------------------------------------------------------------


@pytest.fixture
def db(files: dict[str, Path], tmp_path: Path) -> Path:
    path = tmp_path / "cli.duckdb"
    reports = [str(files[name]) for name in REPORTS]
    result = runner.invoke(
        app,
        ["store", "load", *reports, "--customs", str(files["customs_cze_2024.csv"]), "--customs-reporter", "CZE",
         "--db", str(path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return path


def test_cli_load_reports_rejections_and_keeps_the_rest(db: Path, files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["store", "load", str(files["bad_report.csv"]), str(files["cze_2024.csv"]),
                                 "--db", str(db)])  # fmt: skip
    assert result.exit_code == 2
    assert "bad_report.csv, row 3, column 'Category'" in result.output
    with Store(db, read_only=True) as store:
        assert store.count() == 22


def test_cli_sources_query_totals_and_outputs(db: Path, tmp_path: Path) -> None:
    sources = runner.invoke(app, ["store", "sources", "--db", str(db), "--format", "json"])
    assert sources.exit_code == 0
    assert {row["file"] for row in json.loads(sources.output)} >= {"cze_2024.csv", "ukr_2024.xlsx"}
    totals = runner.invoke(
        app,
        ["store", "query", "--partner", "UA", "--flow", "export", "--by", "year", "--format", "csv", "--db", str(db)],
    )
    assert totals.exit_code == 0, totals.output
    assert "2024,actual,EUR,5,0,60,0,36120000.0,0" in totals.output
    for suffix in (".csv", ".xlsx", ".parquet"):
        out = tmp_path / f"lines{suffix}"
        written = runner.invoke(app, ["store", "query", "--reporter", "CZE", "--year", "2024", "-o", str(out),
                                      "--db", str(db)])  # fmt: skip
        assert written.exit_code == 0, written.output
        assert "wrote 10 report lines" in written.output
    assert len(pd.read_parquet(tmp_path / "lines.parquet")) == 10
    assert len(pd.read_excel(tmp_path / "lines.xlsx")) == 10
    shown = runner.invoke(app, ["store", "query", "--reporter", "CZE", "--limit", "3", "--db", str(db)])
    assert shown.exit_code == 0 and "3 of 12 report lines" in shown.output
    bad = runner.invoke(app, ["store", "query", "--category", "IX", "--db", str(db)])
    assert bad.exit_code == 2 and "hsmap: error:" in bad.output and "Traceback" not in bad.output


def test_cli_mirror_and_sql(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "mirror.csv"
    result = runner.invoke(app, ["store", "mirror", "--status", "mismatch", "-o", str(out), "--db", str(db)])
    assert result.exit_code == 0, result.output
    mirror = pd.read_csv(out)
    assert mirror[["exporter", "importer", "category"]].values.tolist() == [
        ["CZE", "UKR", "II"],
        ["CZE", "UKR", "VIII"],
    ]
    shown = runner.invoke(app, ["store", "mirror", "--year", "2023", "--format", "json", "--db", str(db)])
    assert shown.exit_code == 0
    assert {row["gaps"] for row in json.loads(shown.output)} == {
        "no-counterpart-report;calendar-year",
        "no-counterpart-report",
    }
    sql = runner.invoke(app, ["store", "sql", "SELECT count(*) AS n FROM report_lines", "--format", "csv",
                              "--db", str(db)])  # fmt: skip
    assert sql.exit_code == 0 and sql.output.split() == ["n", "22"]
    refused = runner.invoke(app, ["store", "sql", "DROP TABLE report_lines", "--db", str(db)])
    assert refused.exit_code == 2


def test_cli_mirror_and_totals_take_a_rate_table(db: Path, tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text("year,from,to,rate\n2024,EUR,USD,1.08\n", encoding="utf-8")
    args = ["--rates", str(rates), "--currency", "USD", "--format", "json", "--db", str(db)]
    mirror = runner.invoke(app, ["store", "mirror", "--category", "III", *args])
    assert mirror.exit_code == 0, mirror.output
    [row] = json.loads(mirror.output)
    assert (row["value_status"], row["export_currency"]) == ("mismatch", "USD")
    totals = runner.invoke(app, ["store", "query", "--reporter", "POL", "--by", "year", *args])
    assert totals.exit_code == 0, totals.output
    assert [(r["currency"], r["value"]) for r in json.loads(totals.output)] == [("USD", pytest.approx(367_200))]
    lines = runner.invoke(app, ["store", "query", "--reporter", "POL", "--rates", str(rates), "--db", str(db)])
    assert lines.exit_code == 2 and "add --by" in lines.output
    bad = tmp_path / "bad_rates.csv"
    bad.write_text("from,to,rate\nEUR,USD,0\n", encoding="utf-8")
    refused = runner.invoke(app, ["store", "mirror", "--rates", str(bad), "--db", str(db)])
    assert refused.exit_code == 2 and "bad_rates.csv" in refused.output and "above 0" in refused.output


def test_cli_needs_an_existing_store_to_query(tmp_path: Path) -> None:
    result = runner.invoke(app, ["store", "sources", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "no store here yet" in result.output
