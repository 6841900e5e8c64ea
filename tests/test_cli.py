"""The command line through typer's CliRunner, and once through the installed ``hsmap`` executable."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hsmap.cli.main import app

EXAMPLES = Path(__file__).parent.parent / "examples"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_categories_lists_the_tree_as_json():
    result = invoke("categories", "--format", "json")
    assert result.exit_code == 0
    ids = [row["id"] for row in json.loads(result.stdout)]
    assert {"I", "VII.b", "VIII.SA.4", "VIII.LW.6", "ART3", "ART4"} <= set(ids)


def test_codes_for_a_category_as_csv():
    result = invoke("codes", "VIII.SA.1", "--edition", "2022", "--format", "csv")
    assert result.exit_code == 0
    frame = pd.read_csv(pd.io.common.StringIO(result.stdout), dtype=str)
    assert "9302.00" in set(frame["code"])
    assert {"relation", "weight", "note"} <= set(frame.columns)


def test_lookup_any_format_shows_categories_and_no_category():
    result = invoke("lookup", "8710 00 00", "9503.00", "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert {"I", "II"} <= {row["category"] for row in rows if row["code"] == "8710.00"}
    toys = [row for row in rows if row["code"] == "9503.00"]
    assert toys and toys[0]["category"] == ""


@pytest.mark.parametrize("args", [("lookup", "9302"), ("codes", "VIII.SA.1")])
def test_legal_notes_are_in_the_table_only_with_notes_but_always_in_csv(monkeypatch, args):
    from hsmap.cli.app import console

    monkeypatch.setattr(console, "width", 400)  # one line a row: the note, when shown, is not folded
    note = "odd items such as single-shot pistols"  # from the 9302.00 link's note in mappings/att_hs.csv
    plain, noted = invoke(*args), invoke(*args, "--notes")
    assert plain.exit_code == 0 and noted.exit_code == 0
    assert "9302.00" in plain.stdout and note not in plain.stdout
    assert note in noted.stdout
    assert "source" not in noted.stdout.split("\n")[2]  # the header row: sources stay in csv and json
    as_csv = pd.read_csv(pd.io.common.StringIO(invoke(*args, "--format", "csv").stdout), dtype=str)
    assert as_csv["note"].str.contains(note).any() and as_csv["source"].str.contains("WCO").all()


def test_correlate_drones_forward():
    result = invoke("correlate", "8802.20", "--from", "2017", "--to", "2022", "--format", "csv")
    assert result.exit_code == 0
    assert "8806." in result.stdout


def test_correlate_chains_an_hs_2012_code_to_hs_2022_and_editions_lists_them():
    result = invoke("correlate", "8802.20", "--from", "2012", "--to", "2022", "--format", "csv")
    assert result.exit_code == 0
    found = pd.read_csv(pd.io.common.StringIO(result.stdout), dtype=str).set_index("to_code")
    assert found.loc["8806.21", "relation"] == "n:n" and found.loc["8806.21", "from_ex"] == "True"
    assert found.loc["8802.20", "relation"] == "1:n"
    default = invoke("correlate", "8802.20", "--format", "csv")  # from the edition before the newest
    assert default.exit_code == 0 and "8806.21" in default.stdout
    editions = json.loads(invoke("editions", "--format", "json").stdout)
    assert [(row["edition"], row["in_force_from"], row["in_force_until"]) for row in editions] == [
        ("2012", "2012-01-01", "2016-12-31"),
        ("2017", "2017-01-01", "2021-12-31"),
        ("2022", "2022-01-01", ""),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lookup", "93AB"], "only digits"),
        (["codes", "IX"], "unknown category"),
        (["correlate", "8710.00", "--from", "1988"], "no HS 1988"),
        (["classify", "missing.csv", "-o", "out.csv", "--edition", "2007"], "no HS 2007"),
        (["classify", "missing.csv", "-o", "out.csv", "--edition", "latest"], "give auto or one of the editions"),
        (["classify", "missing.csv", "-o", "out.csv"], "file not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_classify_the_example_declarations(tmp_path):
    target = tmp_path / "classified.csv"
    result = invoke("classify", str(EXAMPLES / "declarations.csv"), "-o", str(target))
    assert result.exit_code == 0, result.output
    source = pd.read_csv(EXAMPLES / "declarations.csv", dtype=str, keep_default_na=False)
    out = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert list(out["declaration_id"]) == list(source["declaration_id"])
    assert (out["att_category"] != "").sum() > 10
    assert "lines by ATT category" in result.stdout


def test_classify_xlsx_in_parquet_out_with_named_columns(tmp_path):
    source = tmp_path / "lines.xlsx"
    pd.DataFrame({"Tariff": ["9301.90.00", "9503.00"], "Goods": ["ASSAULT RIFLE", "TOY GUN"]}).to_excel(
        source, index=False
    )
    target = tmp_path / "out.parquet"
    result = invoke("classify", str(source), "-o", str(target), "--code-column", "Tariff", "--text-column", "Goods")
    assert result.exit_code == 0, result.output
    out = pd.read_parquet(target)
    assert list(out["att_category"]) == ["VIII.SA.4", ""]


def test_fail_on_flags_exits_1(tmp_path):
    source = tmp_path / "lines.csv"
    source.write_text("hs_code,description\n8708.99,ASSAULT RIFLES AK-47\n", encoding="utf-8")
    result = invoke("classify", str(source), "-o", str(tmp_path / "out.csv"), "--fail-on-flags")
    assert result.exit_code == 1


def test_evaluate_prints_the_figures(tmp_path):
    source = tmp_path / "labelled.csv"
    source.write_text(
        "hs_code,description,label\n9301.90,ASSAULT RIFLE AK-47,VIII.SA.4\n9503.00,TOY GUN,\n"
        "8710.00,MAIN BATTLE TANK T-72,I\n",
        encoding="utf-8",
    )
    result = invoke("evaluate", str(source), "-o", str(tmp_path / "predictions.csv"))
    assert result.exit_code == 0, result.output
    assert "att_item_f1" in result.stdout
    assert (tmp_path / "predictions.csv").exists()


@pytest.mark.skipif(
    shutil.which("hsmap") is None and not os.environ.get("CI"), reason="the hsmap executable is not installed"
)
def test_the_installed_executable_works_from_any_directory(tmp_path):
    source = tmp_path / "lines.csv"
    source.write_text("hs_code,description\n87100000,MAIN BATTLE TANK LEOPARD 2\n", encoding="utf-8")
    done = subprocess.run(
        ["hsmap", "classify", str(source), "-o", str(tmp_path / "out.csv")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(tmp_path / "out.csv", dtype=str)["att_category"].iloc[0] == "I"
    lookup = subprocess.run(
        ["hsmap", "lookup", "9302", "--format", "csv"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert lookup.returncode == 0 and "VIII.SA.1" in lookup.stdout
    bad = subprocess.run(["hsmap", "lookup", "93AB"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_bad_values_are_flagged_and_strict_turns_them_into_an_error(tmp_path):
    source = tmp_path / "lines.csv"
    source.write_text(
        "hs_code,description,quantity,unit,value,currency,partner\n"
        "9301.90,ASSAULT RIFLE,10,u,1200,EUR,FRA\n"
        "9301.90,ASSAULT RIFLE,ten,u,1200,EUR,FRA\n"
        "93O1.90,ASSAULT RIFLE,10,u,-5,EUR,Narnia\n",
        encoding="utf-8",
    )
    kept = invoke("classify", str(source), "-o", str(tmp_path / "out.csv"))
    assert kept.exit_code == 0
    flags = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)["flags"].tolist()
    assert flags[0] == ""
    assert flags[1] == "bad-quantity"
    assert set(flags[2].split(";")) == {"invalid-code", "negative-value", "unknown-partner"}
    strict = invoke("classify", str(source), "-o", str(tmp_path / "strict.csv"), "--strict")
    assert strict.exit_code == 2
    assert "2 rows have input problems" in strict.stderr and "row 3" in strict.stderr and "row 4" in strict.stderr
    assert not (tmp_path / "strict.csv").exists()
