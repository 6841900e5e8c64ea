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


def test_both_editions_and_their_correlation_are_loaded(kb):
    assert {2017, 2022} <= set(kb.editions)
    drones = kb.hs[2022]["code"].str.startswith("8806")
    assert drones.sum() >= 10  # HS 2022 created heading 88.06 with 11 subheadings
    assert not kb.hs[2017]["code"].str.startswith("8806").any()


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
