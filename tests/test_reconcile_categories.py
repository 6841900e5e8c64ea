"""Where customs and the report disagree on the category: sub-categories of one parent are compared at the
parent and the explanation says so; a code that cannot tell top-level categories apart (8710.00 without a
telling description) is compared at a combined level such as I+II — and only then."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hsmap.classify import classify
from hsmap.customs import customs_frame, iter_customs, undecided_levels
from hsmap.knowledge import Knowledge
from hsmap.reconcile import Reconciliation, aggregate_customs, reconcile, reconcile_frames
from hsmap.reconcile.categories import CategoryTree
from hsmap.reconcile.levels import comparison_levels
from hsmap.report import read_report

# The ATT reporting template's export table, as States fill it in.
EXPORTS = (
    "Reporting State,Year,Flow,Basis,Category,Final importing State,Number of items,Value,Currency,"
    "Description of item,Comments on the transfer\n"
)
DECLARATIONS = ["date", "flow", "hs_code", "description", "quantity", "unit", "value", "currency", "partner"]


def _report(tmp_path: Path, kb: Knowledge, body: str) -> pd.DataFrame:
    path = tmp_path / "att_report.csv"
    path.write_text(EXPORTS + body, encoding="utf-8")
    return read_report(path, known_categories=kb.categories)


def _declarations(rows: list[tuple[object, ...]], categories: list[str] | None = None) -> pd.DataFrame:
    """Customs declaration lines; tagged with ``categories`` as an administration's own tagging, else
    classified from their code and description."""
    frame = pd.DataFrame([[str(cell) for cell in row] for row in rows], columns=DECLARATIONS, dtype="str")
    if categories is not None:
        frame["att_category"] = categories
    return frame


def _comparison(result: Reconciliation) -> dict[tuple[str, str], pd.Series]:
    table = result.comparison
    assert not table.duplicated(["partner", "category"]).any(), table[["partner", "category"]]
    return {(row.partner, row.category): row for _, row in table.iterrows()}


# --- sub-categories of one parent ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "category", "reported", "parent"),
    [
        (  # the report files the MANPADS under VII(a), customs tags them VII.b
            ("2016-05-04", "export", "93069000", "RBS 70 MISSILES AND SIGHTS", 113, "u", 9_000_000, "EUR", "Brazil"),
            "VII.b",
            "Sweden,2016,export,actual,VII(a),Brazil,113,9000000,EUR,RBS-70 Bolide missiles,\n",
            "VII",
        ),
        (  # an armed drone: manned combat aircraft in the report, unmanned in the customs tagging
            ("2022-03-10", "export", "88062400", "BAYRAKTAR TB2 UAV", 6, "u", 30_000_000, "USD", "Poland"),
            "IV.b",
            "Turkey,2022,export,actual,IV (a),Poland,6,30000000,USD,Bayraktar TB2,\n",
            "IV",
        ),
        (
            ("2019-11-20", "export", "88021200", "ATTACK HELICOPTERS", 2, "u", 40_000_000, "EUR", "Hungary"),
            "V.a",
            "France,2019,export,actual,V(b),Hungary,2,40000000,EUR,Rotary-wing combat aircraft,\n",
            "V",
        ),
        (
            ("2024-12-17", "export", "93019000", "CZ BREN 2 BR RIFLES 7.62X39", 120, "u", 310_000, "EUR", "Viet Nam"),
            "VIII.SA.4",
            "Czechia,2024,export,actual,VIII.SA.2,Vietnam,120,310000,EUR,CZ BREN 2 BR semi-automatic rifles,\n",
            "VIII.SA",
        ),
    ],
)
def test_sub_categories_that_disagree_are_compared_at_their_parent(
    tmp_path: Path, kb: Knowledge, declared: tuple[object, ...], category: str, reported: str, parent: str
) -> None:
    result = reconcile_frames(customs_frame(_declarations([declared], [category])), _report(tmp_path, kb, reported), kb)
    (row,) = _comparison(result).values()
    assert (row["category"], row["status"]) == (parent, "match")
    assert row["customs_items"] == row["report_items"]
    assert "category-differs" in row["gaps"]
    assert f"Customs lines are classified {category}, the report lists" in row["explanation"]
    assert f"compared at {parent}, the lowest category holding both" in row["explanation"]


def test_light_weapons_against_small_arms_meet_at_viii_and_other_categories_stay_apart(
    tmp_path: Path, kb: Knowledge
) -> None:
    lines = _declarations(
        [
            ("2024-04-02", "export", "93019000", "DSHKM 12.7MM HEAVY MACHINE GUNS", 20, "u", 140_000, "EUR", "UA"),
            ("2024-04-02", "export", "93019000", "CZ BREN 2 ASSAULT RIFLES 5.56", 500, "u", 1_150_000, "EUR", "UA"),
            ("2024-04-09", "export", "93020000", "CZ P-10 C PISTOLS", 40, "u", 24_000, "EUR", "Peru"),
        ],
        ["VIII.LW.1", "VIII.SA.4", "VIII.SA.1"],
    )
    body = (
        "Czechia,2024,export,actual,VIII.SA.5,Ukraine,20,140000,EUR,DShKM machine guns,\n"
        "Czechia,2024,export,actual,VIII.SA.4,Ukraine,500,1150000,EUR,CZ BREN 2,\n"
        "Czechia,2024,export,actual,VIII.SA.3,Peru,40,24000,EUR,CZ Scorpion EVO 3,\n"
        "Czechia,2024,export,actual,VIII.SA.2,Peru,10,9000,EUR,CZ 600 rifles,\n"
    )
    rows = _comparison(reconcile_frames(customs_frame(lines), _report(tmp_path, kb, body), kb))
    ukraine = rows[("UKR", "VIII")]  # LW.1 against SA.5: the lowest category holding both is VIII, SA.4 with them
    assert (ukraine["status"], ukraine["customs_items"], ukraine["report_items"]) == ("match", 520, 520)
    assert "classified VIII.LW.1, VIII.SA.4, the report lists VIII.SA.5, VIII.SA.4" in ukraine["explanation"]
    peru = rows[("PER", "VIII.SA")]  # pistols against sub-machine guns and rifles: all three at VIII.SA
    assert (peru["status"], peru["customs_items"], peru["report_items"]) == ("mismatch", 40, 50)
    assert "VIII.SA.3 40, row 4; VIII.SA.2 10, row 5" in peru["explanation"]


def test_a_category_only_one_side_has_stays_apart(tmp_path: Path, kb: Knowledge) -> None:
    lines = _declarations(
        [("2024-05-02", "export", "93019000", "CZ BREN 2 ASSAULT RIFLES", 100, "u", 250_000, "EUR", "Ukraine")],
        ["VIII.SA.4"],
    )
    body = (
        "Czechia,2024,export,actual,VIII.SA.4,Ukraine,100,250000,EUR,Assault rifles,\n"
        "Czechia,2024,export,actual,VIII.SA.2,Ukraine,50,90000,EUR,Sniper rifles,\n"
    )
    rows = _comparison(reconcile_frames(customs_frame(lines), _report(tmp_path, kb, body), kb))
    assert rows[("UKR", "VIII.SA.4")]["status"] == "match"
    assert rows[("UKR", "VIII.SA.2")]["status"] == "only-report"  # customs has no line the report's could be


def test_levels_of_two_sides(kb: Knowledge) -> None:
    members = pd.DataFrame(
        [
            ("a", "exporter", "VII.b", ""),
            ("a", "importer", "VII.a", ""),
            ("b", "exporter", "VIII.SA.4", ""),
            ("b", "exporter", "VIII.LW.1", ""),
            ("b", "importer", "VIII.SA", ""),
            ("c", "exporter", "I", ""),
            ("c", "importer", "II", ""),
            ("d", "customs", "II", "I+II"),
            ("d", "customs", "II", ""),
            ("d", "report", "I", ""),
            ("d", "report", "III", ""),
            ("e", "customs", "III", "III+VIII.LW"),  # 9301.10 without a description
            ("e", "customs", "VIII.SA.4", ""),
            ("e", "report", "VIII.LW.6", ""),
            ("f", "customs", "III", "III+VIII.LW"),
            ("f", "customs", "VIII.SA.4", ""),
            ("f", "report", "VIII", ""),
        ],
        columns=["pair", "side", "category", "undecided"],
    )
    levels = comparison_levels(members, ["pair"], CategoryTree(kb))
    found = {(r.pair, r.category, r.undecided): r.cmp for r in levels.itertuples()}
    assert found == {
        ("a", "VII.b", ""): "VII",
        ("a", "VII.a", ""): "VII",
        ("b", "VIII.SA.4", ""): "VIII.SA",  # the importer's VIII.SA absorbs it
        ("b", "VIII.LW.1", ""): "VIII.LW.1",  # only the exporter has light weapons: they stay apart
        ("b", "VIII.SA", ""): "VIII.SA",
        ("c", "I", ""): "I",  # top-level categories have no parent to meet at
        ("c", "II", ""): "II",
        ("d", "II", "I+II"): "I+II",
        ("d", "II", ""): "I+II",  # every I and II of the partner joins the combined level
        ("d", "I", ""): "I+II",
        ("d", "III", ""): "III",
        ("e", "III", "III+VIII.LW"): "III+VIII.LW",
        ("e", "VIII.LW.6", ""): "III+VIII.LW",  # the light weapons join the combined level …
        ("e", "VIII.SA.4", ""): "VIII.SA.4",  # … the small arms do not
        ("f", "III", "III+VIII.LW"): "III+VIII",  # a report row VIII cannot be split: the level rises to it
        ("f", "VIII.SA.4", ""): "III+VIII",
        ("f", "VIII", ""): "III+VIII",
    }


# --- codes that cannot tell top-level categories apart ------------------------------------------------------

COMTRADE = (
    "refYear,reporterCode,reporterISO,flowCode,partnerCode,partner2Code,cmdCode,customsCode,motCode,"
    "qtyUnitCode,qty,netWgt,primaryValue\n"
)
TANKS_AND_ACVS = (
    "Czechia,2024,export,actual,I,Ukraine,10,,,T-72EA main battle tanks,\n"
    "Czechia,2024,export,actual,II,Ukraine,24,,,BMP-1 infantry fighting vehicles,\n"
)


def _comtrade(tmp_path: Path, kb: Knowledge, lines: str, report: str) -> Reconciliation:
    path = tmp_path / "comtrade.csv"
    path.write_text(COMTRADE + lines, encoding="utf-8")
    return reconcile(aggregate_customs(iter_customs(path, kb=kb)), _report(tmp_path, kb, report), kb)


def test_8710_without_descriptions_is_compared_at_i_and_ii_together(tmp_path: Path, kb: Knowledge) -> None:
    result = _comtrade(tmp_path, kb, "2024,203,CZE,X,804,0,871000,C00,0,5,10,420000,9500000\n", TANKS_AND_ACVS)
    rows = _comparison(result)
    assert set(rows) == {("UKR", "I+II")}  # no "II: 10 against 24", no only-report I
    row = rows[("UKR", "I+II")]
    assert (row["customs_items"], row["report_items"], row["report_row_count"]) == (10, 34, 2)
    assert row["status"] == "mismatch" and row["items_diff"] == -24  # the sums differ: 24 vehicles are missing
    assert row["category_name"] == "Battle tanks or armoured combat vehicles"
    assert "code-cannot-tell" in row["gaps"]
    reason = "Customs lines under 8710.00 could be battle tanks (I) or armoured combat vehicles (II)"
    assert reason in row["explanation"]
    assert "compared with the report's I and II together, at I+II" in row["explanation"]
    assert "(I 10, row 2; II 24, row 3)" in row["explanation"]
    assert result.by_category()["top_category"].tolist() == ["I+II"]


def test_8710_lines_holding_both_transfers_match_at_i_and_ii(tmp_path: Path, kb: Knowledge) -> None:
    lines = (
        "2024,203,CZE,X,804,0,871000,C00,0,5,10,420000,9500000\n"
        "2024,203,CZE,X,804,0,871000,C00,0,5,24,336000,5280000\n"
        "2024,203,CZE,X,642,0,871000,C00,0,5,3,42000,600000\n"
    )
    rows = _comparison(_comtrade(tmp_path, kb, lines, TANKS_AND_ACVS))
    assert rows[("UKR", "I+II")]["status"] == "match"
    romania = rows[("ROU", "I+II")]  # the report lists no tank or ACV to Romania
    assert romania["status"] == "only-customs"
    assert "the report lists no battle tanks or armoured combat vehicles (I+II) to ROU" in romania["explanation"]


def test_a_telling_description_decides_and_no_combined_level_is_made(tmp_path: Path, kb: Knowledge) -> None:
    lines = _declarations(
        [("2024-02-02", "export", "87100000", "T-72EA MAIN BATTLE TANKS, OVERHAULED", 10, "u", 9_500_000, "EUR", "UA")]
    )
    customs = customs_frame(lines, kb=kb)
    assert customs["undecided"].tolist() == [""]
    rows = _comparison(reconcile_frames(customs, _report(tmp_path, kb, TANKS_AND_ACVS), kb))
    assert rows[("UKR", "I")]["status"] == "match"
    assert rows[("UKR", "II")]["status"] == "only-report"


def test_undecided_only_when_the_code_alone_spans_article_2_categories(kb: Knowledge) -> None:
    lines = pd.DataFrame(
        {
            "hs_code": ["871000", "871000", "930110", "930110", "930190", "930200", "880240"],
            "description": ["", "BMP-2 INFANTRY FIGHTING VEHICLES", "", "MORTARS 120MM, TOWED", "", "", ""],
        }
    )
    classified = classify(lines, code_column="hs_code", text_column="description", kb=kb)
    undecided = undecided_levels(classified["candidates"], classified["basis"], kb)
    # 8710.00 alone: I or II (its ART4 parts are not an annual-report category); a BMP-2 is II. 9301.10 alone:
    # artillery or the light weapons among its candidates (mortars under 75 mm, anti-tank guns, recoilless
    # rifles); a 120 mm mortar is III. 9301.90 and 9302.00 stay within VIII; 8802.40 alone is no item.
    assert undecided.tolist() == ["I+II", "", "III+VIII.LW", "", "", "", ""]


def test_a_file_classified_by_hsmap_keeps_its_undecided_lines(tmp_path: Path, kb: Knowledge) -> None:
    lines = _declarations(
        [
            ("2024-03-01", "export", "87100000", "", 10, "u", 9_500_000, "EUR", "Ukraine"),
            ("2024-03-01", "export", "87100000", "BMP-1 INFANTRY FIGHTING VEHICLES", 24, "u", 5_280_000, "EUR", "UA"),
        ]
    )
    classified = classify(lines, code_column="hs_code", text_column="description", kb=kb)
    customs = customs_frame(classified, kb=kb)  # att_category, candidates and basis as hsmap classify writes them
    assert customs["undecided"].tolist() == ["I+II", ""]
    rows = _comparison(reconcile_frames(customs, _report(tmp_path, kb, TANKS_AND_ACVS), kb))
    assert rows[("UKR", "I+II")]["status"] == "match" and rows[("UKR", "I+II")]["customs_items"] == 34


def test_the_combined_level_is_general_and_takes_only_the_trees_the_code_leaves_open(
    tmp_path: Path, kb: Knowledge
) -> None:
    lines = (
        "2024,203,CZE,X,804,0,930110,C00,0,5,6,54000,21200000\n"  # 9301.10: artillery or light weapons
        "2024,203,CZE,X,804,0,930190,C00,0,5,500,1800,1150000\n"  # 9301.90: small arms
    )
    report = (
        "Czechia,2024,export,actual,III,Ukraine,6,,,DANA M2 howitzers,\n"
        "Czechia,2024,export,actual,VIII.SA.4,Ukraine,500,,,CZ BREN 2,\n"
    )
    rows = _comparison(_comtrade(tmp_path, kb, lines, report))
    assert set(rows) == {("UKR", "III+VIII.LW"), ("UKR", "VIII.SA")}
    guns = rows[("UKR", "III+VIII.LW")]
    assert guns["status"] == "match" and guns["category_name"] == "Large-calibre artillery systems or light weapons"
    assert (
        "Customs lines under 9301.10 could be large-calibre artillery systems (III) or light weapons"
        in (guns["explanation"])
    )
    assert rows[("UKR", "VIII.SA")]["status"] == "match"  # the small arms stay out of the combined level
