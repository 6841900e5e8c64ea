"""ATT annual reports (Art. 13(3)) as a tidy table: one row per reported transfer line.

The ATT reporting template (2017; the CSP7 revision is not yet checked) has an exports table and an imports
table, each with a category, the final importing (or exporting) State, the number of items and/or the value,
the State of origin, a description and comments, plus a nil-report annex and a report-level choice of
"authorized" or "actual" transfers. hsmap reads both tables as one sheet, a row per line, so that a
reconciliation can join on year × flow × partner × category. ``flow`` and ``basis`` are per row (the
template's report-level choice becomes the default), which reads the 2017 layout and a per-row revision
alike.

:class:`ReportLine` defines the fields: their pydantic definition is the documentation
(:func:`report_schema_markdown`) and the column list. :func:`read_report` validates a whole file with pandas
(each distinct cell value is parsed once) and raises :class:`ReportError`, an :class:`InputError` naming the
file, the spreadsheet row and the column, with the first problems listed.

Category cells accept the IDs of ``mappings/categories.yaml`` and the template's spellings: ``VII.b``,
``VII(b)``, ``VII b`` and ``VIIb``; ``VIII.SA.4``, ``VIII SA 4``, ``VIII Small arms 4``, ``Small arms 4``,
``SA4``; ``VIII.LW.6``, ``Light weapons 6``; ``VIII``, ``Small arms and light weapons``, ``SALW``, and a
heading path (``Small arms and light weapons - Light weapons - 3. …``); ``ART3``, ``Art. 3``, ``Article 4``.
An ID may be followed by its name (``I Battle tanks``, ``VII.b MANPADS``); the name is not checked, the ID
decides, and a sub-category's letter may follow the name (``VII. Missiles and missile launchers - a)``). A name
alone is read when it is, word for word (case, accents, punctuation and US spellings aside), the name of one
category of the knowledge base (``Battle tanks``, ``Assault rifles``, ``Combat aircraft, unmanned (unmanned
combat aerial vehicles)``); any other name is refused, since names differ across the template's versions and a
near miss could be another category. A number of items or a value written as ``N/A``, ``-`` or ``not
available`` is a figure not given, as an empty cell is.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import numpy as np
import pandas as pd
import pycountry
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hsmap.countries import PartnerIndex, normalize_partners
from hsmap.errors import InputError
from hsmap.io import cell_text, read_cells, tidy_text

MAX_PROBLEMS = 10
FIRST_YEAR, LAST_YEAR = 1992, 2100  # the UN Register's first reporting year; a sanity bound above

Flow = Literal["export", "import"]
Basis = Literal["authorized", "actual"]


def _field(description: str, headers: Iterable[str], required: str, **kwargs: Any) -> Any:
    """A model field carrying the accepted column headers and when it is required (for the docs)."""
    extra = {"headers": list(headers), "required": required}
    return Field(description=description, json_schema_extra=extra, **kwargs)  # type: ignore[arg-type]


class ReportLine(BaseModel):
    """One line of an ATT annual report: a transfer, a withheld line, or a nil report for a flow and year."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reporting_state: str = _field(
        "The State that submits the report (free text or ISO code).",
        [
            "reporting state",
            "reporting country",
            "reporter",
            "reporting state party",
            "state party",
            "etat declarant",
            "etat partie declarant",
            "pays declarant",
            "estado informante",
            "estado parte informante",
            "estado declarante",
            "pais declarante",
        ],
        "yes (or given once for the whole file)",
        min_length=1,
    )
    year: int = _field(
        "Calendar year covered (1 January – 31 December).",
        [
            "year",
            "calendar year",
            "reporting year",
            "reporting period",
            "period",
            "annee",
            "ano",
            "annee civile",
            "periode",
            "ano civil",
            "periodo",
        ],
        "yes (or given once for the whole file)",
        ge=FIRST_YEAR,
        le=LAST_YEAR,
    )
    flow: Flow = _field(
        "Which table of the template the line belongs to: `export` or `import`.",
        [
            "flow",
            "trade flow",
            "direction",
            "export or import",
            "export import",
            "exports imports",
            "table",
            "flux",
            "exportation ou importation",
            "tableau",
            "flujo",
            "exportacion o importacion",
            "cuadro",
        ],
        "yes (or given once for the whole file)",
    )
    basis: Basis = _field(
        "Whether the line reports `authorized` transfers (licences) or `actual` ones (deliveries); the two "
        "are never added together.",
        [
            "basis",
            "authorized or actual",
            "authorised or actual",
            "authorized actual",
            "authorised actual",
            "reporting basis",
            "base",
            "autorisees ou reelles",
            "reelles ou autorisees",
            "autorizadas o reales",
            "reales o autorizadas",
        ],
        "yes (or given once for the whole file)",
    )
    category: str | None = _field(
        "ATT category ID (I … VIII, sub-categories such as VII.b or VIII.SA.4); template spellings such as "
        "`VII(b)` or `Small arms 4`, and a category's exact name (`Battle tanks`), are accepted and written back as "
        "IDs. `ART3` (ammunition) and `ART4` "
        "(parts) are read too, but the template's tables cover the Art. 2(1) categories only: they are "
        "voluntary information.",
        [
            "category",
            "att category",
            "categories",
            "category of arms",
            "weapon category",
            "categorie",
            "categoria",
            "categorie d armes",
            "categories d armes",
            "categoria de armas",
            "categorias",
        ],
        "yes, except on nil-report and withheld rows",
        default=None,
    )
    partner: str | None = _field(
        "Final importing State (exports) or exporting State (imports), as written; `partner_iso3` gives "
        "the ISO 3166 code.",
        [
            "partner",
            "partner state",
            "partner country",
            "final importing state",
            "importing state",
            "final importer state",
            "importer",
            "importer state",
            "exporting state",
            "exporter",
            "exporter state",
            "destination",
            "country of destination",
            "destination country",
            "state of destination",
            "etat importateur final",
            "etat importateur",
            "etat exportateur",
            "pays de destination",
            "estado importador final",
            "estado importador",
            "estado exportador",
            "pais de destino",
        ],
        "yes, except on nil-report and withheld rows",
        default=None,
    )
    items: int | None = _field(
        "Number of items (a whole number, 0 or more).",
        [
            "items",
            "number of items",
            "no of items",
            "nr of items",
            "number",
            "quantity",
            "qty",
            "units",
            "nombre d articles",
            "nombre d unites",
            "quantite",
            "numero de articulos",
            "numero de unidades",
            "cantidad",
        ],
        "no",
        default=None,
        ge=0,
    )
    value: float | None = _field(
        "Value of the transfer (0 or more), in `currency`.",
        [
            "value",
            "financial value",
            "value of items",
            "monetary value",
            "amount",
            "valeur",
            "valeur financiere",
            "montant",
            "valor",
            "valor financiero",
            "monto",
            "importe",
        ],
        "no",
        default=None,
        ge=0,
    )
    currency: str | None = _field(
        "ISO 4217 code of the value's currency (EUR, USD …).",
        ["currency", "currency code", "value currency", "monnaie", "devise", "moneda", "divisa"],
        "when a value is given",
        default=None,
        pattern=r"^[A-Z]{3}$",
    )
    state_of_origin: str | None = _field(
        "State of origin, if not the exporter.",
        [
            "state of origin",
            "country of origin",
            "origin",
            "etat d origine",
            "pays d origine",
            "estado de origen",
            "pais de origen",
        ],
        "no",
        default=None,
    )
    description: str | None = _field(
        "Description of the item: model, type, variant.",
        [
            "description",
            "description of item",
            "description of items",
            "item description",
            "model",
            "description de l article",
            "description des articles",
            "modele",
            "descripcion",
            "descripcion del articulo",
            "descripcion de los articulos",
            "modelo",
        ],
        "no",
        default=None,
    )
    comments: str | None = _field(
        "Comments on the transfer (end user, temporary export, government-to-government …).",
        [
            "comments",
            "comment",
            "comments on the transfer",
            "remarks",
            "notes",
            "note",
            "commentaires",
            "commentaires sur le transfert",
            "observations",
            "remarques",
            "comentarios",
            "comentarios sobre la transferencia",
            "observations sur le transfert",
            "observaciones sobre la transferencia",
            "observaciones",
        ],
        "no",
        default=None,
    )
    nil_report: bool = _field(
        "`yes` on a row saying there is nothing to report for this flow and year (template Annex 3); "
        "category, partner, items and value stay empty.",
        [
            "nil report",
            "nil",
            "nothing to report",
            "nil return",
            "rapport neant",
            "neant",
            "informe nulo",
            "nada que informar",
        ],
        "no (default no)",
        default=False,
    )
    withheld: bool = _field(
        "`yes` when the line's data were withheld as commercially sensitive or for national security "
        "(ATT Art. 13(3)); category and partner may then be empty.",
        ["withheld", "data withheld", "information withheld", "confidential", "commercially sensitive"],
        "no (default no)",
        default=False,
    )
    public: bool | None = _field(
        "Whether the report may be made public: the template asks it once per report, so every row of a "
        "report and table that gives it gives the same answer; empty when not stated.",
        ["public", "may be made public", "report may be made public", "make public", "publicly available"],
        "no",
        default=None,
    )
    national_definition: str | None = _field(
        "The State's national definition of the line's category, where it reports by its own definition "
        "instead of the UN Register's (template Annex 2).",
        [
            "national definition",
            "national definitions",
            "national definition of category",
            "annex 2",
            "definition nationale",
            "definicion nacional",
        ],
        "no",
        default=None,
    )

    @model_validator(mode="after")
    def _coherent(self) -> ReportLine:
        if self.value is not None and self.currency is None:
            raise ValueError("a value needs its currency")
        if self.nil_report and any(v is not None for v in (self.category, self.partner, self.items, self.value)):
            raise ValueError("a nil report leaves category, partner, items and value empty")
        if not (self.nil_report or self.withheld) and (self.category is None or self.partner is None):
            raise ValueError("a transfer line needs a category and a partner")
        return self


REPORT_FIELDS: tuple[str, ...] = tuple(ReportLine.model_fields)
DERIVED_COLUMNS = ("reporting_state_iso3", "partner_iso3", "partner_status", "partner_note")
REPORT_COLUMNS: tuple[str, ...] = ("source_row", *REPORT_FIELDS, *DERIVED_COLUMNS)
_REQUIRED_COLUMNS = ("reporting_state", "year", "flow", "basis", "category", "partner")
STATED_ONCE = ("reporting_state", "year", "flow", "basis")  # fields a report may state once, on its title page
_TEXT_FIELDS = (
    "reporting_state",
    "category",
    "partner",
    "currency",
    "state_of_origin",
    "description",
    "comments",
    "national_definition",
)
_SUBCATEGORY_HEADERS = ("subcategory", "sub category")

_FLOWS = {
    "export": ("export", "exports", "exported", "exportation", "exportations", "exportacion", "exportaciones"),
    "import": ("import", "imports", "imported", "importation", "importations", "importacion", "importaciones"),
}
_BASES = {
    "authorized": (
        "authorized",
        "authorised",
        "authorization",
        "authorisation",
        "authorizations",
        "authorisations",
        "licence",
        "licences",
        "license",
        "licenses",
        "licensed",
        "autorisation",
        "autorisations",
        "autorise",
        "autorizacion",
        "autorizaciones",
        "autorizado",
        "autorises",
        "autorisees",
        "autorizadas",
        "autorizados",
        "licencias",
    ),
    "actual": (
        "actual",
        "actual transfers",
        "actual exports",
        "actual imports",
        "delivered",
        "deliveries",
        "delivery",
        "effective",
        "reel",
        "reelles",
        "real",
        "reales",
        "efectivo",
        "efectivas",
        "reels",
        "effectives",
        "livraisons",
        "realizadas",
        "entregas",
    ),
}
# what reports write in a figure's cell when they give no figure ("N/A" where the value is given, not the items)
_NOT_GIVEN = frozenset(
    {"n/a", "n.a.", "n.a", "na", "-", "\u2013", "\u2014", "not available", "not applicable", "unknown"}
)
_TRUE = ("yes", "y", "true", "1", "x", "oui", "si", "ja", "nil", "withheld", "\u2713", "\u2714")
_FALSE = ("no", "n", "false", "0", "non")

_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
_LETTERED = ("IV", "V", "VII")  # the template splits these into (a) and (b)
_PARTS = ("SA", "LW", "ART")  # the words an ID is built of besides its Roman number
_GLUED = re.compile(r"^(VIII|VII|VI|IV|V|III|II|I)(A|B|SA|LW)?(\d)?$|^(SA|LW|ART)(\d)$")
_CATEGORY_WORDS = (
    ("SMALL ARMS AND LIGHT WEAPONS", " VIII "),  # the template's heading over both, and its acronym
    ("SALW", " VIII "),
    ("SMALL ARMS", " SA "),
    ("LIGHT WEAPONS", " LW "),
    ("ARTICLE", " ART "),
    ("ARMORED", "ARMOURED"),  # US spellings of the categories' names
    ("CALIBER", "CALIBRE"),
    ("DEFENSE", "DEFENCE"),
)
_CATEGORY_PREFIXES = ("CATEGORY", "CATEGORIE", "CATEGORIA", "CAT")
_ID_EXAMPLES = "I, VII.b, VIII.SA.4, ART3"

_THOUSANDS_COMMA = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")  # 1,250 or 12,500,000.50
_THOUSANDS_SPACE = re.compile(r"^\d{1,3}(?:[ '\u00a0\u202f]\d{3})+(?:[.,]\d+)?$")  # 12 500 000 or 1'250.5
_THOUSANDS_DOT = re.compile(r"^\d{1,3}(?:\.\d{3})+,\d+$")  # 1.250,75: unambiguous European form
_PLAIN = re.compile(r"^\d+(?:\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$|^\d+,\d{4,}$")  # 12,5: cannot be a thousands separator


class ReportError(InputError):
    """Problems in an ATT report file: the first one is the message; ``problems`` lists up to ten."""

    def __init__(self, problems: list[InputError], total: int) -> None:
        self.problems = problems
        self.total = total
        first = problems[0]
        message = first.message
        if total > 1:
            others = "; ".join(_where(problem) for problem in problems[1:])
            more = total - len(problems)
            message += f" (and {total - 1} more: {others}{f'; {more} not shown' if more else ''})"
        super().__init__(first.file, first.row, first.column, message)


def _where(problem: InputError) -> str:
    parts = [f"row {problem.row}"] if problem.row is not None else []
    if problem.column:
        parts.append(f"column '{problem.column}'")
    return f"{', '.join(parts)}: {problem.message}" if parts else problem.message


# --- reading cells ------------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Casefolded, accent-free, punctuation as single spaces: the form headers and keywords are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.findall(r"[a-z0-9\u2713\u2714]+", stripped))


def _header_key(text: str) -> str:
    return _plain(re.sub(r"\([^)]*\)", " ", text))


# --- parsing values (each distinct value once) --------------------------------------------------------------


def _keyword(table: Mapping[str, tuple[str, ...]], what: str) -> Callable[[str], str]:
    lookup = {_plain(word): canonical for canonical, words in table.items() for word in words}
    choices = " or ".join(table)

    def parse(text: str) -> str:
        found = lookup.get(_plain(text))
        if found is None:
            raise ValueError(f"{what} {text!r} is not {choices}")
        return found

    return parse


_parse_flow = _keyword(_FLOWS, "flow")
_parse_basis = _keyword(_BASES, "basis")


def _parse_bool(text: str) -> bool:
    key = _plain(text)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"{text!r} is not yes or no")


def _parse_year(text: str) -> int:
    if not re.fullmatch(r"\d{4}", text):
        raise ValueError(f"year {text!r} is not a four-digit year")
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is outside {FIRST_YEAR}–{LAST_YEAR}")
    return year


def _number(text: str) -> float:
    """A non-negative amount, in English notation unless the European form is unmistakable."""
    body = text.replace("\u00a0", " ").strip()
    negative = body.startswith(("-", "\u2212"))
    if negative:
        body = body[1:].strip()
    if _PLAIN.match(body):
        number = float(body)
    elif _THOUSANDS_COMMA.match(body):
        number = float(body.replace(",", ""))
    elif _THOUSANDS_SPACE.match(body):
        number = float(re.sub(r"[ '\u00a0\u202f]", "", body).replace(",", "."))
    elif _THOUSANDS_DOT.match(body):
        number = float(body.replace(".", "").replace(",", "."))
    elif _DECIMAL_COMMA.match(body):
        number = float(body.replace(",", "."))
    else:
        raise ValueError(f"{text!r} is not a number")
    if not math.isfinite(number):  # 1e309 overflows to infinity
        raise ValueError(f"{text!r} is too large to be a number of items or a value")
    if negative and number != 0:
        raise ValueError(f"negative number {text!r}; must be 0 or more")
    return number


def _parse_items(text: str) -> int:
    number = _number(text)
    if not number.is_integer():
        raise ValueError(f"number of items {text!r} is not a whole number")
    return int(number)


def _parse_value(text: str) -> float:
    return _number(text)


def _parse_currency(text: str) -> str:
    code = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code) or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"currency {text!r} is not an ISO 4217 code such as EUR or USD")
    return code


def _category_words(text: str) -> list[str]:
    upper = unicodedata.normalize("NFKD", text.upper())
    upper = "".join(char for char in upper if not unicodedata.combining(char))
    for phrase, token in _CATEGORY_WORDS:
        upper = upper.replace(phrase, token)
    words: list[str] = []
    for word in re.findall(r"[A-Z0-9]+", upper):
        glued = _GLUED.match(word)
        words.extend(part for part in glued.groups() if part) if glued else words.append(word)
    while words and words[0] in _CATEGORY_PREFIXES:
        words.pop(0)
    # a heading path repeats a level ("Small arms and light weapons - Light weapons - 3. …" is VIII LW LW 3 …)
    return [word for position, word in enumerate(words) if position == 0 or word != words[position - 1]]


def parse_category(text: str) -> str:
    """The category ID a cell means, in the spelling of ``categories.yaml``; ValueError if it cannot tell.

    >>> [parse_category(t) for t in ("VII(b)", "viii sa 4", "Small arms 4", "Art. 3", "I Battle tanks")]
    ['VII.b', 'VIII.SA.4', 'VIII.SA.4', 'ART3', 'I']
    >>> parse_category("VII. Missiles and missile launchers - a)"), parse_category("IV Combat aircraft (b) unmanned")
    ('VII.a', 'IV.b')
    """
    words = _category_words(text)
    refused = ValueError(f"unknown category {text!r} (write an ID such as {_ID_EXAMPLES})")
    if not words:
        raise refused
    if words[0] == "ART":
        if len(words) < 2 or words[1] not in ("3", "4"):
            raise refused
        category, rest = f"ART{words[1]}", words[2:]
    else:
        if words[0] in ("SA", "LW"):
            words.insert(0, "VIII")
        if words[0] not in _ROMAN:
            raise refused
        category, position = words[0], 1
        following = words[position] if position < len(words) else ""
        if category in _LETTERED and following in ("A", "B"):
            category, position = f"{category}.{following.lower()}", position + 1
        elif category == "VIII" and following in ("SA", "LW"):
            category, position = f"VIII.{following}", position + 1
            if position < len(words) and words[position].isdigit():
                category, position = f"{category}.{words[position]}", position + 1
        rest = words[position:]
        marks = [word for word in rest if word in ("A", "B")]
        if category in _LETTERED and len(marks) == 1:  # the sub-category after its name: "VII Missiles … a)"
            category = f"{category}.{marks[0].lower()}"
            rest = [word for word in rest if word not in marks]
    if rest and not (len(rest[0]) > 2 and all(word.isalpha() and word not in _ROMAN + _PARTS for word in rest)):
        raise refused  # "Small arms and light weapons" names two categories: no ID of either
    return category


def _category_names(categories: Iterable[str] | Mapping[str, Any]) -> dict[tuple[str, ...], str]:
    """The categories' names (``categories.yaml``, in English, French and Spanish), compared as category cells
    are (case, accents, "small arms"/"SA" alike), when ``categories`` holds them: a report may write "Battle
    tanks" or "Chars de combat" for I."""
    if not isinstance(categories, Mapping):
        return {}
    named = [(tuple(_category_words(name)), cid) for cid, found in categories.items() for name in _names_of(found)]
    shared = Counter(key for key, _ in named)
    return {key: cid for key, cid in named if shared[key] == 1}  # a name two categories share reads as neither


def _names_of(category: Any) -> list[str]:
    """A category's name and its names in other languages (none for a plain ID)."""
    other_languages = getattr(category, "names", {}).values()
    given = [getattr(category, "name", None), *(name for names in other_languages for name in names)]
    return [name for name in given if isinstance(name, str)]


def _parse_category(known: frozenset[str], names: Mapping[tuple[str, ...], str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        category = names.get(tuple(_category_words(text))) or parse_category(text)  # a name first: "Battle tanks"
        if category not in known:
            raise ValueError(f"unknown category {text!r} (read as {category}, which is not a known category)")
        return category

    return parse


def _parse_column(cells: pd.Series, parse: Callable[[str], object]) -> tuple[pd.Series, pd.Series]:
    """Parse each distinct non-blank cell once; return the values and the error messages, both by row."""
    parsed: dict[str, object] = {}
    errors: dict[str, str] = {}
    for text in cells.unique():
        if text == "":
            continue
        try:
            parsed[text] = parse(text)
        except ValueError as error:
            errors[text] = str(error)
    values = cells.map(parsed) if parsed else pd.Series(np.nan, index=cells.index, dtype=object)
    messages = cells.map(errors) if errors else pd.Series(np.nan, index=cells.index, dtype=object)
    return values, messages


# --- the reader ---------------------------------------------------------------------------------------------


def _header_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for name, info in ReportLine.model_fields.items():
        extra = info.json_schema_extra
        headers = extra.get("headers", []) if isinstance(extra, dict) else []
        for header in [name, *headers]:  # type: ignore[misc]
            lookup[_header_key(str(header))] = name
    return lookup


class _Problems:
    """Problems found column by column, kept as small frames so that millions of rows stay vectorised."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.frames: list[pd.DataFrame] = []
        self.header: list[InputError] = []

    def add(self, rows: pd.Index, column: str, order: int, messages: object) -> None:
        """Record one message (or one per row) for ``rows`` of a column; ``order`` sorts columns."""
        if len(rows):
            frame = pd.DataFrame({"row": rows, "order": order, "column": column, "message": messages})
            self.frames.append(frame)

    def raise_if_any(self) -> None:
        if self.header:
            raise ReportError(self.header[:MAX_PROBLEMS], len(self.header))
        if not self.frames:
            return
        table = pd.concat(self.frames, ignore_index=True).sort_values(["row", "order"], kind="stable")
        first = table.head(MAX_PROBLEMS)
        problems = [
            InputError(self.shown, int(row), column, message)
            for row, column, message in first[["row", "column", "message"]].itertuples(index=False)
        ]
        raise ReportError(problems, len(table))


def read_report(
    source: Path | str | pd.DataFrame,
    sheet: str | None = None,
    *,
    known_categories: Iterable[str] | None = None,
    reporting_state: str | None = None,
    year: int | None = None,
    flow: Flow | None = None,
    basis: Basis | None = None,
    partner_index: PartnerIndex | None = None,
    stated_by: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read an ATT annual report (.csv or .xlsx, or a DataFrame holding the sheet: its column names are the
    header row) into the tidy table of :data:`REPORT_COLUMNS`.

    Headers are matched case- and accent-insensitively against each field's accepted names (see
    :func:`report_schema_markdown`); a ``subcategory`` column, if present, is appended to ``category``.
    ``reporting_state``, ``year``, ``flow`` and ``basis`` fill the column when it is absent and any blank
    cell, for reports that state them once on the title page; ``stated_by`` names how the caller lets a
    person give each of them (``{"year": "--report-year"}``), so that the message about a missing column or
    blank cells names the fix. ``known_categories`` are the knowledge base's categories (default: the shipped
    one's): their IDs, or ``Knowledge.categories`` itself, whose names a cell may then give instead of an ID
    ("Battle tanks", "Assault rifles"). Rows keep
    their order; wholly blank rows are skipped, and ``source_row`` is the spreadsheet row (header = 1) of each
    line. Columns the reader does not know are kept, after the others. Raises :class:`ReportError` listing up
    to ten problems.
    """
    if isinstance(source, pd.DataFrame):
        shown, csv_file = "report", False
        cells = [
            [tidy_text(cell_text(cell)) for cell in row]
            for row in [list(source.columns), *source.astype("object").itertuples(index=False)]
        ]
    else:
        path = Path(source)
        shown, csv_file = path.name, path.suffix.lower() == ".csv"
        cells = read_cells(path, sheet, shown)
    if known_categories is None:
        from hsmap.knowledge import load_knowledge

        known_categories = load_knowledge().categories
    if not cells or not any(cells[0]):
        raise InputError(shown, 1, None, "no header row")
    width = max(len(row) for row in cells)
    grid = pd.DataFrame([row + [""] * (width - len(row)) for row in cells], dtype=object).astype(str)
    headers = list(grid.iloc[0])
    body = grid.iloc[1:]
    body.index = pd.RangeIndex(2, len(grid) + 1, name="source_row")
    body = body[(body != "").any(axis=1)]

    problems = _Problems(shown)
    layout = _map_headers(headers, body, shown, problems, csv_file=csv_file)
    columns, shown_header, subcategory, extras = layout
    defaults: dict[str, object] = {"reporting_state": reporting_state, "year": year, "flow": flow, "basis": basis}
    for name in _REQUIRED_COLUMNS:
        if name not in columns and defaults.get(name) is None:
            accepted = ", ".join(repr(h) for h in _field_headers(name)[:4])
            stated = name in STATED_ONCE
            fix = f"; if the report states it once for the file, {_give(name, stated_by)}" if stated else ""
            problems.header.append(
                InputError(shown, 1, None, f"missing column {name!r} (headers accepted: {accepted} …){fix}")
            )
    problems.raise_if_any()

    def cells_of(name: str) -> pd.Series:
        if name not in columns:
            return pd.Series("", index=body.index, dtype=object)
        return body[columns[name]].astype(object)

    def header_of(name: str) -> str:
        return shown_header.get(name, name)

    order = {name: position for position, name in enumerate(REPORT_FIELDS)}
    raw = {name: cells_of(name) for name in REPORT_FIELDS}
    if subcategory is not None:
        extra = body[subcategory].astype(object)
        raw["category"] = (raw["category"] + " " + extra).str.strip()
    for name, default in defaults.items():
        if default is not None:
            raw[name] = raw[name].mask(raw[name] == "", str(default))
    for name in ("items", "value"):  # "N/A": no figure given, as an empty cell says
        raw[name] = raw[name].mask(raw[name].str.strip().str.casefold().isin(_NOT_GIVEN), "")

    known = frozenset(known_categories)
    parsers: dict[str, Callable[[str], object]] = {
        "year": _parse_year,
        "flow": _parse_flow,
        "basis": _parse_basis,
        "category": _parse_category(known, _category_names(known_categories)),
        "items": _parse_items,
        "value": _parse_value,
        "currency": _parse_currency,
        "nil_report": _parse_bool,
        "withheld": _parse_bool,
        "public": _parse_bool,
    }
    values: dict[str, pd.Series] = {}
    for name in REPORT_FIELDS:
        if name in parsers:
            parsed, errors = _parse_column(raw[name], parsers[name])
            failed = errors.dropna()
            problems.add(failed.index, header_of(name), order[name], failed.to_numpy())
            values[name] = parsed
        else:
            values[name] = raw[name].mask(raw[name] == "")
    blank = {name: raw[name] == "" for name in REPORT_FIELDS}
    nil = values["nil_report"].eq(True)
    withheld = values["withheld"].eq(True)

    for name in STATED_ONCE:  # one line per column: a title page states them once for every row
        missing = body.index[blank[name]]
        if len(missing):
            what = name.replace("_", " ")
            message = f"missing {what} on {rows_phrase(missing)}; fill the cells, or {_give(name, stated_by)}"
            problems.add(missing[:1], header_of(name), order[name], message)
    for name in ("category", "partner"):
        missing = body.index[blank[name] & ~nil & ~withheld]
        problems.add(
            missing,
            header_of(name),
            order[name],
            f"missing {name}; leave it empty only on a nil-report or withheld row",
        )
    for name in ("category", "partner", "items", "value"):
        filled = body.index[~blank[name] & nil]
        problems.add(
            filled, header_of(name), order[name], "a nil-report row leaves category, partner, items and value empty"
        )
    no_currency = body.index[~blank["value"] & blank["currency"]]
    problems.add(
        no_currency,
        header_of("currency"),
        order["currency"],
        "a value needs its currency (an ISO 4217 code such as EUR)",
    )
    problems.add(*_nil_conflicts(values, nil, header_of("nil_report"), order["nil_report"]))
    problems.add(*_public_conflicts(values, header_of("public"), order["public"]))
    problems.raise_if_any()

    return _assemble(body, values, nil, withheld, extras, partner_index)


def rows_phrase(rows: Sequence[int] | pd.Index) -> str:
    """``row 7`` or ``16 rows (2, 3, 4, 5, 6 …)``: which rows of a file, in a message."""
    shown = ", ".join(str(row) for row in list(rows[:5])) + (" …" if len(rows) > 5 else "")
    return f"row {shown}" if len(rows) == 1 else f"{len(rows):,} rows ({shown})"


def _give(name: str, stated_by: Mapping[str, str] | None) -> str:
    """How to state a field once for the whole file: the caller's option, else the argument of this reader."""
    option = (stated_by or {}).get(name)
    return f"give it once for the file with {option}" if option else f"give it once for the file as {name}=…"


def _map_headers(
    headers: list[str], body: pd.DataFrame, shown: str, problems: _Problems, *, csv_file: bool
) -> tuple[dict[str, int], dict[str, str], int | None, dict[str, int]]:
    """Which file column holds which field; header problems go to ``problems.header``.

    Returns the field → position map, the field → header-as-written map (for messages), the position of a
    ``subcategory`` column if any, and the unknown columns (header → position), kept as they are.
    """
    lookup = _header_lookup()
    columns: dict[str, int] = {}
    shown_header: dict[str, str] = {}
    subcategory: int | None = None
    extras: dict[str, int] = {}
    named = [position for position, header in enumerate(headers) if _header_key(header)]
    beyond = body.loc[:, (named[-1] + 1 if named else 0) :]
    overflow = beyond.index[(beyond != "").any(axis=1)]
    if len(overflow):
        hint = " (a cell containing the delimiter must be in quotes)" if csv_file else ""
        problems.header.append(
            InputError(shown, int(overflow[0]), None, f"more cells than the header has columns{hint}")
        )
    for position, header in enumerate(headers):
        key = _header_key(header)
        if not key:
            if named and position < named[-1] and (body[position] != "").any():
                problems.header.append(InputError(shown, 1, None, f"column {position + 1} has data but no header"))
            continue
        if key in _SUBCATEGORY_HEADERS:
            subcategory = position
            continue
        name = lookup.get(key)
        if name is None:
            if header in extras or header in REPORT_COLUMNS:
                problems.header.append(InputError(shown, 1, header, "column name used twice or reserved"))
            extras[header] = position
            continue
        if name in columns:
            problems.header.append(
                InputError(shown, 1, header, f"both '{shown_header[name]}' and '{header}' mean {name}; keep one")
            )
            continue
        columns[name], shown_header[name] = position, header
    return columns, shown_header, subcategory, extras


def _field_headers(name: str) -> list[str]:
    extra = ReportLine.model_fields[name].json_schema_extra
    return [name, *(extra.get("headers", []) if isinstance(extra, dict) else [])]  # type: ignore[list-item]


def _nil_conflicts(
    values: dict[str, pd.Series], nil: pd.Series, column: str, order: int
) -> tuple[pd.Index, str, int, list[str]]:
    """A nil report for a flow and year while the same report lists lines for that flow and year."""
    keys = pd.DataFrame({"state": values["reporting_state"], "year": values["year"], "flow": values["flow"]})
    lines = keys[~nil].dropna()
    if not nil.any() or lines.empty:
        return pd.Index([]), column, order, []
    line_rows = (
        lines.reset_index()
        .groupby(["state", "year", "flow"])["source_row"]
        .agg(lambda rows: ", ".join(str(row) for row in list(rows)[:5]) + (" …" if len(rows) > 5 else ""))
    )
    nil_keys = keys[nil].reset_index().merge(line_rows.rename("rows").reset_index(), on=["state", "year", "flow"])
    messages = [
        f"nil report for {flow}s of {int(year)}, but the report lists such lines (row {rows})"
        for flow, year, rows in nil_keys[["flow", "year", "rows"]].itertuples(index=False)
    ]
    return pd.Index(nil_keys["source_row"]), column, order, messages


def _public_conflicts(values: dict[str, pd.Series], column: str, order: int) -> tuple[pd.Index, str, int, str]:
    """Rows of one report and table (State, year, flow) that disagree on whether it may be made public."""
    keys = pd.DataFrame(
        {
            "state": values["reporting_state"],
            "year": values["year"],
            "flow": values["flow"],
            "public": values["public"],
        }
    ).dropna()
    answers = keys.groupby(["state", "year", "flow"])["public"].transform("nunique")
    disagreeing = keys.index[answers > 1]
    return disagreeing, column, order, "rows of one report disagree on whether it may be made public"


def _assemble(
    body: pd.DataFrame,
    values: dict[str, pd.Series],
    nil: pd.Series,
    withheld: pd.Series,
    extras: dict[str, int],
    partner_index: PartnerIndex | None,
) -> pd.DataFrame:
    out = pd.DataFrame(index=body.index)
    for name in REPORT_FIELDS:
        out[name] = values[name]
    for name in _TEXT_FIELDS:
        out[name] = out[name].astype("str")
    out["year"] = out["year"].astype("int64")
    out["flow"] = out["flow"].astype("str")
    out["basis"] = out["basis"].astype("str")
    out["items"] = pd.array(out["items"].to_numpy(), dtype="Int64")
    out["value"] = out["value"].astype("float64")
    out["nil_report"] = nil.to_numpy(dtype=bool)
    out["withheld"] = withheld.to_numpy(dtype=bool)
    out["public"] = pd.array(out["public"].to_numpy(), dtype="boolean")
    reporter = normalize_partners(out["reporting_state"], partner_index)
    out["reporting_state_iso3"] = reporter["partner_iso3"]
    out = pd.concat([out, normalize_partners(out["partner"], partner_index)], axis=1)
    for header, position in extras.items():
        out[header] = body[position].mask(body[position] == "").astype("str")
    return out.reset_index()


# --- documentation and template -----------------------------------------------------------------------------


def _type_name(name: str) -> str:
    annotation: Any = ReportLine.model_fields[name].annotation
    if get_origin(annotation) in (Union, UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) is Literal:
        return " / ".join(f"`{choice}`" for choice in get_args(annotation))
    return {str: "text", int: "whole number", float: "number", bool: "yes / no"}.get(annotation, str(annotation))


def report_schema_markdown() -> str:
    """The report fields as a markdown table (for the README and the docs), generated from the model."""
    lines = [
        "| field | type | required | accepted headers | meaning |",
        "|---|---|---|---|---|",
    ]
    for name, info in ReportLine.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        headers = ", ".join(f"`{header}`" for header in extra.get("headers", []))  # type: ignore[union-attr]
        lines.append(
            f"| `{name}` | {_type_name(name)} | {extra.get('required', '')} | {headers} | {info.description} |"
        )
    lines.append(
        "| (`subcategory`) | text | no | `subcategory`, `sub-category` | An optional extra column, appended to "
        "`category` before it is read (`VIII` + `Small arms 2` → `VIII.SA.2`, `VII` + `b` → `VII.b`). |"
    )
    lines.append(
        "| `source_row`, `reporting_state_iso3`, `partner_iso3`, `partner_status`, `partner_note` | added | – | – "
        "| Added by `read_report`: the spreadsheet row of the line, and the ISO 3166 alpha-3 codes with the "
        "partner's status (`ok`, `special`, `unknown`, `blank`) and a note. |"
    )
    return "\n".join(lines) + "\n"


def write_report_template(path: Path | str, categories: Mapping[str, str] | Iterable[str]) -> None:
    """Write an .xlsx template: a ``report`` sheet to fill, then the category list and the field guide.

    ``categories`` maps category IDs to names (or is a plain list of IDs); the knowledge base supplies it.
    The ``report`` sheet offers drop-down lists for flow, basis, category and the yes/no columns.
    """
    from hsmap.xlsx import Layout, xlsx_file

    names = dict(categories) if isinstance(categories, Mapping) else {category: "" for category in categories}
    widths = {"reporting_state": 18, "partner": 24, "description": 36, "comments": 36, "state_of_origin": 18}
    guide = []
    for name, info in ReportLine.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        headers = ", ".join(str(header) for header in extra.get("headers", []))  # type: ignore[union-attr]
        guide.append(
            (
                name,
                _type_name(name).replace("`", ""),
                extra.get("required", ""),
                headers,
                (info.description or "").replace("`", ""),
            )
        )
    fields = pd.DataFrame(guide, columns=["field", "type", "required", "accepted headers", "meaning"], dtype="str")
    last = 2000
    choices: dict[str, list[str] | str] = {
        "flow": ["export", "import"],
        "basis": ["authorized", "actual"],
        "nil_report": ["yes", "no"],
        "withheld": ["yes", "no"],
        "category": f"=categories!$A$2:$A${max(len(names) + 1, 2)}",
    }
    with xlsx_file(path) as book:
        report = book.table("report", list(REPORT_FIELDS), Layout(widths={n: widths.get(n, 13) for n in REPORT_FIELDS}))
        for name, source in choices.items():
            column = REPORT_FIELDS.index(name)
            report.sheet.data_validation(1, column, last - 1, column, {"validate": "list", "source": source})
        listing = pd.DataFrame(list(names.items()), columns=["id", "name"], dtype="str")
        book.frame("categories", listing, Layout(widths={"id": 12, "name": 60}))
        columns = dict(zip(fields.columns, (16, 20, 28, 50, 80), strict=True))
        book.frame("fields", fields, Layout(widths=columns, wrap=list(fields.columns)))
