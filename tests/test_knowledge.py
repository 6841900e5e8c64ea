"""The knowledge base loads, is consistent, and a broken file is reported with file, row and field."""

from pathlib import Path

import pytest

from hsmap.errors import InputError
from hsmap.knowledge import load_knowledge

TOP_LEVEL = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "ART3", "ART4"]


def test_every_category_of_the_att_is_there_with_its_tree(kb):
    for category in TOP_LEVEL:
        assert kb.categories[category].parent is None
    assert kb.top_level("VIII.SA.4") == "VIII"
    assert kb.ancestors("VIII.LW.6") == ["VIII.LW.6", "VIII.LW", "VIII"]
    assert {f"VIII.SA.{n}" for n in range(1, 7)} <= set(kb.descendants("VIII"))
    assert {f"VIII.LW.{n}" for n in range(1, 8)} <= set(kb.descendants("VIII.LW"))
    assert set(kb.children("VII")) == {"VII.a", "VII.b"}


def test_register_thresholds_are_data(kb):
    assert kb.categories["III"].thresholds.calibre_mm_min == 75
    assert kb.categories["VIII.LW.6"].thresholds.calibre_mm_max == 75
    assert kb.categories["VI"].thresholds.displacement_t_min == 500


def test_every_link_names_a_source_and_a_known_code(kb):
    assert kb.links["source"].str.len().min() > 10
    for edition, table in kb.hs.items():
        codes = set(table["code"])
        assert set(kb.links.loc[kb.links["edition"] == edition, "code"]) <= codes


def test_every_edition_and_the_correlations_between_them_are_loaded(kb):
    assert kb.editions == [2012, 2017, 2022] and kb.newest == 2022
    drones = kb.hs[2022]["code"].str.startswith("8806")
    assert drones.sum() >= 10  # HS 2022 created heading 88.06 with 11 subheadings
    for older in (2012, 2017):
        assert not kb.hs[older]["code"].str.startswith("8806").any()
        assert "8802.20" in set(kb.links.loc[kb.links["edition"] == older, "code"])  # drones were aircraft
    # HS 2017 gave hybrid cars subheadings of their own; HS 2012 has none of them
    assert not {"8703.40", "8703.80", "8702.20"} & set(kb.hs[2012]["code"])
    pairs = set(zip(kb.correlations["from_edition"], kb.correlations["to_edition"], strict=True))
    assert pairs == {(2012, 2017), (2017, 2022)}
    assert [day.isoformat() for day in kb.in_force["in_force_from"]] == ["2012-01-01", "2017-01-01", "2022-01-01"]


def test_a_code_of_an_older_file_that_hs_2022_still_has_is_in_the_hs_2022_file(kb):
    """Otherwise a 2024 line declaring it would be told its code is not of its edition."""
    from hsmap.lookup import hs2022_codes

    still = {f"{digits[:4]}.{digits[4:]}" for digits in hs2022_codes() if len(digits) == 6}
    for edition in (2012, 2017):
        older = set(kb.hs[edition].loc[kb.hs[edition]["level"] == 6, "code"])
        assert older & still <= set(kb.hs[2022]["code"])
    assert "8803.30" in set(kb.hs[2017]["code"]) and "8803.30" not in still  # moved to 8807.30 in HS 2022


def _break_csv(path: Path, row: int, column: str, value: str) -> None:
    import csv

    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[row - 2][column] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "message"),
    [
        ("att_hs.csv", 5, "relation", "sometimes", "relation"),
        ("att_hs.csv", 3, "category", "IX", "unknown category 'IX'"),
        ("att_hs.csv", 4, "code", "9399.99", "not in hs/"),
        ("att_hs.csv", 6, "weight", "1.5", "weight"),
        ("hs/2022.csv", 7, "code", "93AB.10", "code"),
        ("hs/correlation_2017_2022.csv", 2, "to_code", "9301.99", "not in hs/2022.csv"),
        ("hs/2012.csv", 7, "code", "36O3.00", "code"),
        ("hs/2012.csv", 61, "level", "4", "8710.00 is level 6"),
        ("hs/correlation_2012_2017.csv", 3, "from_code", "8806.24", "not in hs/2012.csv"),  # no drones in HS 2012
        ("hs/correlation_2012_2017.csv", 4, "relation", "1:2", "relation"),
        ("att_hs.csv", 2, "code", "8806.24", "8806.24 is not in hs/2012.csv"),
        ("hs/editions.csv", 3, "in_force_from", "2017-07-01", "1 January"),
        ("hs/editions.csv", 3, "in_force_from", "2011-01-01", "not after the previous edition"),
        ("hs/editions.csv", 2, "edition", "2007", "no hs/2007.csv"),
        ("lexicon/negatives.csv", 2, "flag", "fake", "flag"),
    ],
)
def test_a_broken_row_is_named_by_file_row_and_field(mappings_copy, file, row, column, value, message):
    _break_csv(mappings_copy / file, row, column, value)
    with pytest.raises(InputError) as caught:
        load_knowledge(mappings_copy)
    text = str(caught.value)
    assert f"mappings/{file}" in text
    assert message in text
    assert caught.value.column == column
    if caught.value.row is not None:
        assert caught.value.row == row


def test_a_category_with_an_unknown_parent_is_rejected(mappings_copy):
    path = mappings_copy / "categories.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("parent: VIII.SA\n", "parent: VIII.XX\n", 1))
    with pytest.raises(InputError, match=r"unknown parent category VIII\.XX"):
        load_knowledge(mappings_copy)


def test_an_unlinked_subheading_breaks_the_correlation_check(mappings_copy):
    path = mappings_copy / "hs" / "2022.csv"
    with path.open("a", encoding="utf-8") as handle:
        handle.write("9301.80,6,9301,A subheading nobody correlated,test\n")
    with pytest.raises(InputError, match=r"9301\.80 has no link"):
        load_knowledge(mappings_copy)


def test_every_edition_needs_its_date_and_a_correlation_with_the_next(mappings_copy):
    editions = mappings_copy / "hs" / "editions.csv"
    lines = editions.read_text(encoding="utf-8").splitlines(keepends=True)
    editions.write_text("".join(line for line in lines if not line.startswith("2017,")), encoding="utf-8")
    with pytest.raises(InputError, match=r"hs/2017\.csv has no row"):
        load_knowledge(mappings_copy)
    editions.write_text("".join(lines), encoding="utf-8")
    (mappings_copy / "hs" / "correlation_2012_2017.csv").unlink()
    with pytest.raises(InputError, match=r"no correlation_2012_2017\.csv"):
        load_knowledge(mappings_copy)
