"""The Python API as a programmer meets it: the same column finding, edition checks and messages as the
command line, errors about values as ValueErrors, files or DataFrames alike."""

from __future__ import annotations

from importlib import resources
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import hsmap
from hsmap.cli.main import app

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_version_and_type_marker() -> None:
    assert hsmap.__version__ == version("hsmap")
    assert resources.files("hsmap").joinpath("py.typed").is_file()


def test_classify_finds_the_columns_as_the_command_does() -> None:
    lines = pd.DataFrame({"Tariff code": ["93019000", "87100000"], "Goods": ["ASSAULT RIFLES", "T-72 MAIN TANKS"]})
    result = hsmap.classify(lines)
    assert result["att_category"].tolist() == ["VIII.SA.4", "I"]
    assert list(result.columns[:2]) == ["Tariff code", "Goods"]


def test_classify_without_code_or_text_says_so_as_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"neither a code column nor a description column.*code_column=/text_column="):
        hsmap.classify(pd.DataFrame({"quantity": ["5"], "partner": ["UKRAINE"]}))
    with pytest.raises(hsmap.InputError, match="no such code column"):
        hsmap.classify(pd.DataFrame({"description": ["RIFLE"]}), code_column="hs_code")


@pytest.mark.parametrize("edition", [1999, 2007, 2028])
def test_an_unknown_edition_is_refused_everywhere(edition: int, tmp_path: Path) -> None:
    lines = pd.DataFrame({"hs_code": ["9301.90"], "description": ["ASSAULT RIFLE"]})
    with pytest.raises(hsmap.UnknownEdition, match=f"no HS {edition}"):
        hsmap.classify(lines, edition=edition)
    with pytest.raises(ValueError):
        hsmap.correlate("9301.90", edition, 2022)
    with pytest.raises(ValueError):
        hsmap.codes_for_category("I", edition=edition)
    result = CliRunner().invoke(
        app, ["classify", str(EXAMPLES / "declarations.csv"), "-e", str(edition), "-o", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2 and str(edition) in result.stderr and not (tmp_path / "x.csv").exists()


def test_hs_2012_is_an_edition() -> None:
    rifles = pd.DataFrame({"hs_code": ["9301.90"], "description": ["ASSAULT RIFLES"]})
    assert hsmap.classify(rifles, edition=2012)["att_category"].iloc[0] == "VIII.SA.4"


def test_bad_values_are_value_errors() -> None:
    with pytest.raises(ValueError):
        hsmap.normalize_code("93A1")
    with pytest.raises(hsmap.UnknownCategory):
        hsmap.codes_for_category("IX")
    assert issubclass(hsmap.UnknownCategory, ValueError) and issubclass(hsmap.InputError, ValueError)


def test_read_report_needs_no_hidden_keyword() -> None:
    report = hsmap.read_report(EXAMPLES / "att_report.csv")
    assert len(report) == 18 and set(report["reporting_state_iso3"]) == {"CZE"}
    frame = pd.read_csv(EXAMPLES / "att_report.csv", dtype="str", keep_default_na=False)
    from_frame = hsmap.read_report(frame)
    pd.testing.assert_frame_equal(from_frame.drop(columns="source_row"), report.drop(columns="source_row"))


def test_reconcile_takes_dataframes_as_well_as_files() -> None:
    from_files = hsmap.reconcile(EXAMPLES / "declarations.csv", EXAMPLES / "att_report.csv")
    customs = pd.read_csv(EXAMPLES / "declarations.csv", dtype="str", keep_default_na=False)
    report = pd.read_csv(EXAMPLES / "att_report.csv", dtype="str", keep_default_na=False)
    from_frames = hsmap.reconcile(customs, report)
    assert from_frames.by_status()["rows"].tolist() == from_files.by_status()["rows"].tolist()
    assert from_frames.comparison["status"].value_counts()["match"] == 12
    flows = customs.drop(columns="flow")
    with pytest.raises(ValueError, match="--customs-flow"):
        hsmap.reconcile(flows, report)
    one_flow = hsmap.reconcile(flows, report, reading=hsmap.CustomsReading(flow="export"))
    assert one_flow.by_status()["rows"].tolist() == from_files.by_status()["rows"].tolist()
