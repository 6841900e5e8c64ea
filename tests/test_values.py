"""Bad cells in the other fields of a declaration line flag the row; nothing is dropped or guessed."""

import datetime

import pandas as pd
import pyarrow as pa

from hsmap.classify.values import describe_problems, has_input_problem, merge_flags, value_problems


def value_flags(frame: pd.DataFrame, file: str = "") -> pd.Series:
    """Each row's problems as the ``flags`` column shows them."""
    return pd.Series(describe_problems(value_problems(frame, file)), index=frame.index, dtype="str")


def test_each_kind_of_bad_cell_flags_its_row():
    frame = pd.DataFrame(
        {
            "hs_code": ["9301.90"] * 7,
            "quantity": ["12", "-3", "twelve", "1,250", "", "5", "5"],
            "unit": ["u", "u", "u", "kg", "u", "boxes", "u"],
            "value": ["1200.50", "100", "100", "1.250,75", "", "-7", "9"],
            "currency": ["EUR", "EUR", "eur", "EUR", "", "XYZ", "USD"],
            "date": ["2024-03-01", "01/02/2024", "20240105", "31.12.2024", "", "soon", "2024-13-45"],
            "partner": ["FRA", "Ivory Coast", "Narnia", "", "DEU", "Korea, Rep.", "US"],
        }
    )
    flags = value_flags(frame, "lines.csv").str.split(";")
    assert flags.iloc[0] == [""]
    assert flags.iloc[1] == ["negative-quantity"]
    assert set(flags.iloc[2]) == {"bad-quantity", "unknown-partner"}
    assert flags.iloc[3] == ["blank-partner"]
    assert flags.iloc[4] == [""]  # blank cells are missing, not wrong
    assert set(flags.iloc[5]) == {"negative-value", "unknown-unit", "unknown-currency", "bad-date"}
    assert flags.iloc[6] == ["bad-date"]  # 2024-13-45 is no date, though its year is readable


def test_a_file_without_those_columns_has_nothing_to_flag():
    frame = pd.DataFrame({"hs_code": ["9301.90"], "description": ["RIFLE"]})
    assert value_flags(frame).tolist() == [""]


def test_input_problems_are_told_from_findings():
    flags = pd.Series(["shared-civil", "parts;bad-value", "", "invalid-code", "unknown-unit;ammunition"])
    assert has_input_problem(flags).tolist() == [False, True, False, True, True]


def test_merging_flag_columns():
    merged = merge_flags(pd.Series(["a", "", "a", ""]), pd.Series(["b", "b", "", ""]))
    assert merged.tolist() == ["a;b", "b", "a", ""]


def test_typed_columns_from_parquet_are_checked_by_value_not_by_text():
    frame = pd.DataFrame(
        {
            "hs_code": ["9301.90"] * 3,
            "quantity": pd.array([5, -1, None], dtype="Int64"),
            "value": ["1e400", "nan", "12"],  # 1e400 overflows to infinity: no value either
            "date": pd.array([datetime.date(2024, 1, 9), None, datetime.date(2024, 5, 1)], pd.ArrowDtype(pa.date32())),
            "partner": ["FRA", None, "DEU"],
        }
    )
    flags = value_flags(frame).tolist()
    assert flags == ["bad-value", "negative-quantity;bad-value;blank-partner", ""]
