"""HS code normalisation: the forms customs extracts and spreadsheets really produce."""

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hsmap.codes import is_valid, normalize_code, normalize_codes, prefix_of
from hsmap.errors import InvalidCode


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9301.90", "9301.90"),
        ("930190", "9301.90"),
        ("9301 90 00", "9301.90"),
        ("9301.90.00", "9301.90"),
        ("9301-90-00-00", "9301.90"),
        (93019000, "9301.90"),  # an integer cell
        (93019000.0, "9301.90"),  # a float cell
        ("93019000.0", "9301.90"),  # a float written out as text
        ("9.3019E+5", "9301.90"),  # Excel's scientific notation
        ("9,30190E+07", "9301.90"),  # ... with a decimal comma
        ("9301.9", "9301.90"),  # Excel dropped the trailing zero of 9301.90
        (9301.9, "9301.90"),
        ("8710000000", "8710.00"),  # a 10-digit national line
        ("930190001", "9301.90"),  # Japan's 9-digit statistical code
        ("10121", "0101.21"),  # a 6-digit code that lost its leading zero
        ("2012000", "0201.20"),  # an 8-digit line that lost its leading zero (0201 is a heading, 2012 is not)
        (" 8802.30 ", "8802.30"),
    ],
)
def test_normalises_the_forms_found_in_customs_data(raw, expected):
    assert normalize_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        (None, "empty"),
        ("93O190", "only digits"),  # letter O for zero
        ("9301", "a heading"),
        ("93", "a chapter"),
        ("93019000000", "11 digits"),
        ("7701.00", "chapter 77"),
        ("9.3019E+2", "not a whole number"),  # 930.19 is not a whole code
        (-930190, "not a code"),
    ],
)
def test_rejects_with_a_reason_instead_of_guessing(raw, reason):
    with pytest.raises(InvalidCode, match=reason):
        normalize_code(raw)
    assert not is_valid(raw)


def test_odd_length_code_that_fits_two_headings_is_reported_not_guessed():
    # 9022 (X-ray apparatus) and 0902 (tea, with a lost leading zero) are both headings
    with pytest.raises(InvalidCode, match="lost leading zero"):
        normalize_code("9022000")


def test_prefixes_keep_chapters_and_headings():
    assert prefix_of("93") == "93"
    assert prefix_of("9301") == "9301"
    assert prefix_of("871") == "0871"  # a heading that lost its zero
    assert prefix_of("9301.90.00") == "9301.90"


def test_vectorised_form_keeps_every_row_in_order_with_errors():
    values = pd.Series(["9301.90", None, "x12", "93019000", "", 87100000], index=[10, 11, 12, 13, 14, 15])
    result = normalize_codes(values)
    assert list(result.index) == [10, 11, 12, 13, 14, 15]
    assert list(result["hs6"]) == ["9301.90", "", "", "9301.90", "", "8710.00"]
    assert list(result["national"]) == ["930190", "", "", "93019000", "", "87100000"]
    assert result["code_error"].iloc[2].startswith("'x12'")
    assert result["code_error"].iloc[1] == "" and result["code_error"].iloc[4] == ""


@given(st.from_regex(r"[0-9]{4}\.[0-9]{2}", fullmatch=True).filter(lambda c: c[:2] not in {"00", "77", "98", "99"}))
def test_normalising_a_normalised_code_changes_nothing(code):
    once = normalize_code(code)
    assert normalize_code(once) == once
    assert normalize_code(once.replace(".", "") + "00") == once
