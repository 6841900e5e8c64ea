"""Readers and writers on the files real extracts arrive as, good and broken."""

import io
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hsmap.errors import InputError
from hsmap.io import TableWriter, iter_table, read_table
from hsmap.spreadsheet import neutralise_arrow, neutralise_formulas

HEADER = "hs_code,description,value\n"


def write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("content", "delimiter"),
    [
        ("hs_code;description;value\n9301.90;FUSIL D'ASSAUT;1200,50\n", ";"),
        ("hs_code\tdescription\tvalue\n9301.90\tASSAULT RIFLE\t1200\n", "\t"),
        ("hs_code|description|value\n9301.90|ASSAULT RIFLE|1200\n", "|"),
    ],
)
def test_any_delimiter(tmp_path, content, delimiter):
    frame = read_table(write(tmp_path, "lines.csv", content))
    assert list(frame.columns) == ["hs_code", "description", "value"]
    assert frame["hs_code"].iloc[0] == "9301.90"


@pytest.mark.parametrize(
    "encoded",
    [
        "hs_code,description\n9301.90,fusil d'assaut à culasse\n".encode(),
        "\ufeffhs_code,description\n9301.90,fusil d'assaut à culasse\n".encode(),
        "hs_code,description\n9301.90,fusil d'assaut à culasse\n".encode("cp1252"),
    ],
    ids=["utf-8", "utf-8-bom", "cp1252"],
)
def test_encodings(tmp_path, encoded):
    frame = read_table(write(tmp_path, "lines.csv", encoded))
    assert list(frame.columns) == ["hs_code", "description"]
    assert frame["description"].iloc[0] == "fusil d'assaut à culasse"


def test_codes_keep_their_leading_zeros_and_text_stays_text(tmp_path):
    frame = read_table(write(tmp_path, "lines.csv", HEADER + "0101.21,HORSES,0012\n"))
    assert frame["hs_code"].iloc[0] == "0101.21" and frame["value"].iloc[0] == "0012"


def test_quoted_fields_with_delimiters_and_newlines(tmp_path):
    content = HEADER + '9301.90,"RIFLE, ASSAULT ""AK""\nSECOND LINE",5\n'
    frame = read_table(write(tmp_path, "lines.csv", content))
    assert frame["description"].iloc[0] == 'RIFLE, ASSAULT "AK"\nSECOND LINE'


def test_a_very_long_description_passes_through(tmp_path):
    long_text = "ASSAULT RIFLE " * 800
    frame = read_table(write(tmp_path, "lines.csv", HEADER + f"9301.90,{long_text},1\n"))
    assert frame["description"].iloc[0] == long_text


def test_header_only_gives_no_rows_but_the_columns(tmp_path):
    frame = read_table(write(tmp_path, "lines.csv", HEADER))
    assert frame.empty and list(frame.columns) == ["hs_code", "description", "value"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n\n  \n", "empty"),
        ("nul.csv", b"hs_code,description\n9301\x00,x\n", "NUL"),
        ("binary.csv", bytes(range(256)) * 4, "NUL"),
        ("dup.csv", "hs_code,description,hs_code\n1,2,3\n", "duplicate column"),
        ("noname.csv", "hs_code,,value\n1,2,3\n", "no name"),
        ("ragged.csv", HEADER + "9301.90,RIFLE,1,EXTRA,FIELDS\n", "fields"),
        ("lines.pdf", "%PDF-1.4", "unsupported file type"),
        ("corrupt.xlsx", b"PK\x03\x04 this is not a workbook", "not a readable .xlsx"),
        ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "password-protected"),
        ("broken.parquet", b"PAR1 not really", "Parquet"),
    ],
)
def test_bad_files_give_one_clear_error_naming_the_file(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert message in str(caught.value)
    assert name in str(caught.value)
    assert "\n" not in str(caught.value)


def test_xlsx_sheet_choice_and_numbers_that_are_codes(tmp_path):
    path = tmp_path / "extract.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(writer, sheet_name="Cover", index=False)
        pd.DataFrame({"hs_code": [93019000, 87100000], "description": ["RIFLE", "TANK"]}).to_excel(
            writer, sheet_name="Data", index=False
        )
    assert list(read_table(path).columns) == ["note"]
    frame = read_table(path, sheet="Data")
    assert list(frame["hs_code"]) == ["93019000", "87100000"]
    with pytest.raises(InputError, match="no sheet named 'Lines'"):
        read_table(path, sheet="Lines")


def test_chunks_cover_every_row_once_in_order(tmp_path):
    rows = "".join(f"9301.90,LINE {n},{n}\n" for n in range(1000))
    chunks = list(iter_table(write(tmp_path, "lines.csv", HEADER + rows), chunk_rows=128))
    assert len(chunks) > 1
    values = pd.concat(chunks)["value"].astype(int).tolist()
    assert values == list(range(1000))


def test_formulas_are_neutralised_and_numbers_stay_numbers():
    frame = pd.DataFrame({"text": ['=HYPERLINK("x")', "+SUM(A1)", "-5", "@cmd", "\tTAB", "-1.5e3", "ok", None]})
    safe = neutralise_formulas(frame)["text"].tolist()
    assert safe[:6] == ['\'=HYPERLINK("x")', "'+SUM(A1)", "-5", "'@cmd", "'\tTAB", "-1.5e3"]
    assert safe[6] == "ok" and pd.isna(safe[7])


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_arrow_neutralising_reads_sliced_and_chunked_columns_like_the_pandas_one(kind):
    cells = ["", '=HYPERLINK("x")', None, "-5", "ok", "+SUM(A1)", "", "@cmd", "-x", "-1.5e3", "\rCR", "ok"]
    column = pa.chunked_array([pa.array(cells[:5], kind), pa.array(cells[3:], kind).slice(2)])
    expected = neutralise_formulas(pd.DataFrame({"text": cells[:5] + cells[5:]}, dtype=object))["text"]
    safe = neutralise_arrow(pa.table({"text": column}))["text"].to_pylist()
    assert safe == [None if pd.isna(value) else value for value in expected]
    assert safe[1] == '\'=HYPERLINK("x")' and safe[3] == "-5" and safe[8] == "'-x"
    assert neutralise_arrow(pa.table({"blank": pa.array(["", None], kind)}))["blank"].to_pylist() == ["", None]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_written_files_carry_no_live_formula(tmp_path, suffix):
    target = tmp_path / f"out{suffix}"
    with TableWriter(target) as writer:
        writer.write(pd.DataFrame({"description": ["=1+1", "RIFLE"], "value": ["-3", "7"]}))
    back = read_table(target)
    assert back["description"].tolist() == ["'=1+1", "RIFLE"]
    assert back["value"].tolist() == ["-3", "7"]


def test_a_failed_write_leaves_no_output_behind(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), TableWriter(target) as writer:
        writer.write(pd.DataFrame({"a": ["1"]}))
        raise RuntimeError("the run failed half way")
    assert list(tmp_path.iterdir()) == []


def test_writing_into_a_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        TableWriter(tmp_path / "nowhere" / "out.csv")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx", ".parquet", ".tsv"]))
def test_random_bytes_never_crash_a_reader(tmp_path, content, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(content)
    try:
        read_table(path)
    except InputError as error:
        assert str(error)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(st.text(max_size=12), min_size=3, max_size=3), max_size=20),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_random_tables_round_trip_or_fail_cleanly(tmp_path, rows, delimiter):
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["hs_code", "description", "value"])
    writer.writerows(rows)
    path = write(tmp_path, "table.csv", buffer.getvalue())
    try:
        frame = read_table(path)
    except InputError as error:
        assert str(error)
        return
    assert len(frame) <= len(rows)


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(InputError, match=r"archive\.xlsx"):
        read_table(path)


def test_parquet_keeps_statistics_for_every_column_but_free_text(tmp_path):
    target = tmp_path / "out.parquet"
    with TableWriter(target, free_text=["reason"]) as writer:
        writer.write(pd.DataFrame({"hs6": ["9301.90", "8710.00"], "reason": ["code 9301.90: …", "text 'T-72' → I"]}))
    row_group = pq.ParquetFile(target).metadata.row_group(0)
    assert row_group.column(0).statistics.min == "8710.00"
    assert row_group.column(1).statistics is None or not row_group.column(1).statistics.has_min_max
