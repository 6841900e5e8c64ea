"""Reconciliation of customs data with ATT reports: partners, units, statuses, tolerances, category levels,
structural gaps, Comtrade extracts, and the proof that every input line is accounted for."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hsmap.customs import (
    CANONICAL_COLUMNS,
    chunks_of,
    customs_frame,
    iter_customs,
    parse_amounts,
    parse_dates,
    parse_flows,
    parse_units,
)
from hsmap.errors import InputError
from hsmap.knowledge import Knowledge
from hsmap.reconcile import (
    STATUSES,
    ReconcileOptions,
    Reconciliation,
    aggregate_customs,
    normalise_rates,
    reconcile,
    reconcile_frames,
)
from hsmap.report import read_report

REPORT_HEADER = (
    "Reporting State,Year,Flow,Basis,Category,Final importing State,Number of items,Value,Currency,"
    "State of origin,Description of item,Comments on the transfer,Nil report,Withheld\n"
)
CUSTOMS_COLUMNS = [
    "date",
    "flow",
    "hs_code",
    "description",
    "quantity",
    "unit",
    "value",
    "currency",
    "partner",
    "att_category",
]


def _customs(rows: list[tuple[object, ...]], **kwargs: object) -> pd.DataFrame:
    """Already-classified declaration lines (date, flow, code, text, qty, unit, value, currency, partner, cat)."""
    frame = pd.DataFrame([[str(cell) for cell in row] for row in rows], columns=CUSTOMS_COLUMNS, dtype="str")
    return customs_frame(frame, **kwargs)  # type: ignore[arg-type]


def _report(tmp_path: Path, kb: Knowledge, body: str, name: str = "att_report.csv") -> pd.DataFrame:
    path = tmp_path / name
    path.write_text(REPORT_HEADER + body, encoding="utf-8")
    return read_report(path, known_categories=kb.categories)


def _run(tmp_path: Path, kb: Knowledge, customs: pd.DataFrame, body: str, **options: object) -> Reconciliation:
    return reconcile_frames(customs, _report(tmp_path, kb, body), kb, ReconcileOptions(**options))  # type: ignore[arg-type]


def _row(result: Reconciliation, partner: str, category: str) -> pd.Series:
    table = result.comparison
    found = table[(table["partner"] == partner) & (table["category"] == category)]
    assert len(found) == 1, table[["status", "partner", "category"]].to_string()
    return found.iloc[0]


# --- cells as customs systems write them ----------------------------------------------------------------------


def test_amounts_in_national_notations_and_unreadable_cells_flagged() -> None:
    cells = pd.Series(["1250", "1,250,000.50", "1 250 000", "1.250.000,50", "12,5", "-3", "", "12x", "n/a"])
    values, bad = parse_amounts(cells)
    assert values.iloc[:6].tolist() == [1250.0, 1_250_000.5, 1_250_000.0, 1_250_000.5, 12.5, -3.0]
    assert values.iloc[6:].isna().all()
    assert bad.tolist() == [False] * 7 + [True, True]  # a blank cell is not a problem, an unreadable one is


def test_units_items_thousands_kilograms_and_others() -> None:
    kind, factor = parse_units(
        pd.Series(["u", "5", "p/st", "NAR", "Stück", "1000u", "9", "KGM", "8", "t", "1", "", "2u", "l"])
    )
    assert kind.tolist() == ["items"] * 7 + ["kg"] * 3 + ["none", "none", "other:2u", "other:l"]
    assert factor.tolist()[5:10] == [1000.0, 1000.0, 1.0, 1.0, 1000.0]


def test_dates_give_the_year_and_only_unambiguous_months() -> None:
    years, months = parse_dates(
        pd.Series(["2024-12-30", "20240115", "05.01.2024", "01/12/2024", "2024-03-05 00:00:00", "soon"])
    )
    assert years.tolist() == [2024, 2024, 2024, 2024, 2024, 0]
    assert months.tolist() == [12, 1, 1, 0, 3, 0]  # 01/12/2024 could be January or December: no month


def test_flows_in_words_and_comtrade_codes() -> None:
    flows = parse_flows(pd.Series(["Export", "X", "2", "M", "1", "Re-export", "RX", "3", "Réexportation", "XIP"]))
    assert flows.tolist() == ["export"] * 3 + ["import"] * 2 + ["re-export"] * 4 + [""]


# --- partners ---------------------------------------------------------------------------------------------------


def test_partner_keys_aliases_m49_specials_unknowns_and_world() -> None:
    partners = [
        "Swaziland",
        "0562",
        "562",
        "Niger",
        "Nigeria",
        "Korea, Rep.",
        "US",
        "Ivory Coast",
        "Holland",
        "899",
        "Bunkers",
        "838",
        "Atlantis",
        "",
        "0",
        "World",
    ]
    rows = [("2024-03-01", "export", "93019000", "rifles", 1, "u", 100, "EUR", p, "VIII.SA.2") for p in partners]
    frame = _customs(rows)
    assert list(frame.columns) == list(CANONICAL_COLUMNS)
    assert frame["partner_key"].tolist()[:9] == ["SWZ", "NER", "NER", "NER", "NGA", "KOR", "USA", "CIV", "NLD"]
    assert frame["partner_status"].tolist()[9:14] == ["special", "special", "special", "unknown", "blank"]
    assert frame["partner_key"].tolist()[9:14] == ["*899", "*bunkers", "*838", "?atlantis", ""]
    assert frame["exclusion"].iloc[:14].eq("").all()
    assert frame["exclusion"].iloc[14:].str.contains("World").all()  # would count every partner twice


def test_unresolved_partners_are_listed_never_guessed_or_dropped(tmp_path: Path, kb: Knowledge) -> None:
    customs = _customs(
        [
            ("2024-03-01", "export", "93019000", "assault rifles", 40, "u", 90000, "EUR", "Atlantis", "VIII.SA.4"),
            ("2024-03-01", "export", "93019000", "assault rifles", 5, "u", 9000, "EUR", "Other Asia, nes", "VIII.SA.4"),
        ]
    )
    result = _run(tmp_path, kb, customs, "Norway,2024,export,actual,VIII.SA.4,Narnia,40,90000,EUR,,,,no,no\n")
    table = result.comparison
    assert table["status"].tolist() == ["not-comparable"] * 3
    assert set(table["partner"]) == {"Atlantis", "Other Asia, nes", "Narnia"}
    atlantis = table[table["partner"] == "Atlantis"].iloc[0]
    assert "customs partner 'Atlantis' is not a State" in atlantis["explanation"]
    assert "mappings/partners.csv" in atlantis["explanation"]
    nes = table[table["partner"] == "Other Asia, nes"].iloc[0]
    assert "cannot be matched with a State" in nes["explanation"]
    narnia = table[table["partner"] == "Narnia"].iloc[0]
    assert "partner 'Narnia' is not a State" in narnia["explanation"]
    partners = result.partners.set_index(["side", "partner"])
    assert partners.loc[("customs", "Atlantis"), "partner_status"] == "unknown"
    assert partners.loc[("customs", "Other Asia, nes"), "partner_status"] == "special"
    assert partners.loc[("report", "Narnia"), "partner_status"] == "unknown"
    assert result.partners["partner_status"].iloc[0] == "unknown"  # the ones to fix come first


def test_report_partner_names_meet_customs_codes(tmp_path: Path, kb: Knowledge) -> None:
    customs = _customs(
        [
            ("2024-02-01", "export", "93020000", "pistols", 120, "u", 58000, "EUR", "384", "VIII.SA.1"),
            ("2024-02-01", "export", "93020000", "pistols", 10, "u", 5000, "EUR", "KR", "VIII.SA.1"),
        ]
    )
    body = (
        "Czechia,2024,export,actual,VIII.SA.1,Côte d’Ivoire,120,58000,EUR,,,,no,no\n"
        'Czechia,2024,export,actual,VIII.SA.1,"Korea, Republic of",10,5000,EUR,,,,no,no\n'
    )
    result = _run(tmp_path, kb, customs, body)
    assert result.comparison["status"].tolist() == ["match", "match"]
    assert set(result.comparison["partner"]) == {"CIV", "KOR"}


# --- units ------------------------------------------------------------------------------------------------------


def test_kilograms_are_never_compared_with_items(tmp_path: Path, kb: Knowledge) -> None:
    customs = _customs([("2024-05-01", "export", "93019000", "machine guns", 950, "kg", "", "", "Peru", "VIII.SA.5")])
    result = _run(tmp_path, kb, customs, "Czechia,2024,export,actual,VIII.SA.5,Peru,40,,,,,,no,no\n")
    row = _row(result, "PER", "VIII.SA.5")
    assert row["status"] == "not-comparable"
    assert row["items_status"] == "not-comparable"
    assert pd.isna(row["customs_items"]) and row["customs_kg"] == 950
    assert pd.isna(row["items_diff"])
    assert "kilograms are never compared with items" in row["explanation"]
    assert "unit" in row["gaps"].split(";")


def test_thousands_of_items_and_mixed_units(tmp_path: Path, kb: Knowledge) -> None:
    customs = _customs(
        [
            ("2024-05-01", "export", "93020000", "pistols", 2, "1000u", 900000, "EUR", "Chile", "VIII.SA.1"),
            ("2024-05-01", "export", "93019000", "rifles", 100, "u", 50000, "EUR", "Kenya", "VIII.SA.2"),
            ("2024-05-02", "export", "93019000", "rifles", 300, "kg", 20000, "EUR", "Kenya", "VIII.SA.2"),
        ]
    )
    body = (
        "Czechia,2024,export,actual,VIII.SA.1,Chile,2000,900000,EUR,,,,no,no\n"
        "Czechia,2024,export,actual,VIII.SA.2,Kenya,150,70000,EUR,,,,no,no\n"
    )
    result = _run(tmp_path, kb, customs, body)
    chile = _row(result, "CHL", "VIII.SA.1")
    assert (chile["status"], chile["customs_items"]) == ("match", 2000)
    kenya = _row(result, "KEN", "VIII.SA.2")
    # one line in items, one in kg: the items total would be partial, so only the values are compared
    assert kenya["items_status"] == "not-comparable"
    assert kenya["value_status"] == "match"
    assert kenya["status"] == "match"
    assert "1 of 2 customs lines give no number of items (in kg)" in kenya["explanation"]


# --- statuses and tolerances ------------------------------------------------------------------------------------


def test_every_status_with_differences(tmp_path: Path, kb: Knowledge) -> None:
    customs = _customs(
        [
            (
                "2024-03-01",
                "export",
                "93019000",
                "CZ BREN 2 assault rifles",
                500,
                "u",
                1150000,
                "EUR",
                "UA",
                "VIII.SA.4",
            ),
            ("2024-04-01", "export", "93019000", "assault rifles", 40, "u", 92000, "EUR", "FR", "VIII.SA.4"),
            ("2024-05-01", "export", "93020000", "pistols", 104, "u", 52000, "EUR", "Chile", "VIII.SA.1"),
            ("2024-06-01", "export", "93011000", "120 mm mortars", 6, "u", 720000, "EUR", "Kazakhstan", "III"),
            ("2024-07-01", "export", "93019000", "machine guns", 950, "kg", 300000, "EUR", "Peru", "VIII.SA.5"),
        ]
    )
    body = (
        "Czechia,2024,export,actual,VIII.SA.4,Ukraine,500,1150000,EUR,,,,no,no\n"
        "Czechia,2024,export,actual,VIII.SA.4,France,25,57500,EUR,,,,no,no\n"
        "Czechia,2024,export,actual,VIII.SA.1,Chile,100,50000,EUR,,,,no,no\n"
        "Czechia,2024,export,actual,VIII.SA.2,Israel,10,38000,EUR,,,,no,no\n"
        "Czechia,2024,export,actual,VIII.SA.5,Peru,40,,,,,,no,no\n"
    )
    result = _run(tmp_path, kb, customs, body, tolerance=0.05)
    assert set(result.comparison["status"]) == set(STATUSES)
    assert _row(result, "UKR", "VIII.SA.4")["status"] == "match"
    within = _row(result, "CHL", "VIII.SA.1")
    assert within["status"] == "within-tolerance"
    assert within["items_diff"] == 4 and within["items_rel_diff"] == pytest.approx(0.04)
    france = _row(result, "FRA", "VIII.SA.4")
    assert france["status"] == "mismatch"
    assert (france["items_diff"], france["items_rel_diff"]) == (15, pytest.approx(0.6))
    assert france["value_diff"] == pytest.approx(34500) and france["value_rel_diff"] == pytest.approx(0.6)
    assert "Customs recorded 40 items worth 92,000 EUR under 9301.90 (1 line) to FRA in 2024" in france["explanation"]
    assert "the report lists 25 assault rifles (VIII.SA.4) worth 57,500 EUR to France (row 3)" in france["explanation"]
    assert _row(result, "KAZ", "III")["status"] == "only-customs"
    assert _row(result, "ISR", "VIII.SA.2")["status"] == "only-report"
    assert _row(result, "PER", "VIII.SA.5")["status"] == "not-comparable"
    assert result.comparison["status"].iloc[0] == "mismatch"  # the rows to act on come first
    counts = result.status_counts
    assert sum(counts.values()) == len(result.comparison)


@pytest.mark.parametrize(
    ("customs", "report", "tolerance", "status"),
    [
        (100, 100, 0.0, "match"),
        (110, 100, 0.1, "within-tolerance"),  # exactly at the tolerance: accepted
        (90, 100, 0.1, "within-tolerance"),
        (111, 100, 0.1, "mismatch"),
        (89, 100, 0.1, "mismatch"),
        (101, 100, 0.0, "mismatch"),
        (0, 0, 0.0, "match"),
        (5, 0, 0.5, "mismatch"),  # against a report of 0 every difference is a mismatch
        (1, 3, 0.1, "mismatch"),
    ],
)
def test_tolerance_edges(
    tmp_path: Path, kb: Knowledge, customs: int, report: int, tolerance: float, status: str
) -> None:
    lines = _customs([("2024-05-01", "export", "93020000", "pistols", customs, "u", "", "", "Chile", "VIII.SA.1")])
    result = _run(
        tmp_path, kb, lines, f"Czechia,2024,export,actual,VIII.SA.1,Chile,{report},,,,,,no,no\n", tolerance=tolerance
    )
    row = _row(result, "CHL", "VIII.SA.1")
    assert row["status"] == status
    assert row["items_diff"] == customs - report
    if report == 0 and customs:
        assert pd.isna(row["items_rel_diff"])
        assert "the report 0" in row["explanation"]


def test_value_tolerance_apart_from_items(tmp_path: Path, kb: Knowledge) -> None:
    lines = _customs(
        [("2024-05-01", "export", "88023000", "L-159 combat aircraft", 2, "u", 22000000, "EUR", "Iraq", "IV.a")]
    )
    body = "Czechia,2024,export,actual,IV.a,Iraq,2,24500000,EUR,,,Contract value including training,no,no\n"
    strict = _run(tmp_path, kb, lines, body, tolerance=0.1)
    row = _row(strict, "IRQ", "IV.a")
    assert (row["items_status"], row["value_status"], row["status"]) == ("match", "mismatch", "mismatch")
    assert row["value_rel_diff"] == pytest.approx(-2.5 / 24.5)
    assert 'Report comment: "Contract value including training"' in row["explanation"]
    lenient = _run(tmp_path, kb, lines, body, tolerance=0.0, value_tolerance=0.15)
    assert _row(lenient, "IRQ", "IV.a")["status"] == "within-tolerance"


# --- category levels -----------------------------------------------------------------------------------------------


def test_top_level_report_is_compared_at_top_level(tmp_path: Path, kb: Knowledge) -> None:
    customs = _customs(
        [
            ("2024-03-01", "export", "93019000", "assault rifles", 500, "u", 1000, "EUR", "Ukraine", "VIII.SA.4"),
            ("2024-03-01", "export", "93019000", "heavy machine guns", 20, "u", 1000, "EUR", "Ukraine", "VIII.LW.1"),
            ("2024-03-01", "export", "93020000", "pistols", 10, "u", 1000, "EUR", "Ukraine", "VIII.SA.1"),
            ("2024-03-01", "export", "93020000", "pistols", 7, "u", 1000, "EUR", "Ghana", "VIII.SA.1"),
        ]
    )
    body = "Czechia,2024,export,actual,VIII,Ukraine,530,3000,EUR,,,,no,no\n"
    result = _run(tmp_path, kb, customs, body)
    assert result.comparison["category"].tolist() == ["VIII", "VIII"]  # Ghana too: the report has no finer level
    ukraine = _row(result, "UKR", "VIII")
    assert (ukraine["status"], ukraine["customs_items"]) == ("match", 530)
    assert "aggregated" in ukraine["gaps"]
    assert "compared at VIII, the finest level the report gives" in ukraine["explanation"]
    assert _row(result, "GHA", "VIII")["status"] == "only-customs"


def test_mid_level_report_and_coarse_customs_meet_at_the_shared_level(tmp_path: Path, kb: Knowledge) -> None:
    customs = _customs(
        [
            ("2024-03-01", "export", "93019000", "assault rifles", 500, "u", 1000, "EUR", "Ukraine", "VIII.SA.4"),
            ("2024-03-01", "export", "93019000", "heavy machine guns", 20, "u", 1000, "EUR", "Ukraine", "VIII.LW.1"),
            ("2024-03-01", "export", "93019000", "small arms", 12, "u", 1000, "EUR", "Peru", "VIII"),
        ]
    )
    body = (
        "Czechia,2024,export,actual,VIII.SA,Ukraine,500,1000,EUR,,,,no,no\n"
        "Czechia,2024,export,actual,VIII.SA.4,Peru,8,600,EUR,,,,no,no\n"
        "Czechia,2024,export,actual,VIII.SA.1,Peru,4,400,EUR,,,,no,no\n"
    )
    result = _run(tmp_path, kb, customs, body)
    assert _row(result, "UKR", "VIII.SA")["status"] == "match"  # the report's VIII.SA absorbs VIII.SA.4 there
    assert _row(result, "UKR", "VIII.LW.1")["status"] == "only-customs"  # the report goes as deep elsewhere
    peru = _row(result, "PER", "VIII")  # customs knows only VIII: both report rows are compared there
    assert (peru["status"], peru["report_items"], peru["report_rows"]) == ("match", 12, "3, 4")
    assert "the finest level the customs lines could be classified to" in peru["explanation"]


# --- structural gaps --------------------------------------------------------------------------------------------------


def test_currency_conversion_with_a_rate_table(tmp_path: Path, kb: Knowledge) -> None:
    lines = _customs([("2024-05-01", "export", "93020000", "pistols", 100, "u", 100000, "USD", "Chile", "VIII.SA.1")])
    body = "Czechia,2024,export,actual,VIII.SA.1,Chile,100,92000,EUR,,,,no,no\n"
    missing = _row(_run(tmp_path, kb, lines, body), "CHL", "VIII.SA.1")
    assert (missing["value_status"], missing["status"]) == ("not-comparable", "match")
    assert "no exchange rate from USD to EUR for 2024" in missing["explanation"]
    assert "currency" in missing["gaps"]
    rates = pd.DataFrame({"year": [2024, 2023], "from": ["usd", "USD"], "to": ["EUR", "EUR"], "rate": [0.92, 0.5]})
    converted = _row(_run(tmp_path, kb, lines, body, rates=rates), "CHL", "VIII.SA.1")
    assert converted["value_status"] == "match" and converted["customs_value"] == pytest.approx(92000)
    inverse = pd.DataFrame({"from": ["EUR"], "to": ["USD"], "rate": [1 / 0.92]})  # no year: any year
    assert _row(_run(tmp_path, kb, lines, body, rates=inverse), "CHL", "VIII.SA.1")["value_status"] == "match"


def test_malformed_rate_tables_are_refused() -> None:
    with pytest.raises(InputError, match="missing: rate"):
        normalise_rates(pd.DataFrame({"from": ["USD"], "to": ["EUR"]}))
    with pytest.raises(InputError, match=r"row 3.*above 0"):
        normalise_rates(pd.DataFrame({"from": ["USD", "CZK"], "to": ["EUR", "EUR"], "rate": ["0.9", "-1"]}))


def test_re_exports_are_compared_with_exports_or_left_out(tmp_path: Path, kb: Knowledge) -> None:
    lines = _customs([("2024-05-01", "re-export", "93020000", "pistols", 50, "u", 20000, "EUR", "Chile", "VIII.SA.1")])
    body = "Czechia,2024,export,actual,VIII.SA.1,Chile,50,20000,EUR,Austria,,,no,no\n"
    row = _row(_run(tmp_path, kb, lines, body), "CHL", "VIII.SA.1")
    assert row["status"] == "match" and "re-export" in row["gaps"]
    assert "re-exports; the report names the State of origin (Austria)" in row["explanation"]
    left_out = _run(tmp_path, kb, lines, body, include_re_exports=False)
    assert _row(left_out, "CHL", "VIII.SA.1")["status"] == "only-report"
    assert left_out.customs_unmatched["reason"].str.contains("left out").any()


def test_authorised_basis_and_mixed_bases(tmp_path: Path, kb: Knowledge) -> None:
    lines = _customs([("2024-05-01", "export", "93020000", "pistols", 50, "u", 20000, "EUR", "Chile", "VIII.SA.1")])
    authorised = _row(
        _run(tmp_path, kb, lines, "Czechia,2024,export,authorized,VIII.SA.1,Chile,80,,,,,,no,no\n"), "CHL", "VIII.SA.1"
    )
    assert authorised["status"] == "mismatch"
    assert "authorised-vs-actual" in authorised["gaps"]
    assert "a licence may be used in another year" in authorised["explanation"]
    body = (
        "Czechia,2024,export,actual,VIII.SA.1,Chile,50,,,,,,no,no\n"
        "Czechia,2024,export,authorized,VIII.SA.1,Chile,80,,,,,,no,no\n"
    )
    mixed = _run(tmp_path, kb, lines, body).comparison
    assert sorted(mixed["status"]) == ["match", "not-comparable"]
    other = mixed[mixed["status"] == "not-comparable"].iloc[0]
    assert other["report_rows"] == "3" and "never added together" in other["explanation"]


def test_withheld_rows_point_at_the_customs_lines_they_may_cover(tmp_path: Path, kb: Knowledge) -> None:
    lines = _customs(
        [("2024-06-11", "export", "93011000", "MORTARS 120MM, TOWED", 6, "u", 720000, "EUR", "KAZAKHSTAN", "III")]
    )
    body = "Czechia,2024,export,actual,III,,,,,,120 mm towed mortars,Withheld as commercially sensitive,no,yes\n"
    result = _run(tmp_path, kb, lines, body)
    kaz = _row(result, "KAZ", "III")
    assert kaz["status"] == "only-customs" and "withheld" in kaz["gaps"]
    assert "withholds the partner of row 2 (III: 120 mm towed mortars); this may be that transfer" in kaz["explanation"]
    assert 'Described as "MORTARS 120MM, TOWED"' in kaz["explanation"]
    withheld = result.comparison[result.comparison["partner"] == ""].iloc[0]
    assert withheld["status"] == "not-comparable" and withheld["report_rows"] == "2"
    assert "KAZ 6 items under 9301.10 (III)" in withheld["explanation"]


def test_nil_reports(tmp_path: Path, kb: Knowledge) -> None:
    nil = "Czechia,2024,import,actual,,,,,,,,,yes,no\n"
    quiet = _customs([("2024-06-11", "import", "36041000", "fireworks", 10, "kg", 100, "EUR", "China", "")])
    assert _run(tmp_path, kb, quiet, nil).comparison["status"].tolist() == ["match"]
    busy = _customs([("2024-06-11", "import", "93020000", "pistols", 10, "u", 100, "EUR", "Austria", "VIII.SA.1")])
    table = _run(tmp_path, kb, busy, nil).comparison
    assert sorted(table["status"]) == ["mismatch", "only-customs"]
    assert "Nil report for imports in 2024 (row 2), but customs recorded 1 line" in table["explanation"].iloc[0]


def test_intra_eu_transfers_explained(tmp_path: Path, kb: Knowledge) -> None:
    lines = _customs([("2024-05-01", "export", "93020000", "pistols", 5, "u", 100, "EUR", "Chile", "VIII.SA.1")])
    body = (
        "Czech Republic,2024,export,actual,VIII.SA.5,Slovak Republic,40,,,,,,no,no\n"
        "Czech Republic,2024,export,actual,VIII.SA.5,Serbia,40,,,,,,no,no\n"
    )
    result = _run(tmp_path, kb, lines, body)
    assert "intra-EU" in _row(result, "SVK", "VIII.SA.5")["gaps"]
    assert "need no customs declaration" in _row(result, "SVK", "VIII.SA.5")["explanation"]
    assert "intra-EU" not in _row(result, "SRB", "VIII.SA.5")["gaps"]


def test_calendar_year_and_shared_civil_codes(tmp_path: Path, kb: Knowledge) -> None:
    lines = _customs(
        [
            ("2024-12-28", "export", "88023000", "aircraft", 3, "u", 30000000, "EUR", "India", "IV.a"),
            ("2024-06-01", "export", "88023000", "aircraft", 1, "u", 10000000, "EUR", "India", "IV.a"),
        ]
    )
    row = _row(
        _run(tmp_path, kb, lines, "Czechia,2024,export,actual,IV.a,India,2,20000000,EUR,,,,no,no\n"), "IND", "IV.a"
    )
    assert row["status"] == "mismatch"
    assert {"calendar-year", "shared-civil"} <= set(row["gaps"].split(";"))
    assert (
        "8802.30 lines to IND: civil and combat aircraft share this code — check the descriptions" in row["explanation"]
    )
    assert "1 of the 2 customs lines is dated in December or January" in row["explanation"]


def test_only_report_rows_point_at_customs_lines_of_another_category(tmp_path: Path, kb: Knowledge) -> None:
    lines = _customs(
        [
            (
                "2024-07-02",
                "export",
                "90131000",
                "SNIPER RIFLE CZ TSR .308 WITH SCOPE",
                10,
                "u",
                38000,
                "EUR",
                "Israel",
                "ART4",
            ),
            ("2024-07-02", "export", "93040000", "AIR RIFLES", 7, "u", 3000, "EUR", "Israel", ""),
        ]
    )
    row = _row(
        _run(tmp_path, kb, lines, "Czechia,2024,export,actual,VIII.SA.2,Israel,10,38000,EUR,,,,no,no\n"),
        "ISR",
        "VIII.SA.2",
    )
    assert row["status"] == "only-report"
    assert "Customs has unmatched lines to ISR under ART4 (10 items)" in row["explanation"]
    assert "not classified as ATT items: 9304.00 (1 line, 7 items)" in row["explanation"]


def test_ammunition_and_parts_are_outside_the_report_unless_it_lists_them(tmp_path: Path, kb: Knowledge) -> None:
    lines = _customs(
        [("2024-01-22", "export", "93063030", "cartridges 7.62x39", 24000, "kg", 560000, "EUR", "Ukraine", "ART3")]
    )
    row = _row(_run(tmp_path, kb, lines, "Czechia,2024,export,actual,I,Ukraine,1,,,,,,no,no\n"), "UKR", "ART3")
    assert row["status"] == "not-comparable" and "out-of-scope" in row["gaps"]
    assert "need not be listed in the ATT annual report" in row["explanation"]
    listed = _run(tmp_path, kb, lines, "Czechia,2024,export,actual,ART3,Ukraine,,560000,EUR,,,,no,no\n")
    assert _row(listed, "UKR", "ART3")["status"] == "match"  # the report lists ammunition: values are compared


# --- accounting -------------------------------------------------------------------------------------------------------


MIXED = [
    ("2024-03-01", "export", "93019000", "assault rifles", 500, "u", 1150000, "EUR", "Ukraine", "VIII.SA.4"),
    ("2024-03-02", "export", "93019000", "assault rifles", "12x", "u", "1,000", "EUR", "Ukraine", "VIII.SA.4"),
    ("2024-03-03", "export", "93063030", "cartridges", 24000, "kg", 560000, "EUR", "Ukraine", "ART3"),
    ("2024-03-04", "export", "36041000", "fireworks", 2500, "kg", 18000, "EUR", "Switzerland", ""),
    ("2024-03-05", "export", "93019000", "rifles", 5, "u", "abc", "EUR", "Atlantis", "VIII.SA.2"),
    ("2023-12-30", "export", "93019000", "rifles", 7, "u", 7000, "EUR", "Peru", "VIII.SA.2"),
    ("", "export", "93019000", "rifles", 3, "u", 3000, "EUR", "Peru", "VIII.SA.2"),
    ("2024-03-06", "transit", "93019000", "rifles", 3, "u", 3000, "EUR", "Peru", "VIII.SA.2"),
    ("2024-03-07", "import", "93020000", "pistols", 9, "u", 900, "EUR", "Austria", "VIII.SA.1"),
    ("2024-03-08", "export", "93020000", "pistols", 11, "u", 1100, "EUR", "World", "VIII.SA.1"),
    ("2024-03-09", "export", "93019000", "rifles", 4, "u", 4000, "EUR", "Peru", "XII"),
    ("2024-12-10", "re-export", "93020000", "pistols", 2, "u", 200, "EUR", "Peru", "VIII.SA.1"),
]
MIXED_REPORT = (
    "Czechia,2024,export,actual,VIII.SA.4,Ukraine,500,1150000,EUR,,,,no,no\n"
    "Czechia,2024,export,actual,VIII.SA.2,Peru,7,7000,EUR,,,,no,no\n"
    "Czechia,2024,export,actual,VIII.SA.1,Narnia,1,,,,,,no,no\n"
    "Czechia,2024,export,actual,III,,,,,,howitzers,,no,yes\n"
    "Czechia,2024,export,authorized,I,Poland,3,,,,,,no,no\n"
)


def test_every_line_of_each_side_is_accounted_for(tmp_path: Path, kb: Knowledge) -> None:
    customs = _customs(MIXED)
    report = _report(tmp_path, kb, MIXED_REPORT)
    result = reconcile_frames(customs, report, kb)
    accounting = result.accounting.set_index(["side", "what"])["count"]
    read = accounting[("customs", "lines read")]
    assert read == len(MIXED)
    assert accounting["customs"].drop("lines read").sum() == read
    compared = int(result.comparison["customs_lines"].sum())
    excluded = int(
        result.customs_unmatched.loc[
            ~result.customs_unmatched["reason"].isin(["only-customs", "not-comparable"]), "lines"
        ].sum()
    )
    not_att = int(result.customs_not_att["lines"].sum())
    assert compared + excluded + not_att == len(MIXED)
    reasons = " | ".join(result.customs_unmatched["reason"])
    for reason in (
        "World",
        "no readable year",
        "flow not known: 'transit'",
        "no import rows for 2024",
        "unknown ATT category 'XII'",
        "no export rows for 2023",
    ):
        assert reason in reasons
    # totals survive aggregation: items and values of the usable lines
    usable = customs[(customs["exclusion"] == "") & customs["category"].isin(kb.categories)]
    usable = usable[~((usable["year"] == 2023) | (usable["flow"] == "import"))]
    assert result.comparison["customs_items"].sum() == pytest.approx(usable["items"].sum())
    assert result.comparison["customs_kg"].sum() == pytest.approx(usable["kg"].sum())
    # each report row lands in exactly one comparison row
    rows = [int(n) for cell in result.comparison["report_rows"] for n in cell.split(", ") if n]
    assert sorted(rows) == report["source_row"].tolist()
    assert result.comparison["report_row_count"].sum() == len(report)
    assert accounting["report"].drop("rows read").sum() == len(report)


def test_unreadable_numbers_are_kept_and_flagged(tmp_path: Path, kb: Knowledge) -> None:
    result = reconcile_frames(_customs(MIXED), _report(tmp_path, kb, MIXED_REPORT), kb)
    ukraine = _row(result, "UKR", "VIII.SA.4")
    assert ukraine["customs_lines"] == 2  # the line with '12x' is counted, not dropped
    assert ukraine["items_status"] == "not-comparable"
    assert "1 unreadable" in ukraine["explanation"]
    problems = dict(zip(result.problems["problem"], result.problems["lines"], strict=True))
    assert problems == {"quantity '12x'": 1, "value 'abc'": 1}


def test_chunking_changes_nothing_and_memory_follows_distinct_keys(tmp_path: Path, kb: Knowledge) -> None:
    customs = _customs(MIXED)
    report = _report(tmp_path, kb, MIXED_REPORT)
    whole = reconcile_frames(customs, report, kb).comparison
    for size in (1, 5):
        pieces = reconcile_frames(chunks_of(customs, size), report, kb).comparison
        pd.testing.assert_frame_equal(pieces, whole)
    many = aggregate_customs(customs for _ in range(100))
    assert many.lines == 100 * len(MIXED)
    assert len(many.partials) == len(aggregate_customs([customs]).partials)
    assert len(many.partners) == customs["partner"].nunique()


# --- Comtrade extracts and file errors --------------------------------------------------------------------------------


def test_comtrade_extract(tmp_path: Path, kb: Knowledge) -> None:
    path = tmp_path / "comtrade.csv"
    path.write_text(
        "refYear,reporterCode,reporterISO,flowCode,partnerCode,partner2Code,cmdCode,customsCode,motCode,"
        "qtyUnitCode,qty,netWgt,primaryValue,att_category\n"
        "2024,203,CZE,X,804,0,930190,C00,0,5,500,1800,1250000,VIII.SA.4\n"
        "2024,203,CZE,X,804,0,930190,C00,2100,5,300,1000,700000,VIII.SA.4\n"  # road-transport breakdown
        "2024,203,CZE,X,0,0,930190,C00,0,5,500,1800,1250000,VIII.SA.4\n"  # World
        "2024,203,CZE,X,899,0,930630,C00,0,8,,24000,560000,ART3\n"
        "2024,203,CZE,X,604,0,930190,C00,0,1,,300,90000,VIII.SA.3\n",
        encoding="utf-8",
    )
    customs = aggregate_customs(iter_customs(path, kb=kb))
    report = _report(
        tmp_path,
        kb,
        "Czechia,2024,export,actual,VIII.SA.4,Ukraine,500,1250000,USD,,,,no,no\n"
        "Czechia,2024,export,actual,VIII.SA.3,Peru,150,90000,USD,,,,no,no\n",
    )
    result = reconcile(customs, report, kb)
    assert _row(result, "UKR", "VIII.SA.4")["status"] == "match"  # USD: Comtrade values are in US dollars
    peru = _row(result, "PER", "VIII.SA.3")
    assert (peru["items_status"], peru["value_status"]) == ("not-comparable", "match")  # unit 1: no quantity
    nes = result.comparison[result.comparison["partner"] == "899"].iloc[0]
    assert nes["status"] == "not-comparable" and nes["customs_kg"] == 24000
    reasons = " | ".join(result.customs_unmatched["reason"])
    assert "breakdown row (motCode" in reasons and "World" in reasons
    assert result.accounting.set_index("what").loc["lines read", "count"] == 5


def test_customs_files_missing_a_field_are_refused_with_the_option_to_use(tmp_path: Path, kb: Knowledge) -> None:
    cases = {
        "date,flow,hs_code,quantity,unit,value,currency\n2024-01-01,export,930190,1,u,1,EUR\n": "no partner country",
        "date,flow,hs_code,partner,value\n2024-01-01,export,930190,FR,1\n": "--customs-currency",
        "date,hs_code,partner\n2024-01-01,930190,FR\n": "--customs-flow",
        "flow,hs_code,partner\nexport,930190,FR\n": "--customs-year",
    }
    for number, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"customs{number}.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=message):
            list(iter_customs(path, kb=kb))


def test_classifies_lines_without_a_category_on_the_fly(tmp_path: Path, kb: Knowledge) -> None:
    frame = pd.DataFrame(
        {
            "date": ["2024-01-09", "2024-03-19"],
            "flow": ["export", "export"],
            "hs_code": ["93019000", "36041000"],
            "description": ["CZ BREN 2 ASSAULT RIFLES CAL. 5.56X45", "FIREWORKS, CONSUMER CATEGORY F2"],
            "quantity": ["500", "2500"],
            "unit": ["u", "kg"],
            "value": ["1150000", "18000"],
            "currency": ["EUR", "EUR"],
            "partner": ["UKRAINE", "SWITZERLAND"],
        },
        dtype="str",
    )
    customs = customs_frame(frame, kb=kb)
    assert customs["category"].iloc[0] in kb.categories  # loosely: the classifier is still being tuned
    result = reconcile_frames(
        customs, _report(tmp_path, kb, "Czechia,2024,export,actual,VIII.SA.4,Ukraine,500,1150000,EUR,,,,no,no\n"), kb
    )
    accounting = result.accounting.set_index("what")["count"]
    assert accounting.drop(["lines read", "rows read", "compared in cells"]).sum() == 2
    assert np.isin(result.comparison["status"], STATUSES).all()


def test_the_reconciliation_never_imports_an_engine() -> None:
    """The engine layer drives the reconciliation (``hsmap.engines.dask_aggregation``), never the other way."""
    package = Path(reconcile.__code__.co_filename).parent
    for module in package.glob("*.py"):
        nodes = list(ast.walk(ast.parse(module.read_text(encoding="utf-8"))))
        names = {node.module or "" for node in nodes if isinstance(node, ast.ImportFrom)}
        names |= {alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names}
        assert not [name for name in names if name.startswith("hsmap.engines")], module.name
