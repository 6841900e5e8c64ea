"""Customs lines of every ATT year: each line read under the HS edition in force on its date, in classification,
reconciliation and the store, and one more edition (HS 2028) added as files only."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hsmap.classify.editions import EditionReader, in_force
from hsmap.classify.pipeline import classify_file
from hsmap.cli.main import app
from hsmap.customs import iter_customs
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.lookup import correlate
from hsmap.reconcile import ReconcileOptions, reconcile_files
from hsmap.store import Store

# Declarations of a Czech exporter over ten years, as its customs system writes them: the 2015/2016 lines were
# declared under HS 2012, the 2019 ones under HS 2017, the 2024 ones under HS 2022. Two lines use a code of
# another edition: a drone code of 8806 in 2015 (8806 came with HS 2022), and an aircraft-parts code of 8803 in
# 2024 (HS 2022 moved those to 8807).
LINES = [
    ("2015-06-30", "export", "88022000", "UNMANNED AERIAL VEHICLE BAYRAKTAR TB2", 2, "UKR"),
    ("2015-09-14", "export", "88062400", "UNMANNED AIRCRAFT BAYRAKTAR TB2", 1, "UKR"),
    ("2016-12-31", "export", "93019000", "ASSAULT RIFLE CZ BREN 2 5.56MM", 40, "POL"),
    ("2019-03-04", "export", "88022000", "UNMANNED AERIAL VEHICLE BAYRAKTAR TB2", 2, "UKR"),
    ("2019-03-04", "export", "88033000", "UNDERCARRIAGE FOR MIG-29", 4, "POL"),
    ("2024-05-06", "export", "88062400", "UNMANNED AIRCRAFT BAYRAKTAR TB2", 3, "UKR"),
    ("2024-05-06", "export", "88033000", "UNDERCARRIAGE FOR MIG-29", 2, "POL"),
    ("2024-11-20", "export", "93019000", "ASSAULT RIFLE CZ BREN 2 5.56MM", 60, "POL"),
]
EXPECTED_EDITIONS = [2012, 2012, 2012, 2017, 2017, 2022, 2022, 2022]
NOT_IN_EDITION = [False, True, False, False, False, False, True, False]


def _declarations(folder: Path, lines: list[tuple] = LINES) -> Path:
    path = folder / "declarations_2015_2024.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["declaration_date", "flow", "hs_code", "goods_description", "quantity", "unit", "partner"])
        writer.writerows([(*line[:5], "u", line[5]) for line in lines])
    return path


def test_the_edition_in_force_follows_the_dates_in_the_data(kb: Knowledge) -> None:
    years = np.array([2011, 2012, 2016, 2017, 2021, 2022, 2031, 0])
    assert in_force(years, kb).tolist() == [2012, 2012, 2012, 2017, 2017, 2022, 2022, 2022]  # 0: no year, the newest


def test_each_line_is_classified_under_the_edition_of_its_date(tmp_path: Path) -> None:
    summary = classify_file(_declarations(tmp_path), tmp_path / "classified.csv")
    out = pd.read_csv(tmp_path / "classified.csv", dtype=str, keep_default_na=False)
    assert out["hs_edition"].astype(int).tolist() == EXPECTED_EDITIONS
    flagged = out["flags"].str.contains("code-not-in-edition").tolist()
    assert flagged == NOT_IN_EDITION
    assert summary.flags["code-not-in-edition"] == 2
    # a code of another edition is still read as what it names, with the links of its own edition
    drone_2015 = out.iloc[1]
    assert drone_2015["att_category"] == "IV.b" and "(HS 2022 code)" in drone_2015["reason"]
    assert "(HS 2022 code)" not in out.iloc[5]["reason"]  # the same line in 2024: a code of its own edition
    parts_2024 = out.iloc[6]
    assert parts_2024["att_category"] == "ART4" and "(HS 2017 code)" in parts_2024["reason"]
    assert out["att_category"].tolist() == ["IV.b", "IV.b", "VIII.SA.4", "IV.b", "ART4", "IV.b", "ART4", "VIII.SA.4"]
    assert list(out.columns[:8]) == [
        "declaration_date",
        "flow",
        "hs_code",
        "goods_description",
        "quantity",
        "unit",
        "partner",
        "hs6",
    ]
    assert out.columns[8] == "hs_edition"


def test_a_given_edition_reads_every_line_and_no_date_means_the_newest(tmp_path: Path, kb: Knowledge) -> None:
    source = _declarations(tmp_path)
    classify_file(source, tmp_path / "as_2017.csv", edition=2017)
    as_2017 = pd.read_csv(tmp_path / "as_2017.csv", dtype=str, keep_default_na=False)
    assert set(as_2017["hs_edition"]) == {"2017"}
    assert as_2017["flags"].str.contains("code-not-in-edition").tolist() == [
        code.startswith("8806") for code in as_2017["hs6"]
    ]
    undated = pd.read_csv(source, dtype=str).drop(columns=["declaration_date"])
    rows, ids = EditionReader(kb).decide(undated, "hs_code", "goods_description")
    assert set(rows.column("hs_edition").to_pylist()) == {kb.newest}
    assert len(ids) == len(undated)


def test_the_reconciliation_reads_each_year_under_its_edition(tmp_path: Path, kb: Knowledge) -> None:
    source = _declarations(tmp_path)
    lines = pd.concat(list(iter_customs(source, kb=kb, chunk_rows=3)), ignore_index=True)  # chunks span editions
    assert lines["year"].tolist() == [2015, 2015, 2016, 2019, 2019, 2024, 2024, 2024]
    assert lines["flags"].str.contains("code-not-in-edition").tolist() == NOT_IN_EDITION
    report = tmp_path / "att_report_cze.csv"
    report.write_text(
        "Reporting State,Year,Flow,Basis,Category,Final importing State,Number of items,Value,Currency,"
        "State of origin,Description of item,Comments on the transfer,Nil report,Withheld\n"
        "Czechia,2015,export,actual,IV.b,Ukraine,3,,,,,,no,no\n"
        "Czechia,2016,export,actual,VIII.SA.4,Poland,40,,,,,,no,no\n"
        "Czechia,2019,export,actual,IV.b,Ukraine,2,,,,,,no,no\n"
        "Czechia,2024,export,actual,IV.b,Ukraine,3,,,,,,no,no\n"
        "Czechia,2024,export,actual,VIII.SA.4,Poland,60,,,,,,no,no\n",
        encoding="utf-8",
    )
    result = reconcile_files(source, report, ReconcileOptions(), kb=kb)
    compared = result.comparison[result.comparison["category"].isin(["IV.b", "VIII.SA.4"])]
    assert sorted(zip(compared["year"], compared["category"], compared["status"], strict=True)) == [
        (2015, "IV.b", "match"),  # the 2015 drone declared under an 8806 code is counted, not lost
        (2016, "VIII.SA.4", "match"),
        (2019, "IV.b", "match"),
        (2024, "IV.b", "match"),
        (2024, "VIII.SA.4", "match"),
    ]


def test_the_store_keeps_each_line_with_the_reading_of_its_year(tmp_path: Path, kb: Knowledge) -> None:
    with Store(":memory:", kb=kb) as store:
        assert store.load_customs(_declarations(tmp_path), reporter="CZE").status == "loaded"
        stored = store.sql("SELECT year, hs6, category, flags FROM customs_lines ORDER BY source_row")
    assert stored["year"].tolist() == [2015, 2015, 2016, 2019, 2019, 2024, 2024, 2024]
    assert stored["flags"].fillna("").str.contains("code-not-in-edition").tolist() == NOT_IN_EDITION


def test_the_command_line_chooses_the_edition_by_date_unless_told(tmp_path: Path) -> None:
    source = _declarations(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["classify", str(source), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "out.csv")["hs_edition"].tolist() == EXPECTED_EDITIONS
    result = runner.invoke(app, ["classify", str(source), "-o", str(tmp_path / "out.csv"), "--edition", "2012"])
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(tmp_path / "out.csv")["hs_edition"]) == {2012}


def _add_hs_2028(mappings: Path) -> None:
    """HS 2028 as it would be added once published: its files and one row of dates, nothing else. (The codes
    here are those of HS 2022 linked 1:1, standing in for the real edition's files.)"""
    hs = mappings / "hs"
    shutil.copy(hs / "2022.csv", hs / "2028.csv")
    subheadings = [
        row["code"] for row in csv.DictReader((hs / "2022.csv").open(encoding="utf-8")) if row["level"] == "6"
    ]
    with (hs / "correlation_2022_2028.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["from_code", "to_code", "relation", "confidence", "note", "source"])
        writer.writerows([(code, code, "1:1", "high", "test stand-in", "test") for code in subheadings])
    with (hs / "editions.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow([2028, "2028-01-01", "test stand-in", ""])
    links = list(csv.DictReader((mappings / "att_hs.csv").open(encoding="utf-8")))
    with (mappings / "att_hs.csv").open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(links[0]))
        writer.writerows([dict(link, edition="2028") for link in links if link["edition"] == "2022"])


def test_hs_2028_is_one_more_set_of_files(mappings_copy: Path, tmp_path: Path) -> None:
    _add_hs_2028(mappings_copy)
    kb = load_knowledge(mappings_copy)
    assert kb.editions == [2012, 2017, 2022, 2028]
    assert "8806.24" in set(correlate("8802.20", 2012, 2028, kb)["to_code"])
    lines = pd.DataFrame(
        {
            "year": ["2015", "2027", "2028", "2030"],
            "hs_code": ["88022000", "88062400", "88062400", "93019000"],
            "description": ["UAV BAYRAKTAR TB2", "UAV BAYRAKTAR TB2", "UAV BAYRAKTAR TB2", "ASSAULT RIFLE"],
        }
    )
    rows, ids = EditionReader(kb).decide(lines, "hs_code", "description", pd.Series([2015, 2027, 2028, 2030]))
    assert rows.column("hs_edition").take(ids).to_pylist() == [2012, 2022, 2028, 2028]
    assert rows.column("att_category").take(ids).to_pylist() == ["IV.b", "IV.b", "IV.b", "VIII.SA.4"]


@pytest.mark.parametrize("value", ["1988", "next", "2017.5"])
def test_an_edition_the_knowledge_base_lacks_is_refused(tmp_path: Path, value: str) -> None:
    result = CliRunner().invoke(app, ["classify", str(_declarations(tmp_path)), "-o", "x.csv", "--edition", value])
    assert result.exit_code == 2
    assert "2012, 2017, 2022" in result.stderr
