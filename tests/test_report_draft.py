"""The ATT annual report drafted from customs lines: figures checked against sums worked out by hand from
``tests/data/draft_declarations.csv`` (31 export lines of an Austrian 2023 extract: several States, categories
and sub-categories, look-alikes, lines in kilograms, a re-export, an unknown partner, a trainer aircraft in a
code shared with civil aircraft, a line of another year and one of the other flow), the lines left for review
with their reasons, the draft read back as a report, and the reconciliation of the draft with the same lines:
every counted row a match, no mismatch, no report row alone."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import typer
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from hsmap.cli.main import app
from hsmap.countries import normalize_partners
from hsmap.io import read_table
from hsmap.knowledge import Knowledge
from hsmap.reconcile import ReconcileOptions, reconcile_files
from hsmap.render.report_draft import write_report_draft
from hsmap.report import REPORT_FIELDS, read_report
from hsmap.report_draft import INCLUDABLE, DraftError, DraftOptions, compact_ids, draft_report_files
from hsmap.report_draft.describe import row_description
from hsmap.review_list import mark_reviewed, read_review_list

DATA = Path(__file__).parent / "data"
CUSTOMS = DATA / "draft_declarations.csv"
EXAMPLES = Path(__file__).parent.parent / "examples"
F = "draft_declarations.csv"
runner = CliRunner()

# (category, State, items, declaration rows) worked out from the file: rows 2-3 are 1,200 + 800 Glock pistols to
# the United States, rows 5 and 30 are 300 + 60 Glock 17 to Switzerland, rows 6-7 are 250 + 50 AUG rifles to
# Malaysia, row 27 (a Eurofighter, IV.a) goes to the IV row, row 28 gives the partner as M49 842.
EXPECTED_ROWS = [
    ("II", "CZE", 12, f"{F}:10"),
    ("II", "ESP", 4, f"{F}:11"),
    ("III", "JOR", 12, f"{F}:13"),
    ("IV", "SAU", 1, f"{F}:27"),
    ("VIII.SA.1", "CHE", 360, f"{F}:5,30"),
    ("VIII.SA.1", "USA", 2000, f"{F}:2-3"),
    ("VIII.SA.2", "NOR", 150, f"{F}:8"),
    ("VIII.SA.2", "SWE", 40, f"{F}:9"),
    ("VIII.SA.2", "USA", 20, f"{F}:28"),
    ("VIII.SA.4", "MYS", 300, f"{F}:6-7"),
    ("VIII.LW.1", "JOR", 8, f"{F}:4"),
    ("VIII.LW.4", "LVA", 6, f"{F}:29"),
    ("VIII.LW.6", "JOR", 40, f"{F}:14"),
]
EXPECTED_REVIEW = {
    f"{F}:12": "no-items",  # 500 kg of sub-machine guns
    f"{F}:19": "shared-civil;no-category",  # a trainer aircraft in 8802.30, not said to be military
    f"{F}:20": "re-export",
    f"{F}:21": "unknown-partner",  # ATLANTIS
    f"{F}:24": "code-text-mismatch",  # a sniper rifle declared under rifle scopes
    f"{F}:25": "low-confidence",  # "tracked vehicles": 8710 alone, the text names no kind
    f"{F}:31": "no-subcategory",  # "small arms", no sub-category
    f"{F}:32": "unreadable",  # date 31/12/23
}
EVERYTHING = frozenset({"re-export", "no-items", "no-subcategory", "code-text-mismatch", "low-confidence"})


def _draft(**options: object):
    settings = {"state": "AUT", "year": 2023} | options
    return draft_report_files([CUSTOMS], DraftOptions(**settings))  # type: ignore[arg-type]


def _rows(report: pd.DataFrame) -> list[tuple]:
    """(category, the partner as a report reader resolves it, items, source lines) per row."""
    iso3 = normalize_partners(report["partner"])["partner_iso3"]
    return list(zip(report["category"], iso3, report["items"].astype("object"), report["source_lines"], strict=True))


def test_the_table_holds_the_hand_computed_figures() -> None:
    draft = _draft()
    assert _rows(draft.report) == EXPECTED_ROWS
    assert (draft.report["reporting_state"] == "Austria").all()
    assert set(draft.report["flow"]) == {"export"} and set(draft.report["basis"]) == {"actual"}
    assert draft.report[["value", "currency"]].isna().all().all()  # values only with --values
    assert not draft.nil
    by_row = draft.report.set_index(["category", "partner"])
    assert by_row.loc[("VIII.SA.1", "United States"), "description"] == "Glock 17; Glock 19"  # most items first
    assert by_row.loc[("II", "Czechia"), "description"] == "Pandur II 8x8"  # the designation the line names
    assert by_row.loc[("II", "Czechia"), "comments"] == "1 more line(s) for this State and category left for review"
    assert pd.isna(by_row.loc[("II", "Spain"), "comments"])


def test_ammunition_and_parts_are_voluntary_information_not_table_rows() -> None:
    draft = _draft()
    assert not draft.report["category"].isin(["ART3", "ART4"]).any()
    voluntary = draft.voluntary.set_index(["category", "partner_iso3"])
    assert list(voluntary.index) == [("ART3", "MYS"), ("ART3", "USA"), ("ART4", "MYS")]
    assert voluntary.loc[("ART3", "MYS"), "items"] == 250_000  # 250 × 1000u
    assert voluntary.loc[("ART3", "USA"), "kg"] == 15_000 and pd.isna(voluntary.loc[("ART3", "USA"), "items"])
    assert voluntary.loc[("ART4", "MYS"), "source_lines"] == f"{F}:16"


def test_lines_that_need_a_decision_are_listed_with_their_reason_never_counted() -> None:
    draft = _draft()
    review = draft.review.set_index("line")
    assert review["review"].to_dict() == EXPECTED_REVIEW
    assert review.loc[f"{F}:12", "reason"] == "no-items: 500 kg and no number of items"
    assert review.loc[f"{F}:25", "reason"] == "low-confidence: the classifier is 35 % sure"
    assert "code 8802.30 can hold IV.a" in review.loc[f"{F}:19", "reason"]
    assert "ATLANTIS" in review.loc[f"{F}:21", "reason"]
    counted = set(draft.sources["line"])
    assert counted.isdisjoint(EXPECTED_REVIEW)
    by_kind = draft.review_by_kind().set_index("kind")
    assert by_kind["lines"].to_dict() == {
        "shared-civil": 1,
        "code-text-mismatch": 1,
        "low-confidence": 1,
        "no-subcategory": 1,
        "no-items": 1,
        "re-export": 1,
        "unknown-partner": 1,
        "no-category": 1,
        "unreadable": 1,
    }


def test_every_line_read_is_accounted_for_once() -> None:
    draft = _draft()
    accounting = draft.accounting.set_index("what")["lines"]
    assert accounting["lines read"] == 31 == accounting.iloc[1:].sum()
    assert accounting["other years"] == 1 and accounting["the other flow"] == 1 and accounting["not ATT items"] == 2
    assert accounting["counted in the report (13 rows)"] == 16
    assert accounting["left for review"] == len(EXPECTED_REVIEW)
    assert draft.lines["line"].is_unique and len(draft.lines) == 16 + 3 + len(EXPECTED_REVIEW)
    assert draft.lines["row"].is_monotonic_increasing  # file order
    counted_in = draft.lines.set_index("line")["counted_in"]
    assert counted_in[f"{F}:3"] == "report row 7"  # United States, VIII.SA.1: the sixth row under the header
    assert counted_in[f"{F}:16"] == "voluntary row 4"


def test_include_counts_the_kinds_named() -> None:
    draft = _draft(include=EVERYTHING)
    rows = {(category, iso3): (items, lines) for category, iso3, items, lines in _rows(draft.report)}
    assert rows[("II", "CZE")] == (14, f"{F}:10,25")  # + the 2 tracked vehicles
    assert rows[("VIII.SA.2", "NOR")] == (150 + 5, f"{F}:8,24")  # + the sniper rifles
    assert rows[("VIII.SA.1", "SVN")] == (100, f"{F}:20")  # the re-export
    assert rows[("VIII", "KEN")] == (15, f"{F}:31")  # at the level the declaration gives
    assert pd.isna(rows[("VIII.SA.3", "THA")][0])  # 500 kg: items unknown, left blank
    comments = draft.report.set_index("partner")["comments"]
    assert comments["Thailand"] == "1 line(s) counted with --include no-items; number of items unknown for 1 line(s)"
    assert set(draft.review["review"]) == {"shared-civil;no-category", "unknown-partner", "unreadable"}


def test_the_imports_table_and_a_classified_file_with_an_unknown_category(tmp_path: Path) -> None:
    assert _rows(_draft(flow="import").report) == [("VIII.SA.1", "CZE", 50, f"{F}:23")]
    classified = tmp_path / "classified.csv"
    classified.write_text(
        "date,flow,hs_code,description,quantity,unit,partner,att_category,flags,confidence\n"
        "2023-03-01,export,93020000,PISTOLS GLOCK 17,10,u,Chile,VIII.SA.1,,\n"
        "2023-03-02,export,93020000,PISTOLS GLOCK 17,5,u,Chile,IX,,0.9\n"
    )
    draft = draft_report_files([classified], DraftOptions(state="AUT", year=2023))
    assert _rows(draft.report) == [("VIII.SA.1", "CHL", 10, "classified.csv:2")]  # no confidence: as decided
    assert draft.review["reason"].tolist() == ["no-category: unknown ATT category 'IX'"]


def test_optional_rows_keep_the_manned_unmanned_split() -> None:
    assert "IV" in set(_draft().report["category"])
    assert "IV.a" in set(_draft(optional_rows=True).report["category"])


def test_values_give_a_row_per_currency_and_never_a_partial_sum() -> None:
    report = _draft(values=True).report.set_index(["category", "partner", "currency"], drop=False)
    assert report.loc[("VIII.SA.1", "United States", "EUR"), ["items", "value"]].tolist() == [1200, 540_000]
    assert report.loc[("VIII.SA.1", "United States", "USD"), ["items", "value"]].tolist() == [800, 410_000]
    switzerland = report[report["partner"] == "Switzerland"].iloc[0]  # one of its two lines has no value
    assert switzerland["items"] == 360 and pd.isna(switzerland["value"]) and pd.isna(switzerland["currency"])
    assert switzerland["comments"] == "value unknown for 1 line(s)"


def test_nil_report_when_nothing_qualifies(tmp_path: Path) -> None:
    draft = _draft(year=2020)
    assert draft.nil and len(draft.report) == 1
    assert draft.review["line"].tolist() == [f"{F}:32"]  # its date cannot be read: it may be of any year
    assert draft.report.loc[0, ["category", "partner", "items"]].isna().all()
    kilograms = tmp_path / "kg.csv"
    kilograms.write_text(
        "date,flow,hs_code,description,quantity,unit,value,currency,partner\n"
        "2023-05-02,export,93019000,SUBMACHINE GUNS STEYR TMP 9MM,500,kg,90000,EUR,THAILAND\n"
    )
    only_review = draft_report_files([kilograms], DraftOptions(state="AUT", year=2023))
    assert only_review.nil and len(only_review.review) == 1
    assert only_review.report.loc[0, "comments"] == "nothing qualifies in the customs data; 1 line(s) left for review"
    written = write_report_draft(only_review, tmp_path / "nil.csv")[0]
    back = read_report(written, known_categories=["I"])
    assert back["nil_report"].tolist() == [True]
    toys = tmp_path / "toys.csv"
    toys.write_text(kilograms.read_text().splitlines()[0] + "\n2023-05-02,export,95030095,TOY GUNS,5,u,90,EUR,ITALY\n")
    nothing = draft_report_files([toys], DraftOptions(state="AUT", year=2023))
    assert nothing.nil and nothing.lines.empty and nothing.voluntary.empty
    assert nothing.accounting.set_index("what")["lines"].to_dict()["not ATT items"] == 1


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("include", [frozenset(), EVERYTHING])
def test_the_draft_reads_back_and_reconciles_without_a_difference(
    tmp_path: Path, kb: Knowledge, suffix: str, include: frozenset[str]
) -> None:
    draft = _draft(include=include, values=bool(include))
    path = write_report_draft(draft, tmp_path / f"draft{suffix}")[0]
    back = read_report(path, known_categories=kb.categories)
    assert back[list(REPORT_FIELDS)].astype("object").fillna("").values.tolist() == (
        draft.report[list(REPORT_FIELDS)].astype("object").fillna("").values.tolist()
    )
    assert back["source_lines"].tolist() == draft.report["source_lines"].tolist()
    assert len(read_review_list(path)) == len(draft.review)

    result = reconcile_files(CUSTOMS, path, kb=kb)
    comparison = result.comparison
    assert not comparison["status"].isin(["mismatch", "only-report", "within-tolerance"]).any()
    assert set(comparison["status"]) <= {"match", "not-comparable"}
    matched = comparison[comparison["status"] == "match"]
    assert matched["report_row_count"].sum() == len(draft.report)
    assert matched["customs_lines"].sum() == (draft.lines["decision"] == "counted").sum()
    others = comparison[comparison["status"] == "not-comparable"]
    assert set(others["top_category"]) == {"ART3", "ART4"}  # Art. 3/4 need not be reported
    left = result.customs_unmatched[result.customs_unmatched["reason"].str.startswith("left for review")]
    assert left["lines"].sum() == len(draft.review) - 1  # the line without a year is excluded for that already
    for kinds in set(draft.review["review"]) - {"unreadable"}:
        assert f"left for review in the draft: {kinds}" in set(left["reason"])


def test_reconciling_without_the_review_list_shows_the_difference(tmp_path: Path, kb: Knowledge) -> None:
    """The review list is what keeps the undecided lines out: a plain copy of the report sheet, without it,
    compares them — which is the check that the test above can fail."""
    path = write_report_draft(_draft(), tmp_path / "draft.csv")[0]
    (tmp_path / "draft.lines.csv").unlink()
    statuses = reconcile_files(CUSTOMS, path, kb=kb).comparison.set_index(["partner", "category"])["status"]
    assert statuses[("NOR", "VIII.SA.2")] == "mismatch"  # the sniper rifle is summed in by the reconciliation
    assert statuses[("SVN", "VIII.SA.1")] == "only-customs"  # the re-export


def test_a_listed_line_of_other_data_is_not_excluded(kb: Knowledge) -> None:
    lines = pd.DataFrame({"source_row": [2, 3], "hs6": ["9301.90", "9302.00"], "exclusion": ["", ""]})
    review = pd.DataFrame({"file": ["a.csv", "a.csv"], "row": [2, 3], "hs6": ["9301.90", "9303.30"], "review": "x"})
    marked = mark_reviewed(lines, "a.csv", review)
    assert marked["exclusion"].tolist() == ["left for review in the draft: x", ""]  # row 3 is another line
    assert mark_reviewed(lines, "b.csv", review)["exclusion"].tolist() == ["", ""]


def test_the_store_loads_the_draft_unchanged(tmp_path: Path) -> None:
    path = write_report_draft(_draft(), tmp_path / "draft.xlsx")[0]
    database = tmp_path / "store.duckdb"
    loaded = runner.invoke(app, ["store", "load", str(path), "--db", str(database)])
    assert loaded.exit_code == 0, loaded.output
    query = "SELECT count(*) AS rows, sum(items) AS items FROM report_lines"
    result = runner.invoke(app, ["store", "sql", query, "--db", str(database), "--format", "csv"])
    rows, items = result.stdout.strip().splitlines()[-1].split(",")
    assert (int(rows), float(items)) == (13, sum(row[2] for row in EXPECTED_ROWS))


def test_workbook_sheets_and_document(tmp_path: Path) -> None:
    draft = _draft()
    book = load_workbook(write_report_draft(draft, tmp_path / "draft.xlsx")[0], read_only=True)
    assert book.sheetnames == ["report", "about", "for review", "sources", "voluntary"]
    sources = read_table(tmp_path / "draft.xlsx", sheet="sources")
    assert set(sources["decision"]) == {"counted", "voluntary"} and len(sources) == 19
    document = Document(str(write_report_draft(draft, tmp_path / "draft.docx")[0]))
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (29.7, 21.0)  # A4 landscape
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "VIII.SA.1 Revolvers and self-loading pistols" in cells and "Glock 17; Glock 19" in cells
    assert "2,000" in cells and f"{F}:25" in cells  # a figure, and a line left for review


def test_descriptions_and_line_ids_stay_short() -> None:
    models = pd.Series(["T-72", "BMP-1", "T-72", "", "Dana M2", "RM-70"])
    items = pd.Series([10, 30, 25, 99, 4, 2])
    assert row_description(models, items) == "T-72; BMP-1; Dana M2; and 1 other model"  # 35 T-72 before 30 BMP-1
    ids = compact_ids(pd.Series(["a.csv"] * 5 + ["b.csv"]), pd.Series([9, 2, 3, 4, 12, 7]))
    assert ids == "a.csv:2-4,9,12; b.csv:7"


def test_options_are_checked() -> None:
    with pytest.raises(DraftError, match="unknown-partner"):
        DraftOptions(state="AUT", year=2023, include=frozenset({"unknown-partner"}))
    with pytest.raises(DraftError, match="licensing data"):
        DraftOptions(state="AUT", year=2023, basis="authorized")
    with pytest.raises(DraftError, match="--state"):
        draft_report_files([CUSTOMS], DraftOptions(state="Atlantis", year=2023))


def test_command_on_the_example_as_the_readme_shows(tmp_path: Path, kb: Knowledge) -> None:
    output = tmp_path / "draft.xlsx"
    args = ["draft-report", "--customs", str(EXAMPLES / "declarations.csv"), "--state", "CZE", "--year", "2024"]
    result = runner.invoke(app, [*args, "--flow", "export", "--basis", "actual", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "wrote 16 report rows, 5 lines left for review" in " ".join(result.stdout.split())
    statuses = reconcile_files(EXAMPLES / "declarations.csv", output, kb=kb).comparison["status"]
    assert statuses.value_counts().to_dict() == {"match": 16, "not-comparable": 6}
    flagged = runner.invoke(app, [*args, "-o", str(tmp_path / "d.csv"), "--fail-on-review"])
    assert flagged.exit_code == 1 and (tmp_path / "d.lines.csv").exists()
    refused = runner.invoke(app, [*args, "-o", str(tmp_path / "d.xlsx"), "--basis", "authorized"])
    assert refused.exit_code == 2 and "licensing data" in refused.stderr and "Traceback" not in refused.output
    refused = runner.invoke(app, [*args, "-o", str(tmp_path / "d.pdf")])
    assert refused.exit_code == 2 and not (tmp_path / "d.pdf").exists()
    command = typer.main.get_command(app).commands["draft-report"]  # type: ignore[attr-defined]
    include = next(param for param in command.params if param.name == "include")
    assert all(kind in include.help for kind in INCLUDABLE)


def test_reconcile_with_re_exports_left_out_keeps_a_counted_re_export_apart(tmp_path: Path, kb: Knowledge) -> None:
    """--include re-export counts it; a reconciliation told to leave re-exports out then finds the report row
    alone, as it should: the two were asked different things."""
    path = write_report_draft(_draft(include=frozenset({"re-export"})), tmp_path / "draft.xlsx")[0]
    options = ReconcileOptions(include_re_exports=False)
    statuses = reconcile_files(CUSTOMS, path, options, kb=kb).comparison.set_index(["partner", "category"])["status"]
    assert statuses[("SVN", "VIII.SA.1")] == "only-report"


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="the dask extra is not installed")
def test_dask_engine_drafts_the_same_report(tmp_path: Path, kb: Knowledge) -> None:
    from hsmap.engines import dask_aggregation, dask_client

    frame = read_table(CUSTOMS)
    folder = tmp_path / "customs"
    for half, part in frame.groupby(frame.index >= 15):
        target = folder / f"part={int(half)}" / "lines.csv"
        target.parent.mkdir(parents=True)
        part.to_csv(target, index=False)
    on_pandas = draft_report_files([folder], DraftOptions(state="AUT", year=2023), kb=kb)
    with dask_client(workers=1) as client:
        on_dask = draft_report_files([folder], DraftOptions(state="AUT", year=2023), kb=kb, client=client)
        path = write_report_draft(on_dask, tmp_path / "draft.xlsx")[0]
        result = reconcile_files(folder, path, kb=kb, aggregation=dask_aggregation(client))
    pd.testing.assert_frame_equal(on_dask.report, on_pandas.report)
    pd.testing.assert_frame_equal(on_dask.lines, on_pandas.lines, check_dtype=False)
    assert on_dask.report["items"].sum() == sum(row[2] for row in EXPECTED_ROWS)
    assert on_dask.review["line"].tolist()[:2] == ["part=0/lines.csv:12", "part=1/lines.csv:4"]
    assert set(result.comparison["status"]) <= {"match", "not-comparable"}
