"""The reconciliation's outputs, written through the CLI and read back: .xlsx, .html, .csv, .parquet, the
report template, and the shipped example files."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from hsmap.cli.main import app
from hsmap.knowledge import Knowledge
from hsmap.reconcile import COMPARISON_COLUMNS, STATUSES, ReconcileOptions, reconcile_files
from hsmap.render.reconcile_html import render_html, write_reconciliation_html
from hsmap.render.reconcile_xlsx import SHEETS, STATUS_FILLS
from hsmap.report import REPORT_FIELDS, read_report

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPT = '<script>alert("x")</script>'

CUSTOMS = (
    "declaration_id,date,flow,hs_code,description,quantity,unit,value,currency,partner,att_category\n"
    "D1,2024-01-09,export,93019000,CZ BREN 2 ASSAULT RIFLES,500,u,1150000,EUR,UKRAINE,VIII.SA.4\n"
    "D2,2024-02-10,export,93019000,ASSAULT RIFLES,40,u,92000,EUR,FR,VIII.SA.4\n"
    "D3,2024-03-11,export,93020000,PISTOLS,104,u,52000,EUR,CHILE,VIII.SA.1\n"
    f"D4,2024-06-11,export,93011000,{SCRIPT},6,u,720000,EUR,KAZAKHSTAN,III\n"
    "D5,2024-07-01,export,93063030,CARTRIDGES 7.62X39,24000,kg,560000,EUR,UKRAINE,ART3\n"
    "D6,2024-08-01,export,36041000,FIREWORKS,2500,kg,18000,EUR,SWITZERLAND,\n"
    "D7,2024-09-01,export,93019000,RIFLES,5,u,4000,EUR,Atlantis,VIII.SA.2\n"
)
REPORT = (
    "Reporting State,Year,Flow,Basis,Category,Final importing State,Number of items,Value,Currency,"
    "State of origin,Description of item,Comments on the transfer,Nil report,Withheld\n"
    "Czech Republic,2024,export,actual,VIII.SA.4,Ukraine,500,1150000,EUR,,,,no,no\n"
    "Czech Republic,2024,export,actual,VIII.SA.4,France,25,57500,EUR,,,,no,no\n"
    "Czech Republic,2024,export,actual,VIII.SA.1,Chile,100,50000,EUR,,,,no,no\n"
    "Czech Republic,2024,export,actual,VIII.SA.5,Slovak Republic,40,260000,EUR,,,"
    '"=HYPERLINK(""http://example.org"",""x"")",no,no\n'
    "Czech Republic,2024,export,actual,VIII.SA.2,=2+3,10,100,EUR,,,,no,no\n"
)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    customs, report = tmp_path / "customs.csv", tmp_path / "report.csv"
    customs.write_text(CUSTOMS, encoding="utf-8")
    report.write_text(REPORT, encoding="utf-8")
    return customs, report


def _invoke(*args: str) -> object:
    result = CliRunner().invoke(app, list(args))
    return result


def named_args(customs: Path, report: Path, folder: Path) -> tuple[str, ...]:
    return ("reconcile", "--customs", str(customs), "--report", str(report), "-o", str(folder / "r.csv"))


def _reconcile(inputs: tuple[Path, Path], output: Path, *extra: str) -> object:
    customs, report = inputs
    args = ["reconcile", "--customs", str(customs), "--report", str(report), "-o", str(output), *extra]
    return _invoke(*args)


def test_xlsx_read_back(inputs: tuple[Path, Path], tmp_path: Path, kb: Knowledge) -> None:
    output = tmp_path / "rec.xlsx"
    run = _reconcile(inputs, output, "--tolerance", "0.05")
    assert run.exit_code == 0, run.output
    expected = reconcile_files(*inputs, ReconcileOptions(tolerance=0.05), kb=kb).comparison
    book = load_workbook(output)
    assert tuple(book.sheetnames) == SHEETS
    sheet = book["comparison"]
    header = [cell.value for cell in sheet[1]]
    assert tuple(header) == COMPARISON_COLUMNS
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}{len(expected) + 1}"
    explanation = sheet.cell(1, header.index("explanation") + 1).column_letter
    assert round(sheet.column_dimensions[explanation].width) in (100, 101)  # the writer adds a cell's padding
    assert sheet.cell(2, header.index("explanation") + 1).alignment.wrap_text
    assert sheet.cell(1, 1).font.b
    items = header.index("customs_items") + 1
    typed = [sheet.cell(row, items) for row in range(2, sheet.max_row + 1) if sheet.cell(row, items).value is not None]
    assert typed and all(isinstance(cell.value, int | float) and cell.number_format == "#,##0" for cell in typed)
    statuses = [sheet.cell(row, 1).value for row in range(2, sheet.max_row + 1)]
    assert statuses == expected["status"].tolist()
    for row in range(2, sheet.max_row + 1):
        cell = sheet.cell(row, 1)
        assert cell.fill.fgColor.rgb.endswith(STATUS_FILLS[cell.value])
    back = pd.read_excel(output, sheet_name="comparison")
    assert back["customs_items"].sum() == expected["customs_items"].sum()
    # text from the inputs that a spreadsheet would run as a formula is neutralised
    partners = [sheet.cell(row, header.index("partner") + 1).value for row in range(2, sheet.max_row + 1)]
    assert "'=2+3" in partners
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    summary = [cell.value for row in book["summary"].iter_rows() for cell in row if cell.value is not None]
    assert "Comparison rows by status" in summary and "Where every input line went" in summary
    assert book["report unmatched"].freeze_panes == "A2"
    assert book["customs not ATT"].cell(2, book["customs not ATT"].max_column).value is not None
    report_sheet = book["report unmatched"]
    comments = [cell.value for row in report_sheet.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)]
    assert any(value.startswith("'=HYPERLINK") for value in comments)


class _Page(HTMLParser):
    """Collects what a test needs to know about a page: tags, attributes, table rows and text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.rows_per_table: list[int] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if tag == "table":
            self.rows_per_table.append(0)
        elif tag == "tr" and self.rows_per_table:
            self.rows_per_table[-1] += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_escaped_and_complete(inputs: tuple[Path, Path], tmp_path: Path, kb: Knowledge) -> None:
    output = tmp_path / "rec.html"
    run = _reconcile(inputs, output)
    assert run.exit_code == 0, run.output
    source = output.read_text(encoding="utf-8")
    page = _Page()
    page.feed(source)
    result = reconcile_files(*inputs, kb=kb)
    assert "script" not in page.tags  # the description "<script>…" arrives as text, not as a tag
    assert SCRIPT not in source and "&lt;script&gt;" in source
    assert SCRIPT in "".join(page.text)  # … and reads back as the text it was
    assert page.tags.count("svg") == 2 and "rect" in page.tags
    names = {name for name, _ in page.attributes}
    assert "src" not in names and "href" not in names  # nothing fetched from elsewhere
    assert page.rows_per_table[0] == len(result.comparison) + 1  # the comparison table, header included
    text = " ".join(page.text)
    for status, count in result.status_counts.items():
        assert f"{count} {status}" in " ".join(text.split())
    assert "Atlantis" in text  # the unresolved partner is listed


def test_chart_pairs_customs_and_report_bars_per_category(inputs: tuple[Path, Path], kb: Knowledge) -> None:
    result = reconcile_files(*inputs, kb=kb)
    chart = render_html(result).split("<svg")[1]  # the items chart
    bars = [
        float(width)
        for width in re.findall(r'<rect x="70" y="\d+" width="([\d.]+)" height="12" fill="#[0-9a-f]+">', chart)
    ]
    totals = result.by_category()
    shown = totals[(totals["customs_items"] > 0) | (totals["report_items"] > 0)]
    assert len(bars) == 2 * len(shown)
    for customs, report in zip(bars[::2], bars[1::2], strict=True):
        assert max(customs, report) == 380  # each pair is scaled to its larger side
    assert ">VIII<" in chart and ">ART3<" not in chart  # the cartridges are in kg: never on the items chart
    assert ">ART3<" in render_html(result).split("<svg")[2]  # but their value is charted


_MEASURE = """const table = document.querySelector('table.comparison');
const wrap = table.parentElement;
return {page: document.documentElement.scrollWidth, view: window.innerWidth, table: wrap.scrollWidth,
        room: wrap.clientWidth, explanation: table.querySelector('td.expl').getBoundingClientRect().width,
        scripts: document.scripts.length, text: document.body.textContent};"""


def test_html_reads_at_1400_px_in_a_browser(inputs: tuple[Path, Path], tmp_path: Path, kb: Knowledge, browser) -> None:
    driver, _ = browser
    page = write_reconciliation_html(reconcile_files(*inputs, kb=kb), tmp_path / "rec.html")
    driver.get(page.as_uri())
    seen = driver.execute_script(_MEASURE)
    assert seen["page"] <= seen["view"] <= 1400  # the window is 1400 px wide: no horizontal scrolling
    assert seen["table"] <= seen["room"]  # the comparison fits its column: no scrolling inside it either
    assert seen["explanation"] >= 360  # 55 characters a line or more, not a narrow ribbon
    assert seen["scripts"] == 0 and SCRIPT in seen["text"]  # the hostile description is text, not a script


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_outputs_read_back(inputs: tuple[Path, Path], tmp_path: Path, kb: Knowledge, suffix: str) -> None:
    output = tmp_path / f"rec{suffix}"
    run = _reconcile(inputs, output)
    assert run.exit_code == 0, run.output
    back = pd.read_csv(output, keep_default_na=False) if suffix == ".csv" else pd.read_parquet(output)
    expected = reconcile_files(*inputs, kb=kb).comparison
    assert tuple(back.columns) == COMPARISON_COLUMNS
    assert back["status"].tolist() == expected["status"].tolist()
    if suffix == ".csv":
        assert "'=2+3" in back["partner"].tolist()
    else:
        assert back["customs_lines"].sum() == expected["customs_lines"].sum()


def test_example_files_reconcile_with_the_readme_command(tmp_path: Path) -> None:
    for suffix in (".xlsx", ".html", ".csv"):
        output = tmp_path / f"rec{suffix}"
        run = _invoke(
            "reconcile",
            "--customs",
            str(EXAMPLES / "declarations.csv"),
            "--report",
            str(EXAMPLES / "att_report.csv"),
            "-o",
            str(output),
        )
        assert run.exit_code == 0, run.output
        assert output.stat().st_size > 0
    table = pd.read_csv(tmp_path / "rec.csv", keep_default_na=False)
    assert set(table["status"]) <= set(STATUSES)
    assert (table["status"] == "match").sum() >= 3  # the classifier is being tuned: only the clear cases
    slovakia = table[table["partner"] == "SVK"].iloc[0]
    assert slovakia["status"] == "only-report" and "intra-EU" in slovakia["gaps"]
    withheld = table[table["report_rows"] == "11"].iloc[0]
    assert withheld["status"] == "not-comparable" and "withheld" in withheld["gaps"]
    assert "Comparison rows by status" in run.output


def test_fail_on_mismatch_and_bad_outputs(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    assert _reconcile(inputs, tmp_path / "rec.csv", "--fail-on-mismatch").exit_code == 1
    wrong = _reconcile(inputs, tmp_path / "rec.txt")
    assert wrong.exit_code == 2 and "cannot write '.txt'" in wrong.output
    customs, _ = inputs
    missing = _invoke(
        "reconcile", "--customs", str(customs), "--report", str(tmp_path / "no.csv"), "-o", str(tmp_path / "r.csv")
    )
    assert missing.exit_code == 2 and "no.csv" in missing.output
    bad = tmp_path / "bad.csv"
    bad.write_text(REPORT.replace("VIII.SA.1,Chile", "Battleships,Chile"), encoding="utf-8")
    refused = _invoke("reconcile", "--customs", str(customs), "--report", str(bad), "-o", str(tmp_path / "r.csv"))
    assert refused.exit_code == 2 and "row 4" in refused.output and "unknown category" in refused.output
    title_page = tmp_path / "title_page.csv"  # State and year stated once, on the report's title page
    title_page.write_text(REPORT.replace("Reporting State,Year,", "").replace("Czech Republic,2024,", ""), "utf-8")
    named = _invoke(*named_args(customs, title_page, tmp_path))
    assert named.exit_code == 2
    assert "give it once for the file with --report-state" in named.output
    assert "give it once for the file with --report-year" in named.output
    stated = _invoke(*named_args(customs, title_page, tmp_path), "--report-state", "Czechia", "--report-year", "2024")
    assert stated.exit_code == 0, stated.output


def test_report_template_and_schema(tmp_path: Path, kb: Knowledge) -> None:
    output = tmp_path / "att_report.xlsx"
    run = _invoke("report-template", "-o", str(output))
    assert run.exit_code == 0, run.output
    book = load_workbook(output)
    assert book.sheetnames[:3] == ["report", "categories", "fields"]
    sheet = book["report"]
    assert tuple(cell.value for cell in sheet[1]) == REPORT_FIELDS
    assert {row[0].value for row in book["categories"].iter_rows(min_row=2)} == set(kb.categories)
    sheet.append(["Czechia", 2024, "export", "actual", "VIII.SA.4", "Ukraine", 500, 1150000, "EUR"])
    book.save(output)
    report = read_report(output, known_categories=kb.categories)
    assert (report["partner_iso3"].iloc[0], report["items"].iloc[0]) == ("UKR", 500)
    schema = _invoke("report-template", "--schema")
    assert schema.exit_code == 0 and "| `category` |" in schema.output
    assert _invoke("report-template", "-o", str(tmp_path / "t.csv")).exit_code == 2
    assert _invoke("report-template").exit_code == 2


def test_strict_refuses_unreadable_cells_and_unknown_partners(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hsmap.cli.main import app

    customs = tmp_path / "customs.csv"
    customs.write_text(
        "date,flow,hs_code,description,quantity,unit,value,currency,partner\n"
        "2024-03-01,export,9301.90,ASSAULT RIFLES,12x,u,1000,EUR,Narnia\n",
        encoding="utf-8",
    )
    report = Path(__file__).parent.parent / "examples" / "att_report.csv"
    target = tmp_path / "rec.csv"
    lenient = CliRunner().invoke(
        app, ["reconcile", "--customs", str(customs), "--report", str(report), "-o", str(target)]
    )
    assert lenient.exit_code == 0 and target.exists()
    target.unlink()
    strict = CliRunner().invoke(
        app, ["reconcile", "--customs", str(customs), "--report", str(report), "-o", str(target), "--strict"]
    )
    assert strict.exit_code == 2
    assert "quantity '12x'" in strict.stderr and "customs partner 'Narnia' not identified" in strict.stderr
    assert not target.exists()
