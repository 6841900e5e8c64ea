"""Integrity of the real-data labelled sets in tests/data/real (what the files promise, not how well hsmap
scores on them): columns, valid category IDs, no repeated line, a source on every line, codes only where the
sub-set has codes, and a held-out part that shares no line, and no register system, with the dev part."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hsmap.knowledge import load_knowledge

REAL = Path(__file__).parent / "data" / "real"
COLUMNS = ["hs_code", "description", "label", "note", "source"]
WITH_CODES = {"tariff_lines.csv": True, "register_with_code.csv": True}
SUBSETS = ["tariff_lines.csv", "register_with_code.csv", "register_no_code.csv", "designations.csv"]
REGISTER = SUBSETS[1:]


def _read(part: str, name: str) -> pd.DataFrame:
    return pd.read_csv(REAL / part / name, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def category_ids() -> set[str]:
    return set(load_knowledge().categories)


@pytest.mark.parametrize("part", ["dev", "holdout"])
@pytest.mark.parametrize("name", SUBSETS)
def test_each_file_has_the_columns_valid_labels_and_a_source_on_every_line(
    part: str, name: str, category_ids: set[str]
) -> None:
    frame = _read(part, name)
    assert list(frame.columns) == COLUMNS
    assert len(frame) > 0
    unknown = set(frame["label"]) - category_ids - {""}
    assert not unknown, f"{part}/{name}: labels not in categories.yaml: {sorted(unknown)}"
    assert (frame["description"].str.strip() != "").all()
    assert (frame["source"].str.strip() != "").all(), f"{part}/{name}: a line without its source"
    assert not frame["label"].str.strip().ne(frame["label"]).any(), "labels carry no stray spaces"


@pytest.mark.parametrize("part", ["dev", "holdout"])
@pytest.mark.parametrize("name", SUBSETS)
def test_codes_are_present_exactly_where_the_sub_set_has_them(part: str, name: str) -> None:
    codes = _read(part, name)["hs_code"]
    if WITH_CODES.get(name, False):
        assert codes.str.fullmatch(r"\d{4}(\.?\d{2})*").all(), f"{part}/{name}: a code that is not HS digits"
    else:
        assert (codes == "").all(), f"{part}/{name}: the no-code sub-set must leave hs_code empty"


@pytest.mark.parametrize("name", SUBSETS)
def test_no_line_repeats_within_or_across_the_dev_and_holdout_parts(name: str) -> None:
    both = pd.concat([_read("dev", name), _read("holdout", name)], ignore_index=True)
    key = both["hs_code"] + "\t" + both["description"].str.lower()
    assert not key.duplicated().any(), f"{name}: repeated code+description: {key[key.duplicated()].tolist()[:5]}"


@pytest.mark.parametrize("name", SUBSETS)
def test_holdout_is_about_thirty_percent_and_holds_every_frequent_label(name: str) -> None:
    dev, holdout = _read("dev", name), _read("holdout", name)
    share = len(holdout) / (len(dev) + len(holdout))
    assert 0.2 < share < 0.4
    counts = pd.concat([dev, holdout])["label"].value_counts()
    frequent = set(counts[counts >= 4].index)
    assert frequent <= set(holdout["label"]), f"{name}: a label with 4+ lines is missing from the holdout"


def test_no_register_system_is_in_both_dev_and_holdout() -> None:
    """A system seen while writing rules (in any register sub-set) must not be scored in the holdout."""
    part_of = {
        name: part for part in ("dev", "holdout") for name in _read(part, "designations.csv")["description"].str.lower()
    }
    assert len(part_of) == len(_read("dev", "designations.csv")) + len(_read("holdout", "designations.csv"))
    by_length = sorted(part_of, key=len, reverse=True)  # "bell-412 asw" before "bell-412"
    for part in ("dev", "holdout"):
        for name in REGISTER[:2]:
            for text in _read(part, name)["description"].str.lower():
                system = next((s for s in by_length if text.startswith(s + " ")), None)
                assert system is None or part_of[system] == part, (
                    f"{part}/{name}: {text!r} is a {part_of[system]} system"
                )
