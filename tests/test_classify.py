"""The classifier on lines shaped like real declarations: codes narrow, texts confirm or contradict."""

import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsmap.classify import OUTPUT_COLUMNS, classify


def one(kb, code, text):
    """Classify a single declaration line and return its result row."""
    frame = pd.DataFrame({"hs_code": [code], "description": [text]})
    return classify(frame, "hs_code", "description", kb=kb).iloc[0]


def flags(row):
    return set(filter(None, row["flags"].split(";")))


def test_every_row_comes_out_once_in_order_with_input_columns_untouched(kb):
    frame = pd.DataFrame(
        {
            "declaration_id": ["D3", "D1", "D2", "D4"],
            "hs_code": ["9301.90.00", None, "ABC", "8710 00 00"],
            "description": ["ASSAULT RIFLE AK-47", "fusil d'assaut", "", None],
            "value": ["1200", "-5", "x", ""],
        },
        index=[7, 3, 9, 1],
    )
    result = classify(frame, "hs_code", "description", kb=kb)
    assert list(result.index) == [7, 3, 9, 1]
    assert list(result["declaration_id"]) == ["D3", "D1", "D2", "D4"]
    assert list(result["value"]) == ["1200", "-5", "x", ""]
    assert list(result.columns) == [*frame.columns, *OUTPUT_COLUMNS]


def test_a_column_that_clashes_with_an_output_column_is_kept_under_a_new_name(kb):
    frame = pd.DataFrame({"hs_code": ["930190"], "description": ["rifle"], "reason": ["export licence 12"]})
    result = classify(frame, "hs_code", "description", kb=kb)
    assert result["input_reason"].iloc[0] == "export licence 12"


def test_8710_without_a_telling_text_offers_tanks_and_other_armoured_vehicles(kb):
    row = one(kb, "87100000", "GOODS AS PER INVOICE")
    candidates = dict(pair.split(":") for pair in row["candidates"].split(";"))
    assert {"I", "II"} <= set(candidates)
    assert row["att_category"] in {"I", "II", "ART4"}
    assert row["basis"] == "code"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("MAIN BATTLE TANK LEOPARD 2A4, USED", "I"),
        ("CHAR DE COMBAT AMX-30", "I"),
        ("INFANTRY FIGHTING VEHICLE BMP-2", "II"),
        ("VEHICULO BLINDADO DE TRANSPORTE DE PERSONAL M113", "II"),
    ],
)
def test_the_text_narrows_8710(kb, text, category):
    row = one(kb, "8710.00", text)
    assert row["att_category"] == category
    assert row["basis"] == "code+text"


@pytest.mark.parametrize(("calibre", "category"), [("60 MM", "VIII.LW.6"), ("120MM", "III"), ("81 mm", "III")])
def test_mortar_calibre_decides_between_light_weapon_and_artillery(kb, calibre, category):
    row = one(kb, "9301.10.00", f"MORTAR {calibre} WITH BASEPLATE")
    assert row["att_category"] == category


@pytest.mark.parametrize(("text", "category"), [("миномёт 60 мм", "VIII.LW.6"), ("Миномет 120мм.", "III")])
def test_calibres_in_cyrillic_units_count_too(kb, text, category):
    assert one(kb, "9301.10.00", text)["att_category"] == category


def test_a_small_patrol_boat_is_not_a_register_warship(kb):
    small = one(kb, "8906.10", "PATROL BOAT 120 T UNARMED")
    large = one(kb, "8906.10", "FRIGATE 3000 T WITH NAVAL GUN")
    assert small["att_category"] != "VI"
    assert large["att_category"] == "VI"


def test_manpads_and_grenade_launchers_are_told_apart_inside_9301_20(kb):
    assert one(kb, "9301.20", "MANPADS LAUNCHER IGLA-S")["att_category"].startswith("VII")
    assert one(kb, "9301.20", "UNDER-BARREL GRENADE LAUNCHER GP-25")["att_category"] == "VIII.LW.2"


def test_assault_rifle_and_sporting_rifle(kb):
    assert one(kb, "9301.90", "FUSIL DE ASALTO AK-47 CAL 7,62X39")["att_category"] == "VIII.SA.4"
    hunting = one(kb, "9303.30", "HUNTING RIFLE BOLT ACTION .308 WIN")
    assert hunting["att_category"] == "VIII.SA.2"


def test_a_civil_airliner_is_not_a_combat_aircraft_but_a_fighter_is(kb):
    airliner = one(kb, "8802.40", "PASSENGER AIRCRAFT AIRBUS A320NEO")
    fighter = one(kb, "8802.30", "FIGHTER AIRCRAFT F-16 BLOCK 52")
    assert airliner["att_category"] == ""
    assert fighter["att_category"].startswith("IV")


def test_a_shared_civil_code_with_no_telling_text_is_flagged_not_tagged(kb):
    row = one(kb, "8802.30.00", "AIRCRAFT")
    assert row["att_category"] == ""
    assert "shared-civil" in flags(row)
    assert row["candidates"].startswith("IV")


@pytest.mark.parametrize(
    ("code", "text", "flag"),
    [
        ("9503.00", "TOY GUN REPLICA AK-47 PLASTIC", "replica-or-toy"),
        ("9301.90", "DEACTIVATED ASSAULT RIFLE AK-47 WITH CERTIFICATE", "deactivated"),
    ],
)
def test_look_alikes_are_flagged_and_not_tagged(kb, code, text, flag):
    row = one(kb, code, text)
    assert row["att_category"] == ""
    assert flag in flags(row)


def test_an_arm_declared_under_a_civil_code_is_a_possible_misdeclaration(kb):
    row = one(kb, "8708.99", "ASSAULT RIFLES AK-47 7.62X39")
    assert row["att_category"] == "VIII.SA.4"
    assert "code-text-mismatch" in flags(row)
    assert row["basis"] == "text"


@pytest.mark.parametrize(
    ("code", "text", "category"),
    [
        ("9303.30", "KALASHNIKOV ASSAULT RIFLES, SELECT FIRE", "VIII.SA.4"),  # as sporting rifles
        ("9302.00", "SUB-MACHINE GUNS UZI 9MM", "VIII.SA.3"),  # under revolvers and pistols
        ("9301.90", "PISTOLS GLOCK 19", "VIII.SA.1"),  # under military weapons other than pistols
    ],
)
def test_an_arm_under_the_code_of_another_arm_of_its_kind_is_a_mismatch(kb, code, text, category):
    """The text's arm is kept (it names the goods), and the line is flagged: the code holds other arms of the
    same kind, so one of the two is wrong — what a customs officer checks."""
    row = one(kb, code, text)
    assert row["att_category"] == category
    assert "code-text-mismatch" in flags(row) and f"the code holds no {category}" in row["reason"]


def test_a_namesake_seconded_by_part_words_alone_does_not_outweigh_a_civil_code(kb):
    """"Jaguar spare parts" under motor-vehicle parts are the car's: the part words second the namesake (a
    fighter aircraft), but that is no arm named strongly enough to call the code wrong. A designation that is
    no everyday word does, and an arms parts code agrees."""
    car = one(kb, "8708.99", "JAGUAR SPARE PARTS")
    assert car["att_category"] == "" and "code-text-mismatch" not in flags(car)
    assert one(kb, "8708.99", "LEOPARD 2A4 SPARE PARTS")["att_category"] == "ART4"  # tank parts declared as car parts
    assert one(kb, "9305.99", "JAGUAR SPARE PARTS")["att_category"] == "ART4"


def test_an_arm_under_its_own_code_is_no_mismatch(kb):
    for code, text in [("9302.00", "PISTOLS GLOCK 19"), ("9303.30", "HUNTING RIFLES BOLT ACTION")]:
        assert "code-text-mismatch" not in flags(one(kb, code, text))


def test_an_arms_code_with_a_look_alike_text_is_a_mismatch(kb):
    row = one(kb, "9302.00", "AIRSOFT PISTOL 6MM BB")
    assert row["att_category"] == ""
    assert "code-text-mismatch" in flags(row)


def test_parts_and_ammunition_beat_the_arm_they_are_for(kb):
    parts = one(kb, "9305.91", "BARREL FOR MACHINE GUN PKM")
    ammunition = one(kb, "9306.30", "CARTRIDGES 7.62X39 FOR AK-47")
    engine = one(kb, "8408.90", "ENGINE FOR LEOPARD 2 TANK")
    assert parts["att_category"] == "ART4" and "parts" in flags(parts)
    assert ammunition["att_category"] == "ART3" and "ammunition" in flags(ammunition)
    assert engine["att_category"] == "ART4"


def test_equipment_fitted_to_an_arm_does_not_make_it_a_part(kb):
    row = one(kb, "8710.00", "ARMOURED PERSONNEL CARRIER WITH REMOTE WEAPON STATION")
    assert row["att_category"] == "II"


@pytest.mark.parametrize(
    ("code", "text", "top"),
    [
        ("9301.10", "HOWITSER 155MM TOWED", "III"),  # typo
        ("", "Автомат Калашникова АК-74М", "VIII"),  # Russian, no code
        ("9302.00.00", "PISTOLA SEMIAUTOMATICA GLOCK 17", "VIII"),
        ("8802.12", "HÉLICOPTÈRE DE COMBAT TIGRE", "V"),
        ("", "T 72 B3 main battle tank", "I"),  # designation with a space
    ],
)
def test_languages_typos_and_spelling_variants(kb, code, text, top):
    row = one(kb, code, text)
    assert kb.top_level(row["att_category"]) == top


def test_an_unreadable_or_unknown_code_is_flagged(kb):
    assert "invalid-code" in flags(one(kb, "93O190", "RIFLE"))
    assert "invalid-code" in flags(one(kb, "9399.99", "RIFLE"))
    assert "invalid-code" not in flags(one(kb, "", "RIFLE"))


def test_a_code_only_file_and_a_text_only_file_both_work(kb):
    codes = classify(pd.DataFrame({"hs_code": ["9302.00"]}), "hs_code", None, kb=kb)
    texts = classify(pd.DataFrame({"description": ["ASSAULT RIFLE"]}), None, "description", kb=kb)
    assert codes["att_category"].iloc[0] == "VIII.SA.1"
    assert texts["att_category"].iloc[0] == "VIII.SA.4"


def test_every_line_says_why(kb):
    row = one(kb, "8710.00", "MAIN BATTLE TANK T-72")
    assert "8710.00" in row["reason"] and "T-72" in row["reason"]


lines = st.tuples(
    st.one_of(st.none(), st.sampled_from(["9301.90", "87100000", "8802.30", "x", "", "9503.00"]), st.text(max_size=12)),
    st.one_of(
        st.none(), st.sampled_from(["TANK", "fusil d'assaut", "toy gun", "parts for T-72"]), st.text(max_size=40)
    ),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(lines, max_size=30))
def test_row_conservation_for_any_table(kb, rows):
    frame = pd.DataFrame(rows, columns=["hs_code", "description"], dtype=object)
    frame.index = pd.RangeIndex(100, 100 + len(frame))
    result = classify(frame, "hs_code", "description", kb=kb)
    assert len(result) == len(frame)
    assert list(result.index) == list(frame.index)
    assert result["hs_code"].equals(frame["hs_code"])


def test_one_classifier_shared_by_threads_decides_as_it_does_alone(kb):
    """Engines and the file pipeline share a classifier between threads: every decision must keep one id."""
    from concurrent.futures import ThreadPoolExecutor

    from hsmap.classify import Classifier
    from hsmap.io import read_table

    lines = read_table(Path(__file__).parent / "data" / "labelled_declarations.csv")
    expected = classify(lines, "hs_code", "description", kb=kb)
    shared = Classifier(kb, 2022)
    pieces = [lines.iloc[start::8] for start in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so races show
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda piece: classify(piece, "hs_code", "description", classifier=shared), pieces))
    finally:
        sys.setswitchinterval(interval)
    pd.testing.assert_frame_equal(pd.concat(results).sort_index(), expected)


def test_calls_share_one_classifier_per_knowledge_base_until_it_is_full(kb, mappings_copy, monkeypatch):
    import importlib

    from hsmap.knowledge import load_knowledge

    module = importlib.import_module("hsmap.classify.decide")
    lines = pd.DataFrame({"hs_code": ["9301.90", "8710.00", "0101.21"], "description": ["AK-47", "T-72 TANK", "HORSE"]})
    first = classify(lines, kb=kb)
    shared = module.shared_classifier(kb)
    held = shared.size
    pd.testing.assert_frame_equal(classify(lines, kb=kb), first)
    assert module.shared_classifier(kb) is shared and shared.size == held  # nothing decided twice
    assert module.shared_classifier(load_knowledge(mappings_copy)) is not shared  # another knowledge base
    monkeypatch.setattr(module, "_SHARED_LIMIT", held - 1)
    assert module.shared_classifier(kb) is not shared  # full: started afresh, and decides the same
    pd.testing.assert_frame_equal(classify(lines, kb=kb), first)
