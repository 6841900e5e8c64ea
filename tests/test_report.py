"""ATT annual reports: reading .csv and .xlsx, header synonyms, nil and withheld rows, precise errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from pydantic import ValidationError

from hsmap.errors import InputError
from hsmap.report import (
    MAX_PROBLEMS,
    REPORT_COLUMNS,
    REPORT_FIELDS,
    ReportError,
    ReportLine,
    parse_category,
    read_report,
    report_schema_markdown,
    write_report_template,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "att_report.csv"

# The category IDs of the ATT Art. 2(1) scope, Art. 3 and Art. 4, as mappings/categories.yaml spells them.
KNOWN = frozenset(
    [
        "I",
        "II",
        "III",
        "IV",
        "IV.a",
        "IV.b",
        "V",
        "V.a",
        "V.b",
        "VI",
        "VII",
        "VII.a",
        "VII.b",
        "VIII",
        "VIII.SA",
        "VIII.LW",
        "ART3",
        "ART4",
    ]
    + [f"VIII.SA.{n}" for n in range(1, 7)]
    + [f"VIII.LW.{n}" for n in range(1, 8)]
)

TEMPLATE_HEADER = (
    "Reporting State,Calendar year,Export or import,Authorised or actual,Category,"
    "Final importing State(s),Number of items,Value,Currency,State of origin (if not exporter),"
    "Description of item (model/type),Comments on the transfer,Nil report,Withheld\n"
)


def _csv(tmp_path: Path, body: str, header: str = TEMPLATE_HEADER, name: str = "att_report.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


def _error(path: Path, **kwargs: object) -> ReportError:
    with pytest.raises(ReportError) as caught:
        read_report(path, known_categories=KNOWN, **kwargs)  # type: ignore[arg-type]
    return caught.value


# --- reading --------------------------------------------------------------------------------------------------


def test_csv_with_template_headers(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        'Sweden,2024,Export,Actual,VII(b),"Korea, Rep.",12,"1,250,000.50",EUR,,RBS 70 NG,G2G,,\n'
        "Sweden,2024,Export,Actual,Small arms 4,NA,300,,,,,,no,\n"
        "Sweden,2024,Exports,Authorised,VIII LW 6,Niger,4,10000,eur,,,,,\n",
    )
    report = read_report(path, known_categories=KNOWN)
    assert tuple(report.columns) == REPORT_COLUMNS
    assert report["source_row"].tolist() == [2, 3, 4]
    assert report["category"].tolist() == ["VII.b", "VIII.SA.4", "VIII.LW.6"]
    assert report["basis"].tolist() == ["actual", "actual", "authorized"]
    assert report["flow"].tolist() == ["export"] * 3
    assert report["partner"].tolist() == ["Korea, Rep.", "NA", "Niger"]  # raw text kept; "NA" is not a NaN
    assert report["partner_iso3"].tolist() == ["KOR", "NAM", "NER"]
    assert report["reporting_state_iso3"].tolist() == ["SWE"] * 3
    assert report["items"].tolist() == [12, 300, 4]
    assert report["value"].iloc[0] == 1_250_000.5
    assert pd.isna(report["value"].iloc[1])
    assert report["currency"].tolist()[::2] == ["EUR", "EUR"]
    assert str(report["items"].dtype) == "Int64"
    assert report["year"].dtype == "int64"


def test_every_row_kept_in_order_blank_rows_skipped(tmp_path: Path) -> None:
    partners = ["France", "Germany", "Chad", "Peru", "Japan", "Brazil", "India", "Kenya", "Chile", "Oman"]
    lines = [f"Norway,2024,export,actual,I,{partner},{n},,,,,,,\n" for n, partner in enumerate(partners, 1)]
    lines.insert(3, ",,,,,,,,,,,,,\n")
    lines.insert(6, "\n")
    report = read_report(_csv(tmp_path, "".join(lines)), known_categories=KNOWN)
    assert report["partner"].tolist() == partners
    assert report["items"].tolist() == list(range(1, 11))
    assert report["source_row"].tolist() == [2, 3, 4, 6, 7, 9, 10, 11, 12, 13]


def test_semicolon_csv_and_synonyms(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text(
        "REPORTER;YEAR;FLOW;BASIS;ATT Category;Exporting State;Quantity;Remarks\n"
        "Ghana;2024;import;actual;viii.sa.1;Türkiye;40;police\n",
        encoding="utf-8-sig",
    )
    report = read_report(path, known_categories=KNOWN)
    row = report.iloc[0]
    assert (row["category"], row["partner_iso3"], row["items"], row["comments"]) == ("VIII.SA.1", "TUR", 40, "police")


def test_defaults_fill_columns_stated_once(tmp_path: Path) -> None:
    path = tmp_path / "exports.csv"
    path.write_text("Category,Importing State,Items,Basis\nII,Ukraine,30,\nIII,Poland,6,authorized\n", encoding="utf-8")
    report = read_report(
        path, known_categories=KNOWN, reporting_state="Czechia", year=2023, flow="export", basis="actual"
    )
    assert report["reporting_state"].tolist() == ["Czechia", "Czechia"]
    assert report["year"].tolist() == [2023, 2023]
    assert report["basis"].tolist() == ["actual", "authorized"]  # a filled cell wins over the default


def test_nil_and_withheld_rows(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "Peru,2024,export,actual,,,,,,,,,,yes\n"
        "Peru,2024,export,actual,VIII.SA.2,,,,,,,,,x\n"
        "Peru,2024,import,actual,,,,,,,,,yes,\n",
    )
    report = read_report(path, known_categories=KNOWN)
    assert report["withheld"].tolist() == [True, True, False]
    assert report["nil_report"].tolist() == [False, False, True]
    assert report["partner_status"].tolist() == ["blank", "blank", "blank"]
    assert report["category"].isna().tolist() == [True, False, True]


def test_unknown_columns_are_kept_after_the_others(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "reporting state,year,flow,basis,category,partner,End user\nChile,2024,export,actual,I,Peru,army\n",
        encoding="utf-8",
    )
    report = read_report(path, known_categories=KNOWN)
    assert list(report.columns) == [*REPORT_COLUMNS, "End user"]
    assert report["End user"].tolist() == ["army"]


def _xlsx(path: Path) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Exports"
    sheet.append(
        [
            "Reporting State",
            "Year",
            "Flow",
            "Basis",
            "Category",
            "Sub-category",
            "Final importing State",
            "Number of items",
            "Value",
            "Currency",
            "Withheld",
        ]
    )
    sheet.append(["France", 2024.0, "Export", "Actual", "VIII", "Small arms 2", "Belgique", 120, 95000.5, "EUR", None])
    sheet.append([])  # a blank spreadsheet row
    sheet.append(["France", 2024, "export", "actual", "VII", "b", "Estados Unidos", 3, None, None, None])
    sheet.append(["France", 2024, "export", "actual", "IV.a", None, 840, 2, 1.2e8, "EUR", False])
    imports = workbook.create_sheet("Imports")
    imports.append(["Reporting State", "Year", "Flow", "Basis", "Category", "Exporting State", "Items"])
    imports.append(["France", 2024, "import", "actual", "I", "Germany", 4])
    workbook.save(path)
    return path


def test_xlsx_first_sheet_numbers_and_subcategory(tmp_path: Path) -> None:
    report = read_report(_xlsx(tmp_path / "att.xlsx"), known_categories=KNOWN)
    assert report["source_row"].tolist() == [2, 4, 5]
    assert report["year"].tolist() == [2024, 2024, 2024]
    assert report["category"].tolist() == ["VIII.SA.2", "VII.b", "IV.a"]
    assert report["partner_iso3"].tolist() == ["BEL", "USA", "USA"]
    assert report["partner"].tolist() == ["Belgique", "Estados Unidos", "840"]
    assert report["value"].tolist()[0] == 95000.5
    assert report["value"].tolist()[2] == 120_000_000.0
    assert report["withheld"].tolist() == [False, False, False]


def test_xlsx_named_sheet(tmp_path: Path) -> None:
    report = read_report(_xlsx(tmp_path / "att.xlsx"), "Imports", known_categories=KNOWN)
    assert report[["flow", "category", "partner_iso3", "items"]].values.tolist() == [["import", "I", "DEU", 4]]


def test_xlsx_missing_sheet(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no sheet named 'Annex 3'"):
        read_report(_xlsx(tmp_path / "att.xlsx"), "Annex 3", known_categories=KNOWN)


# --- errors ---------------------------------------------------------------------------------------------------


def test_bad_category_names_row_and_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Peru,2024,export,actual,I,Chile,1,,,,,,,\nPeru,2024,export,actual,IX,Chile,1,,,,,,,\n")
    error = _error(path)
    assert (error.file, error.row, error.column) == ("att_report.csv", 3, "Category")
    assert str(error).startswith("att_report.csv, row 3, column 'Category': unknown category 'IX'")
    assert "\n" not in str(error)


def test_negative_items(tmp_path: Path) -> None:
    error = _error(_csv(tmp_path, "Peru,2024,export,actual,I,Chile,-3,,,,,,,\n"))
    assert (error.row, error.column) == (2, "Number of items")
    assert "negative" in error.message


def test_missing_currency(tmp_path: Path) -> None:
    error = _error(_csv(tmp_path, "Peru,2024,export,actual,I,Chile,2,500000,,,,,,\n"))
    assert (error.row, error.column) == (2, "Currency")
    assert "currency" in error.message


def test_problems_are_collected_in_row_order(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "Peru,2024,export,actual,I,Chile,1.5,,,,,,,\n"
        "Peru,24,export,maybe,I,Chile,1,,USD,,,,,\n"
        "Peru,2024,export,actual,Battle tanks,,1,10,XYZ,,,,,\n",
    )
    error = _error(path)
    where = [(problem.row, problem.column) for problem in error.problems]
    assert where == [
        (2, "Number of items"),
        (3, "Calendar year"),
        (3, "Authorised or actual"),
        (4, "Category"),
        (4, "Final importing State(s)"),
        (4, "Currency"),
    ]
    assert error.total == 6
    assert "and 5 more" in str(error)


def test_at_most_ten_problems_listed(tmp_path: Path) -> None:
    body = "".join(f"Peru,2024,export,actual,IX,Chile,{n},,,,,,,\n" for n in range(25))
    error = _error(_csv(tmp_path, body))
    assert len(error.problems) == MAX_PROBLEMS
    assert error.total == 25
    assert "15 not shown" in str(error)


def test_nil_row_must_be_empty_and_alone(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "Peru,2024,export,actual,I,,,,,,,,yes,\nPeru,2024,import,actual,,,,,,,,,yes,\nPeru,2024,import,actual,II,Chile,1,,,,,,,\n",
    )
    error = _error(path)
    assert [(p.row, p.column) for p in error.problems] == [(2, "Category"), (3, "Nil report")]
    assert "row 4" in error.problems[1].message


def test_missing_required_column(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("year,flow,basis,category,partner\n2024,export,actual,I,Chile\n", encoding="utf-8")
    error = _error(path)
    assert (error.row, error.column) == (1, None)
    assert "missing column 'reporting_state'" in error.message


def test_fields_stated_once_name_the_option_that_gives_them(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"  # a ministry's table: the title page gives State, year and basis
    path.write_text("Export or import,Category,Final importing State,Number of items\nexport,I,Chile,1\n", "utf-8")
    options = {"reporting_state": "--report-state", "year": "--report-year", "basis": "--report-basis"}
    error = _error(path, stated_by=options)
    assert [problem.message.split(" (")[0] for problem in error.problems] == [
        "missing column 'reporting_state'",
        "missing column 'year'",
        "missing column 'basis'",
    ]
    assert error.problems[0].message.endswith("give it once for the file with --report-state")
    assert error.problems[1].message.endswith("give it once for the file with --report-year")
    assert _error(path).problems[0].message.endswith("give it once for the file as reporting_state=…")


def test_blank_cells_of_a_field_stated_once_are_one_problem(tmp_path: Path) -> None:
    rows = "".join(f",,export,actual,VIII.SA.4,Ukraine,{n},,,,,,no,no\n" for n in range(1, 17))
    error = _error(_csv(tmp_path, rows), stated_by={"year": "--year"})
    assert [(p.row, p.column) for p in error.problems] == [(2, "Reporting State"), (2, "Calendar year")]
    assert "missing year on 16 rows (2, 3, 4, 5, 6 …); fill the cells, or give it once for the file with --year" in (
        error.problems[1].message
    )


def test_duplicate_meaning_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "reporter,year,flow,basis,category,partner,importing state\nPeru,2024,export,actual,I,Chile,Chile\n",
        encoding="utf-8",
    )
    error = _error(path)
    assert (error.row, error.column) == (1, "importing state")


def test_unquoted_comma_is_caught(tmp_path: Path) -> None:
    error = _error(_csv(tmp_path, "Peru,2024,export,actual,I,Korea, Rep.,1,,,,,,,no\n"))
    assert error.row == 2
    assert "quotes" in error.message


def test_unsupported_files_are_refused_and_other_encodings_read(tmp_path: Path) -> None:
    old_excel = tmp_path / "report.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match="unsupported file type"):
        read_report(old_excel, known_categories=KNOWN)
    line = "Côte d'Ivoire,2024,export,actual,I,Mali,1,,,,Char d’assaut – lot n° 2,,,\n"  # ’ and – only in cp1252
    for name, content in {
        "latin.csv": (TEMPLATE_HEADER + line.replace("’", "'").replace("–", "-")).encode("latin-1"),
        "windows-1252.csv": (TEMPLATE_HEADER + line).encode("cp1252"),
        "utf16.csv": (TEMPLATE_HEADER + line).encode("utf-16"),  # with its byte-order mark
        "mixed.csv": (TEMPLATE_HEADER + line).encode("utf-8") + line.replace("Mali", "Niger").encode("cp1252"),
    }.items():
        (tmp_path / name).write_bytes(content)
        report = read_report(tmp_path / name, known_categories=KNOWN)
        assert set(report["reporting_state"]) == {"Côte d'Ivoire"}, name
        written = "Char d'assaut - lot n° 2" if name == "latin.csv" else "Char d’assaut – lot n° 2"
        assert set(report["description"]) == {written}, name


# --- categories and numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I", "I"),
        ("i", "I"),
        ("Category I", "I"),
        ("I. Battle tanks", "I"),
        ("IV.a", "IV.a"),
        ("IV (a)", "IV.a"),
        ("IVb", "IV.b"),
        ("V(b)", "V.b"),
        ("VII.b", "VII.b"),
        ("VII(b)", "VII.b"),
        ("VII b", "VII.b"),
        ("VIIb", "VII.b"),
        ("VII.b MANPADS", "VII.b"),
        ("VIII", "VIII"),
        ("VIII.SA.4", "VIII.SA.4"),
        ("VIII SA 4", "VIII.SA.4"),
        ("VIII-SA-4", "VIII.SA.4"),
        ("VIII Small arms 4", "VIII.SA.4"),
        ("Small arms 4", "VIII.SA.4"),
        ("SA4", "VIII.SA.4"),
        ("small arms 4 assault rifles", "VIII.SA.4"),
        ("Small arms", "VIII.SA"),
        ("VIII.LW.6", "VIII.LW.6"),
        ("Light weapons 6", "VIII.LW.6"),
        ("LW.7", "VIII.LW.7"),
        ("ART3", "ART3"),
        ("Art. 3", "ART3"),
        ("Article 4", "ART4"),
        ("VII. Missiles and missile launchers - a)", "VII.a"),  # the sub-category's letter after the name
        ("Small arms and light weapons", "VIII"),
        ("SALW", "VIII"),
        ("Small Arms and Light Weapons - Light Weapons - 3. Portable anti-tank guns", "VIII.LW.3"),  # a heading path
        ("IV Combat aircraft (b) unmanned", "IV.b"),
    ],
)
def test_category_spellings(text: str, category: str) -> None:
    assert parse_category(text) == category


@pytest.mark.parametrize(
    "text",
    ["IX", "Battle tanks", "VIII 4", "VII c", "I 2", "Art. 5", "8", "X", "VIII.SA.4.1", "Small arms or light weapons"],
)
def test_category_spellings_refused(text: str) -> None:
    with pytest.raises(ValueError, match="unknown category"):
        parse_category(text)


def test_a_category_named_instead_of_numbered_is_read_by_its_name(tmp_path: Path, kb) -> None:
    """A report that writes the category's name ("Battle tanks", as the template's row headings do) is read
    by the knowledge base's names; a name no category has is still refused, naming the row."""
    rows = [
        "Battle tanks",
        "ASSAULT RIFLES",
        "Combat aircraft, unmanned (unmanned combat aerial vehicles)",
        "Armored combat vehicles",
        "Small arms and light weapons",  # VIII, not the small arms ("SA") its words start with
    ]
    path = _csv(tmp_path, "".join(f'Peru,2024,export,actual,"{row}",Chile,1,,,,,,,\n' for row in rows))
    read = ["I", "VIII.SA.4", "IV.b", "II", "VIII"]  # "Armored" in US spelling
    assert read_report(path, known_categories=kb.categories)["category"].tolist() == read
    assert read_report(path)["category"].tolist() == read  # the shipped knowledge base
    with pytest.raises(ReportError, match="unknown category"):
        read_report(path, known_categories=KNOWN)  # IDs alone: no names to read
    refused = _csv(tmp_path, "Peru,2024,export,actual,Space lasers,Chile,1,,,,,,,\n", name="other.csv")
    with pytest.raises(ReportError, match="row 2, column 'Category': unknown category 'Space lasers'"):
        read_report(refused, known_categories=kb.categories)


def test_a_report_in_french_or_spanish_names_categories_as_the_treaty_texts_do(tmp_path: Path, kb) -> None:
    """France reports in French, Spain and Latin America in Spanish: the category names of the ATT's French
    and Spanish texts (and the UN Register's French ones) read as the English names do."""
    rows = {
        "Chars de combat": "I",
        "Chars de bataille": "I",  # the UN Register's French
        "VÉHICULES BLINDÉS DE COMBAT": "II",
        "Hélicoptères d'attaque": "V",
        "Navires de guerre": "VI",
        "Armes légères et de petit calibre": "VIII",
        "Munitions": "ART3",
        "Carros de combate": "I",
        "Sistemas de artilleria de gran calibre": "III",  # accents left out
        "Aeronaves de combate": "IV",
        "Misiles y lanzamisiles": "VII",
        "Piezas y componentes": "ART4",
    }
    path = _csv(tmp_path, "".join(f'France,2024,export,actual,"{row}",Chile,1,,,,,,,\n' for row in rows))
    assert read_report(path, known_categories=kb.categories)["category"].tolist() == list(rows.values())
    refused = _csv(tmp_path, "France,2024,export,actual,Chars d'assaut,Chile,1,,,,,,,\n", name="other.csv")
    with pytest.raises(ReportError, match="unknown category"):
        read_report(refused, known_categories=kb.categories)


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (
            "État déclarant,Année,Flux,Base,Catégorie,État importateur final,Nombre d'articles,Valeur,Monnaie,"
            "Description de l'article,Observations",
            "France,2023,Exportations,Livraisons,Chars de combat,Inde,4,1200000,EUR,Leclerc,",
            ("FRA", "IND", "Leclerc"),
        ),
        (
            "Estado informante,Año,Flujo,Base,Categoría,Estado importador final,Número de artículos,Valor,Moneda,"
            "Descripción del artículo,Observaciones",
            "España,2023,Exportaciones,Realizadas,Carros de combate,Perú,4,1200000,EUR,Leopard 2,",
            ("ESP", "PER", "Leopard 2"),
        ),
    ],
)
def test_a_report_with_french_or_spanish_headers_is_read(tmp_path: Path, kb, header, row, expected) -> None:
    path = tmp_path / "report.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    read = read_report(path, known_categories=kb.categories).iloc[0]
    fields = ["year", "flow", "basis", "category", "items", "value", "currency"]
    assert [read[field] for field in fields] == [2023, "export", "actual", "I", 4, 1200000.0, "EUR"]
    assert (read["reporting_state_iso3"], read["partner_iso3"], read["description"]) == expected


def test_category_outside_known_set_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Peru,2024,export,actual,VIII.SA.9,Chile,1,,,,,,,\n")
    assert "not a known category" in _error(path).message


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1250000", 1_250_000.0),
        ("1,250,000.50", 1_250_000.5),
        ("1 250 000", 1_250_000.0),
        ("1.250.000,75", 1_250_000.75),
        ("12,5", 12.5),
        ("0", 0.0),
        ("3.75", 3.75),
    ],
)
def test_value_notations(tmp_path: Path, text: str, value: float) -> None:
    path = _csv(tmp_path, f'Peru,2024,export,actual,I,Chile,1,"{text}",USD,,,,,\n')
    assert read_report(path, known_categories=KNOWN)["value"].iloc[0] == value


@pytest.mark.parametrize("marker", ["N/A", "n/a", "-", "\u2013", "not available"])
def test_a_figure_marked_not_given_is_read_as_not_given(tmp_path: Path, marker: str) -> None:
    """Reports write "N/A" in the items cell where they give the value, and the other way round."""
    path = _csv(tmp_path, f'Peru,2024,export,actual,I,Chile,{marker},"1,250,000",USD,,,,,\n')
    report = read_report(path, known_categories=KNOWN)
    assert pd.isna(report["items"].iloc[0]) and report["value"].iloc[0] == 1_250_000.0


def test_a_figure_that_is_no_number_is_still_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Peru,2024,export,actual,I,Chile,approx. 10,,,,,,,\n")
    assert "'approx. 10' is not a number" in _error(path).message


# --- schema, template, example --------------------------------------------------------------------------------


def test_model_rules() -> None:
    line = {"reporting_state": "Peru", "year": 2024, "flow": "export", "basis": "actual"}
    ReportLine.model_validate(line | {"category": "I", "partner": "Chile", "items": 2})
    ReportLine.model_validate(line | {"nil_report": True})
    for bad in (
        {"category": "I", "partner": "Chile", "value": 10.0},
        {"category": "I", "partner": "Chile", "items": -1},
        {"category": "I"},
        {"nil_report": True, "category": "I"},
        {"category": "I", "partner": "Chile", "flow": "transit"},
    ):
        with pytest.raises(ValidationError):
            ReportLine.model_validate(line | bad)


def test_schema_markdown_lists_every_field() -> None:
    markdown = report_schema_markdown()
    assert markdown.startswith("| field | type | required | accepted headers | meaning |")
    for name in REPORT_FIELDS:
        assert f"| `{name}` |" in markdown
    assert "`final importing state`" in markdown


def test_template_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "att_report.xlsx"
    write_report_template(path, {"I": "Battle tanks", "VII.b": "MANPADS", "VIII.SA.4": "Assault rifles"})
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["report", "categories", "fields"]
    assert [cell.value for cell in workbook["report"][1]] == list(REPORT_FIELDS)
    assert [row[0] for row in workbook["categories"].iter_rows(min_row=2, values_only=True)] == [
        "I",
        "VII.b",
        "VIII.SA.4",
    ]
    assert workbook["fields"].max_row == len(REPORT_FIELDS) + 1
    assert read_report(path, known_categories=KNOWN).empty
    workbook["report"].append(["Austria", 2024, "export", "actual", "VIII.SA.4", "Switzerland", 50])
    workbook.save(path)
    report = read_report(path, known_categories=KNOWN)
    assert report[["category", "partner_iso3", "items"]].values.tolist() == [["VIII.SA.4", "CHE", 50]]


def test_example_report_reads_and_every_line_fits_the_model() -> None:
    report = read_report(EXAMPLE, known_categories=KNOWN)
    assert 12 <= len(report) <= 25
    assert report["withheld"].sum() == 1
    assert set(report["currency"].dropna()) == {"EUR"}
    assert (report["partner_status"] != "unknown").all()
    assert report["source_row"].is_monotonic_increasing
    for record in report[list(REPORT_FIELDS)].to_dict("records"):
        clean = {key: (None if pd.isna(value) else value) for key, value in record.items()}
        ReportLine.model_validate(clean)


def test_may_be_made_public_and_national_definitions_are_optional_fields(tmp_path: Path) -> None:
    header = TEMPLATE_HEADER.rstrip("\n") + ",Report may be made public,National definition\n"
    body = (
        "Austria,2023,export,actual,VIII.SA.1,Switzerland,360,,,,,,no,no,yes,\n"
        "Austria,2023,export,actual,IV,Saudi Arabia,1,,,,,,no,no,,Combat aircraft incl. armed trainers\n"
    )
    report = read_report(_csv(tmp_path, body, header), known_categories=KNOWN)
    assert report["public"].tolist() == [True, pd.NA]
    assert report["national_definition"].fillna("").tolist() == ["", "Combat aircraft incl. armed trainers"]
    assert read_report(EXAMPLE, known_categories=KNOWN)["public"].isna().all()  # reports without the field
    disagreeing = body.replace(",no,no,,Combat", ",no,no,no,Combat")
    with pytest.raises(ReportError) as raised:
        read_report(_csv(tmp_path, disagreeing, header, name="other.csv"), known_categories=KNOWN)
    assert raised.value.column == "Report may be made public"
    assert "disagree on whether it may be made public" in str(raised.value)
