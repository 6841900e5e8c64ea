"""Lookups both ways, per edition, and correlation between editions."""

import pandas as pd
import pytest

from hsmap.errors import InvalidCode
from hsmap.lookup import (
    UnknownCategory,
    UnknownEdition,
    categories_for_code,
    codes_for_category,
    correlate,
    describe_code,
    lookup_codes,
    lookup_table,
)

TOP_LEVEL = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "ART3", "ART4"]


@pytest.mark.parametrize("category", TOP_LEVEL)
@pytest.mark.parametrize("edition", [2012, 2017, 2022])
def test_every_category_resolves_to_codes_and_back(kb, category, edition):
    codes = codes_for_category(category, edition, kb)
    assert not codes.empty
    for code in codes["code"]:
        back = categories_for_code(code, edition, kb)
        assert set(back["category"]) & set(kb.descendants(category))


def test_tanks_share_8710_with_other_armoured_vehicles(kb):
    found = categories_for_code("8710 00 00 00", 2022, kb)
    assert {"I", "II"} <= set(found["category"])
    assert set(found.loc[found["category"].isin(["I", "II"]), "relation"]) == {"shared-military"}


def test_combat_aircraft_share_codes_with_civil_aircraft(kb):
    found = codes_for_category("IV", 2022, kb)
    aeroplanes = found[found["code"].str.startswith("8802")]
    assert not aeroplanes.empty
    assert set(aeroplanes["relation"]) == {"shared-civil"}


def test_unmanned_combat_aircraft_moved_to_8806_in_hs_2022(kb):
    assert codes_for_category("IV.b", 2022, kb)["code"].str.startswith("8806").any()
    assert not codes_for_category("IV.b", 2017, kb)["code"].str.startswith("8806").any()


def test_a_heading_lists_the_categories_of_its_subheadings(kb):
    heading = set(categories_for_code("9301", 2022, kb)["category"])
    assert {"III", "VIII.SA.4", "VII.b"} <= heading


def test_a_look_alike_code_has_no_category(kb):
    assert categories_for_code("9503.00", 2022, kb).empty  # toys
    assert categories_for_code("9304", 2022, kb).empty  # air guns
    assert describe_code("9503.00", 2022, kb)


def test_category_ids_are_forgiving_but_unknown_ones_fail(kb):
    assert not codes_for_category("viii.sa.4", 2022, kb).empty
    with pytest.raises(UnknownCategory):
        codes_for_category("IX", 2022, kb)
    with pytest.raises(UnknownEdition):
        codes_for_category("I", 1988, kb)
    with pytest.raises(InvalidCode):
        categories_for_code("93AB", 2022, kb)


def test_correlation_1_to_1_and_back(kb):
    forward = correlate("8710.00", 2017, 2022, kb)
    assert list(forward["to_code"]) == ["8710.00"]
    assert list(forward["relation"]) == ["1:1"]
    assert list(correlate("8710.00", 2022, 2017, kb)["to_code"]) == ["8710.00"]


def test_drones_split_from_aircraft_and_parts_merge(kb):
    drones = correlate("8802.20", 2017, 2022, kb)
    assert {"8802.20"} < set(drones["to_code"])  # part stays, part moves to 8806
    assert drones["to_code"].str.startswith("8806").any()
    parts = correlate("8803.30", 2017, 2022, kb)
    assert "8807.30" in set(parts["to_code"])
    back = correlate("8807.30", 2022, 2017, kb)
    assert "8803.30" in set(back["to_code"])


def test_hs_2012_drones_are_chained_through_hs_2017_into_8806(kb):
    drones = correlate("8802.20", 2012, 2022, kb).set_index("to_code")
    assert {"8802.20", "8806.21", "8806.24", "8806.99"} <= set(drones.index)
    assert drones.loc["8802.20", "relation"] == "1:n"  # unchanged, then part of it left for 8806
    assert drones.loc["8806.24", "relation"] == "n:n"
    assert drones["from_ex"].all()  # only part of HS 2012 8802.20 went to any one of them
    assert not drones.loc["8802.20", "to_ex"] and drones.loc["8806.24", "to_ex"]
    assert drones.loc["8806.24", "note"].startswith("HS 2012 → 2017: Code and scope unchanged; HS 2017 → 2022: ")
    back = correlate("8806.24", 2022, 2012, kb)
    assert set(back["to_code"]) == {"8525.80", "8802.11", "8802.20"}  # up to 150 kg: the lightest bands
    assert set(back["relation"]) == {"n:n"}


def test_chained_relations_keep_the_partial_marks_of_every_step(kb):
    tanks = correlate("8710.00", 2012, 2022, kb)
    assert tanks[["to_code", "relation", "from_ex", "to_ex"]].values.tolist() == [["8710.00", "1:1", False, False]]
    cars = correlate("8703.21", 2012, 2022, kb).set_index("to_code")["relation"].to_dict()
    assert cars == {"8703.21": "1:n", "8703.40": "n:n", "8703.60": "n:n"}  # hybrids left 8703.21 in HS 2017
    buses = correlate("8702.90", 2022, 2012, kb)  # backwards: HS 2012 8702.90 also held what became 8702.30/.40
    assert buses[["to_code", "relation", "to_ex"]].values.tolist() == [["8702.90", "n:1", True]]
    # UNSD's loose links to electronic components (left out of our files) keep 9305.10 partial at both steps
    parts = correlate("9305.10", 2012, 2022, kb)
    assert parts[["to_code", "relation", "from_ex"]].values.tolist() == [["9305.10", "1:n", True]]
    assert "8542.31" in parts["note"].iat[0] and "8541.51" in parts["note"].iat[0]


def test_vectorised_lookup_keeps_rows_and_order(kb):
    codes = pd.Series(["87100000", "9503.00", None, "bad", "9302.00.00"])
    found = lookup_codes(codes, 2022, kb)
    assert list(found["hs6"]) == ["8710.00", "9503.00", "", "", "9302.00"]
    assert "I" in found["att_categories"].iloc[0].split(";")
    assert found["att_categories"].iloc[1] == ""
    assert found["code_error"].iloc[3] != ""
    assert found["att_categories"].iloc[2] == found["att_categories"].iloc[3] == ""  # no code, no category
    assert found["att_categories"].iloc[4] == "VIII.SA.1"


def test_lookup_table_keeps_every_input_in_order_with_links_above_and_below(kb):
    found = lookup_table(["93019000", "9503", "8710 00 00", "93019000", "93"], 2022, kb)
    assert list(dict.fromkeys(found["input"])) == ["93019000", "9503", "8710 00 00", "93"]
    rifles = found[found["input"] == "93019000"]
    assert len(rifles) % 2 == 0 and set(rifles["link_code"]) == {"9301.90"}  # asked twice, listed twice
    assert (rifles["code"] == "9301.90").all() and rifles["description"].str.contains("rifles").all()
    toys = found[found["input"] == "9503"]
    assert toys[["category", "note"]].values.tolist() == [["", "no ATT category"]]
    chapter = found[found["input"] == "93"]
    assert {"9301.10", "9302.00", "9306.30"} <= set(chapter["link_code"])  # subheadings below the chapter
    assert chapter["link_code"].is_monotonic_increasing
    tanks = found[found["input"] == "8710 00 00"]
    assert list(tanks["weight"]) == sorted(tanks["weight"], reverse=True) and {"I", "II"} <= set(tanks["category"])
    assert (found["source"] != "").sum() == (found["category"] != "").sum()  # each link names its source
