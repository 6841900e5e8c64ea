"""Customs data for a reconciliation: declaration lines or UN Comtrade-shaped extracts, one canonical table.

A national customs extract has a line per declaration item (date, flow, tariff code, description, quantity
and unit, value and currency, partner country); a UN Comtrade extract has a line per reporter × partner ×
year × flow × commodity, with Comtrade's own column names (``refYear``, ``flowCode``, ``partnerCode``,
``cmdCode``, ``qtyUnitCode``, ``qty``, ``netWgt``, ``primaryValue`` …). Both are read into the same columns
(:data:`CANONICAL_COLUMNS`) so that the reconciliation never needs to know which one it was given.

Nothing is dropped here: a line whose number cannot be read keeps its other fields and is flagged
(``bad_quantity`` / ``bad_value``), a line without a year or with a flow the reader does not know gets an
``exclusion`` reason, and the reconciliation counts every one of them. Cells are parsed with vectorised
pandas string operations; each distinct partner is resolved once (:func:`hsmap.countries.normalize_partners`).

Quantity units (``unit``): ``items`` (Comtrade unit 5 ``u``, Eurostat ``p/st``, UN/ECE ``C62``/``H87``/``NAR``
…; Comtrade 9 ``1000u`` counts thousands), ``kg`` (Comtrade 8, ``KGM``; tonnes and grams are converted),
``none`` (Comtrade 1, no quantity) and ``other:<unit>`` for anything else (pairs, litres …), which is never
added to items or kilograms. Comtrade unit and flow codes: UN Comtrade reference tables (quantity units;
trade flow codes 1 import, 2 export, 3 re-export, 4 re-import; API flow codes M, X, RM, RX, DX, FM).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pycountry

from hsmap.classify.editions import AUTO, EditionChoice, EditionReader
from hsmap.codes import normalize_codes
from hsmap.columns import CODE_NAMES, TEXT_NAMES, find_column
from hsmap.countries import PartnerIndex, name_key, normalize_partners
from hsmap.errors import InputError
from hsmap.io import CHUNK_ROWS, iter_table
from hsmap.knowledge import Knowledge, load_knowledge

CANONICAL_COLUMNS = (
    "source_row",  # the line's row in the file as a spreadsheet counts it (header = 1)
    "reporter_iso3",  # Comtrade reporter, "" when the file has none
    "year",  # 0 when unreadable (then ``exclusion`` says so)
    "month",  # 1–12 when the date or period gives it unambiguously, else 0
    "flow",  # export, import, re-export, re-import, or "" (then ``exclusion`` says so)
    "partner",  # as written
    "partner_key",  # ISO alpha-3, or "?name" (unknown), "*name" (special area), "" (blank)
    "partner_iso3",
    "partner_status",
    "partner_note",
    "hs6",
    "description",  # the goods description as written ("" when the file has none)
    "category",  # ATT category ID, "" when the line is not an ATT item
    "undecided",  # the top-level categories the code cannot tell apart ("I+II"), "" when decided (see undecided_levels)
    "flags",  # the classifier's flags, semicolon-separated
    "confidence",  # the classifier's confidence (0–1); NaN when a classified file gives none
    "unit",  # items, kg, none, other:<unit>
    "items",  # number of items (unit items), else NaN
    "kg",  # kilograms (unit kg, else the net weight column), else NaN
    "value",
    "currency",
    "bad_quantity",
    "bad_value",
    "problem",  # the unreadable cells of the line, as written ("" when none)
    "exclusion",  # why the line cannot be compared at all; "" for usable lines
)

# Header synonyms, compared after lower-casing and dropping everything but letters and digits.
YEAR_NAMES = ("year", "refyear", "period", "calendaryear", "reportingyear", "yr", "annee", "ano", "jahr", "rok")
DATE_NAMES = (
    "date",
    "declarationdate",
    "dateofdeclaration",
    "acceptancedate",
    "exportdate",
    "importdate",
    "releasedate",
    "shipmentdate",
    "datum",
    "fecha",
)
FLOW_NAMES = ("flow", "flowcode", "flowdesc", "tradeflow", "rgcode", "rgdesc", "direction", "flux", "flujo")
PARTNER_NAMES = (
    "partnercode",
    "partneriso",
    "partneriso3",
    "partner",
    "partnercountry",
    "partnerdesc",
    "country",
    "destinationcountry",
    "countryofdestination",
    "destination",
    "consignmentcountry",
    "countryofconsignment",
    "pays",
    "pais",
)
REPORTER_NAMES = ("reportercode", "reporteriso", "reporteriso3", "reporter", "reporterdesc", "reportingcountry")
QUANTITY_NAMES = (
    "qty",
    "quantity",
    "supplementaryquantity",
    "supplementaryunits",
    "suppquantity",
    "numberofitems",
    "items",
    "pieces",
    "netquantity",
    "quantite",
    "cantidad",
    "menge",
)
UNIT_NAMES = (
    "qtyunitcode",
    "qtyunitabbr",
    "unit",
    "qtyunit",
    "quantityunit",
    "unitofmeasure",
    "uom",
    "measurementunit",
    "supplementaryunit",
    "unitcode",
    "unite",
    "unidad",
    "einheit",
)
WEIGHT_NAMES = ("netwgt", "netweight", "netweightkg", "netmass", "netmasskg", "weightkg", "massenette", "pesoneto")
VALUE_NAMES = (
    "primaryvalue",
    "fobvalue",
    "cifvalue",
    "value",
    "tradevalue",
    "statisticalvalue",
    "customsvalue",
    "invoicevalue",
    "amount",
    "valeur",
    "valor",
    "wert",
)
CURRENCY_NAMES = ("currency", "currencycode", "cur", "valuecurrency", "devise", "moneda", "wahrung", "waehrung")
CATEGORY_NAMES = ("attcategory",)
FLAG_NAMES = ("flags",)
CONFIDENCE_NAMES = ("confidence",)
# Comtrade "plus" breakdowns repeat the goods of a total row; only the total (0 / C00) is kept.
BREAKDOWN_TOTALS = {"motcode": "0", "customscode": "C00", "partner2code": "0"}
_COMTRADE_MARKERS = {"primaryvalue", "fobvalue", "cifvalue", "reportercode", "cmdcode", "qtyunitcode", "refyear"}
_VALUE_CURRENCY = re.compile(r"^(?:value|amount|tradevalue|statisticalvalue|customsvalue|invoicevalue)([a-z]{3})$")

_FLOWS = {
    "export": (
        "export",
        "exports",
        "x",
        "2",
        "dx",
        "domesticexport",
        "domesticexports",
        "exportation",
        "exportations",
        "exportacion",
        "exportaciones",
        "ausfuhr",
        "vyvoz",
    ),
    "import": (
        "import",
        "imports",
        "m",
        "1",
        "fm",
        "foreignimport",
        "foreignimports",
        "importation",
        "importations",
        "importacion",
        "importaciones",
        "einfuhr",
        "dovoz",
    ),
    "re-export": ("reexport", "reexports", "rx", "3", "reexportation", "reexportacion", "wiederausfuhr"),
    "re-import": ("reimport", "reimports", "rm", "4", "reimportation", "reimportacion", "wiedereinfuhr"),
}
_FLOW_OF = {word: flow for flow, words in _FLOWS.items() for word in words}

# unit key (lower case, letters and digits only) → (kind, factor)
_UNITS: dict[str, tuple[str, float]] = {
    **dict.fromkeys(
        (
            "u",
            "5",
            "pst",
            "p",
            "pc",
            "pcs",
            "pce",
            "piece",
            "pieces",
            "item",
            "items",
            "nar",
            "c62",
            "h87",
            "ea",
            "each",
            "unit",
            "units",
            "no",
            "nos",
            "nr",
            "number",
            "ks",
            "st",
            "stk",
            "stuck",
            "stueck",
            "unite",
            "unites",
            "unidad",
            "unidades",
            "pieza",
            "piezas",
            "szt",
        ),
        ("items", 1.0),
    ),
    **dict.fromkeys(("1000u", "9", "1000pst", "1000items", "1000pcs", "mil", "tu"), ("items", 1000.0)),
    **dict.fromkeys(("kg", "8", "kgm", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme"), ("kg", 1.0)),
    **dict.fromkeys(("t", "tne", "tonne", "tonnes", "ton"), ("kg", 1000.0)),
    **dict.fromkeys(("g", "grm", "gram", "grams", "gramme"), ("kg", 0.001)),
    **dict.fromkeys(("1", "", "na", "none", "nil", "noquantity", "zz"), ("none", 1.0)),
}

_PLAIN = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_THOUSANDS_COMMA = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"
_THOUSANDS_DOT = r"^[+-]?\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?$|^[+-]?\d{1,3}(?:\.\d{3})+,\d+$"
_DECIMAL_COMMA = r"^[+-]?\d+,\d+$"


def _key(name: str) -> str:
    plain = unicodedata.normalize("NFKD", str(name).casefold())
    return re.sub(r"[^a-z0-9]+", "", "".join(char for char in plain if not unicodedata.combining(char)))


def _keys(values: pd.Series) -> pd.Series:
    """Vectorised ``_key``: lower case, accents dropped, letters and digits only."""
    plain = cell_text(values).str.casefold().str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    return plain.str.replace(r"[^a-z0-9]", "", regex=True)


@dataclass(frozen=True)
class CustomsReading:
    """How a customs table is read: the settings ``hsmap reconcile``, ``draft-report`` and ``store load`` take
    as options, carried as one value through every reader and engine.

    ``code``, ``text`` and ``partner`` name the columns holding the HS code, the description and the partner
    State (found by name when None); ``edition`` is the HS edition lines are classified under (``auto``: the
    one in force on each line's date); ``currency``, ``flow`` and ``year`` state what a file has no column for
    (``--customs-currency``, ``--customs-flow``, ``--customs-year``): a currency also fills blank currency
    cells. ``partner_index`` is a prepared partner-name index to share between many readings (optional).
    """

    code: str | None = None
    text: str | None = None
    partner: str | None = None
    edition: EditionChoice = AUTO
    currency: str | None = None
    flow: str | None = None
    year: int | None = None
    partner_index: PartnerIndex | None = field(default=None, compare=False, repr=False)


_AS_GIVEN = CustomsReading()


@dataclass(frozen=True)
class CustomsColumns:
    """Which file column holds which field (None when the file has none); found once, on the header."""

    year: str | None = None
    date: str | None = None
    flow: str | None = None
    partner: str | None = None
    reporter: str | None = None
    code: str | None = None
    text: str | None = None
    quantity: str | None = None
    unit: str | None = None
    weight: str | None = None
    value: str | None = None
    currency: str | None = None
    category: str | None = None
    flags: str | None = None
    confidence: str | None = None
    breakdowns: tuple[tuple[str, str], ...] = ()  # (column, value of the total row)
    comtrade: bool = False
    value_currency: str | None = None  # a currency named by the value column (value_eur → EUR)


def _first(names: list[str], wanted: tuple[str, ...]) -> str | None:
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(_key(name), name)
    return next((by_key[key] for key in wanted if key in by_key), None)


def first_column(names: list[str], wanted: tuple[str, ...]) -> str | None:
    """The first column named like one of ``wanted`` (one of the header lists above), ignoring case, accents
    and separators: for readers of declaration files that need one field without a partner column."""
    return _first(names, wanted)


def detect_customs_columns(
    names: list[str],
    file: str,
    *,
    code: str | None = None,
    text: str | None = None,
    partner: str | None = None,
) -> CustomsColumns:
    """Find the fields of a customs file by the names customs systems and UN Comtrade use.

    ``code``/``text``/``partner`` name a column explicitly (it must exist). Raises InputError when the file
    has no partner column, or neither a code, a description nor an ``att_category`` column.
    """
    keys = {_key(name) for name in names}
    category = _first(names, CATEGORY_NAMES)
    code_column = find_column(names, code, CODE_NAMES, "code", file)
    text_column = find_column(names, text, TEXT_NAMES, "description", file)
    if code_column is None and text_column is None and category is None:
        raise InputError(
            file,
            1,
            None,
            "found no code, description or att_category column; name them with --code-column/--text-column",
        )
    partner_column = find_column(names, partner, PARTNER_NAMES, "partner", file) if partner else None
    partner_column = partner_column or _first(names, PARTNER_NAMES)
    if partner_column is None:
        accepted = ", ".join(PARTNER_NAMES[:6])
        raise InputError(file, 1, None, f"no partner country column (accepted headers include {accepted} …)")
    value = _first(names, VALUE_NAMES)
    value_currency = None
    if value is None:
        for name in names:
            match = _VALUE_CURRENCY.match(_key(name))
            if match and pycountry.currencies.get(alpha_3=match.group(1).upper()) is not None:
                value, value_currency = name, match.group(1).upper()
                break
    breakdowns = tuple((_first(names, (key,)) or "", total) for key, total in BREAKDOWN_TOTALS.items() if key in keys)
    return CustomsColumns(
        year=_first(names, YEAR_NAMES),
        date=_first(names, DATE_NAMES),
        flow=_first(names, FLOW_NAMES),
        partner=partner_column,
        reporter=_first(names, REPORTER_NAMES),
        code=code_column,
        text=text_column,
        quantity=_first(names, QUANTITY_NAMES),
        unit=_first(names, UNIT_NAMES),
        weight=_first(names, WEIGHT_NAMES),
        value=value,
        currency=_first(names, CURRENCY_NAMES),
        category=category,
        flags=_first(names, FLAG_NAMES) if category is not None else None,
        confidence=_first(names, CONFIDENCE_NAMES) if category is not None else None,
        breakdowns=breakdowns,
        comtrade=bool(keys & _COMTRADE_MARKERS),
        value_currency=value_currency,
    )


# --- cell parsers (vectorised) -------------------------------------------------------------------------------


def cell_text(values: pd.Series) -> pd.Series:
    """Cells as stripped text, "" for missing; numbers from Parquet lose a trailing '.0'."""
    if pd.api.types.is_float_dtype(values):
        whole = values.notna() & (values % 1 == 0)
        text = values.astype("str").where(~whole, values.where(whole).astype("Int64").astype("str"))
        return text.where(values.notna(), "").astype("str")
    return values.astype("str").fillna("").str.strip()


def parse_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Quantities and values as customs files write them → float64, and a mask of unreadable cells.

    Accepts ``1250``, ``1250.5``, ``1,250,000.50``, ``1 250 000``, ``1.250.000,50``, ``12,5`` and a sign
    (customs corrections can be negative). ``1,250`` is read as one thousand two hundred and fifty, as the
    ATT report reader does. Blank cells give NaN and are not flagged; any other unreadable cell is, and so is
    a number no quantity can be: infinite or not a number (``1e309``, ``inf``, ``nan``), which gives NaN.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        infinite = pd.Series(np.isinf(numbers.to_numpy()), index=values.index)
        return numbers.mask(infinite), infinite
    text = cell_text(values)
    compact = text.str.replace(r"[\s'\u00a0\u202f]", "", regex=True)
    plain = compact.str.match(_PLAIN)
    comma = compact.str.match(_THOUSANDS_COMMA)
    dot = compact.str.match(_THOUSANDS_DOT)
    decimal = compact.str.match(_DECIMAL_COMMA)
    cleaned = np.select(
        [plain, comma, dot, decimal],
        [
            compact,
            compact.str.replace(",", "", regex=False),
            compact.str.replace(".", "", regex=False).str.replace(",", ".", regex=False),
            compact.str.replace(",", ".", regex=False),
        ],
        default="",
    )
    numbers = pd.to_numeric(pd.Series(cleaned, index=values.index, dtype="str"), errors="coerce").astype("float64")
    numbers = numbers.where(np.isfinite(numbers.to_numpy()))
    bad = (text != "") & numbers.isna()
    return numbers, bad


def parse_years(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A year column (``2024``, Comtrade period ``202403``) → (year or 0, month or 0)."""
    parts = cell_text(values).str.extract(r"^((?:19|20)\d{2})(\d{2})?(?:\.0+)?$")
    year = pd.to_numeric(parts[0], errors="coerce").fillna(0).astype("int64")
    month = pd.to_numeric(parts[1], errors="coerce").fillna(0).astype("int64")
    return year, month.where(month.between(1, 12), 0)


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates → (year or 0, month or 0). The year is read from any common layout; the month only where the
    layout is unambiguous (``2024-01-09``, ``20240109``, ``09.01.2024``), never from ``01/09/2024``. A date
    that does not exist (``2024-02-30``, ``2024-13-45``, ``31/31/2024``) is unreadable: year 0. Each distinct
    cell is parsed once (a column of dates repeats them)."""
    ids, distinct = pd.factorize(cell_text(values), use_na_sentinel=False)
    text = pd.Series(distinct, dtype="str")
    iso = text.str.extract(r"^((?:19|20)\d{2})-(\d{1,2})(?:-(\d{1,2}))?(?:[ T].*)?$")
    compact = text.str.extract(r"^((?:19|20)\d{2})(\d{2})(\d{2})$")
    dotted = text.str.extract(r"^(\d{1,2})\.(\d{1,2})\.((?:19|20)\d{2})(?:\s.*)?$")
    slashed = text.str.extract(r"^(\d{1,2})[/-](\d{1,2})[/-]((?:19|20)\d{2})(?:\s.*)?$")
    year = _number(iso[0].fillna(compact[0]).fillna(dotted[2]).fillna(slashed[2]))
    month = _number(iso[1].fillna(compact[1]).fillna(dotted[1]))
    day = _number(iso[2].fillna(compact[2]).fillna(dotted[0]))
    exists = month.eq(0) | _exists(year, month, day)
    exists &= slashed[0].isna() | _exists(year, _number(slashed[1]), _number(slashed[0]))
    exists |= slashed[0].notna() & _exists(year, _number(slashed[0]), _number(slashed[1]))  # month first
    years = year.where(exists, 0)
    months = month.where(exists & month.between(1, 12), 0)
    return (
        pd.Series(years.to_numpy()[ids], index=values.index),
        pd.Series(months.to_numpy()[ids], index=values.index),
    )


def _number(parts: pd.Series) -> pd.Series:
    return pd.to_numeric(parts, errors="coerce").fillna(0).astype("int64")


def _exists(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    """Whether (year, month, day) is a date of the proleptic Gregorian calendar; a day of 0 (not given) asks
    only for a valid month. Plain arithmetic on whole columns: pandas' date parser would answer the same but
    costs a fresh process a tenth of a second to set up."""
    years, months, days = (column.to_numpy() for column in (year, month, day))
    leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
    known = (months >= 1) & (months <= 12)
    last_day = _DAYS_IN_MONTH[np.where(known, months, 0)] + ((months == 2) & leap)
    return pd.Series(known & (days <= last_day), index=year.index)


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])  # February of a leap year: 29


def declaration_years(frame: pd.DataFrame) -> pd.Series | None:
    """The year of each declaration line, from its year, period or date column (found by name as the
    reconciliation finds it), 0 where unreadable; None when the file has no such column. A cell is read once
    per process (a file of millions of lines repeats a few hundred dates), and a chunk of one year, the
    common case, costs one pass that finds its distinct cells."""
    names = [str(column) for column in frame.columns]
    year_column, date_column = _first(names, YEAR_NAMES), _first(names, DATE_NAMES)
    column, parse = (year_column, parse_years) if year_column is not None else (date_column, parse_dates)
    if column is None:
        return None
    values = frame.iloc[:, names.index(column)]
    try:
        distinct = pc.unique(pa.array(values)).to_pylist()
    except (pa.ArrowException, TypeError, ValueError):  # mixed cell types: pandas sorts them out
        distinct = None
    years = set(_years_of(distinct, parse)) if distinct is not None else set()
    if len(years) == 1:
        return pd.Series(years.pop(), index=frame.index, dtype="int64")
    codes, cells = pd.factorize(values, use_na_sentinel=False)
    return pd.Series(np.array(_years_of(cells.tolist(), parse), dtype=np.int64)[codes], index=frame.index)


def _years_of(cells: list[object], parse: Callable[[pd.Series], tuple[pd.Series, pd.Series]]) -> list[int]:
    """The years of distinct cells, each parsed once per process."""
    keys = [(parse.__name__, None if pd.isna(cell) else cell) for cell in cells]
    known = _YEARS if len(_YEARS) < _YEARS_LIMIT else {}
    fresh = [key for key in dict.fromkeys(keys) if key not in known]
    if fresh:
        years = parse(pd.Series([cell for _, cell in fresh], dtype=object))[0]
        known.update(zip(fresh, years.tolist(), strict=True))
    return [known[key] for key in keys]


_YEARS: dict[tuple[str, object], int] = {}  # (parser, cell) → year, shared by every chunk
_YEARS_LIMIT = 1 << 16


def parse_flows(values: pd.Series) -> pd.Series:
    """Flow cells → export, import, re-export, re-import, or "" when the word or code is not known."""
    return _keys(values).map(_FLOW_OF).fillna("").astype("str")


def parse_units(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Unit cells → (kind: items / kg / none / other:<unit>, factor to items or kg)."""
    text = cell_text(values)
    keys = _keys(values)
    known = keys.map({key: kind for key, (kind, _) in _UNITS.items()})
    factor = keys.map({key: factor for key, (_, factor) in _UNITS.items()}).fillna(1.0).astype("float64")
    kind = known.fillna("other:" + text).astype("str")
    return kind, factor


def partner_keys(raw: pd.Series, resolved: pd.DataFrame) -> pd.Series:
    """The join key: ISO alpha-3, ``?name`` for an unknown name, ``*name`` for a special area, "" if blank."""
    codes, uniques = pd.factorize(raw)
    plain = np.array([name_key(str(value)) for value in uniques] + [""], dtype=object)[codes]
    status = resolved["partner_status"].astype("str").to_numpy()
    iso3 = resolved["partner_iso3"].fillna("").astype("str").to_numpy()
    key = np.where(
        status == "ok", iso3, np.where(status == "special", "*" + plain, np.where(status == "blank", "", "?" + plain))
    )
    return pd.Series(key, index=raw.index, dtype="str")


def _is_world(raw: pd.Series) -> pd.Series:
    """Comtrade's partner 0 / ``World`` / ``W00``: the total over all partners, which would count twice."""
    return _keys(raw).isin(("0", "00", "000", "world", "w00", "wld"))


def prepare_customs(
    chunk: pd.DataFrame,
    columns: CustomsColumns,
    reading: CustomsReading = _AS_GIVEN,
    *,
    first_row: int = 2,
    kb: Knowledge | None = None,
) -> pd.DataFrame:
    """One chunk of a customs file → :data:`CANONICAL_COLUMNS`, one row per input row, in order.

    Lines without an ``att_category`` column are classified here, each under the HS edition in force in its
    year unless ``reading.edition`` names one (:class:`hsmap.classify.editions.EditionReader`). ``first_row`` is the
    file row of the chunk's first line. The reading's currency, flow and year fill a field the file lacks.
    """
    index = chunk.index
    out = pd.DataFrame(index=index)
    out["source_row"] = np.arange(first_row, first_row + len(chunk), dtype="int64")

    if columns.reporter is not None:
        reporter = normalize_partners(cell_text(chunk[columns.reporter]), reading.partner_index)
        out["reporter_iso3"] = reporter["partner_iso3"].fillna("").astype("str")
    else:
        out["reporter_iso3"] = ""

    if columns.year is not None:
        year, month = parse_years(chunk[columns.year])
        if columns.date is not None:
            _, month = parse_dates(chunk[columns.date])
    elif columns.date is not None:
        year, month = parse_dates(chunk[columns.date])
    else:
        year = pd.Series(reading.year or 0, index=index, dtype="int64")
        month = pd.Series(0, index=index, dtype="int64")
    out["year"], out["month"] = year.to_numpy(), month.to_numpy()

    if columns.flow is not None:
        flow_raw = cell_text(chunk[columns.flow])
        out["flow"] = parse_flows(flow_raw).to_numpy()
    else:
        flow_raw = pd.Series(reading.flow or "", index=index, dtype="str")
        out["flow"] = parse_flows(flow_raw).to_numpy()

    raw_partner = cell_text(chunk[columns.partner]) if columns.partner else pd.Series("", index=index, dtype="str")
    resolved = normalize_partners(raw_partner.mask(raw_partner == ""), reading.partner_index)
    out["partner"] = raw_partner.to_numpy()
    out["partner_key"] = partner_keys(raw_partner, resolved).to_numpy()
    out["partner_iso3"] = resolved["partner_iso3"].fillna("").astype("str").to_numpy()
    out["partner_status"] = resolved["partner_status"].astype("str").to_numpy()
    out["partner_note"] = resolved["partner_note"].fillna("").astype("str").to_numpy()

    years = out["year"].to_numpy()
    category, flags, hs6, undecided, confidence = _categories(
        chunk, columns, kb or load_knowledge(), reading.edition, years
    )
    out["hs6"], out["category"], out["flags"] = hs6.to_numpy(), category.to_numpy(), flags.to_numpy()
    out["undecided"], out["confidence"] = undecided.to_numpy(), confidence.to_numpy()
    text = cell_text(chunk[columns.text]) if columns.text else pd.Series("", index=index, dtype="str")
    out["description"] = text.str.slice(0, 120).to_numpy()

    if columns.quantity is not None:
        quantity, bad_quantity = parse_amounts(chunk[columns.quantity])
    else:
        quantity = pd.Series(np.nan, index=index, dtype="float64")
        bad_quantity = pd.Series(False, index=index)
    if columns.unit is not None:
        unit, factor = parse_units(chunk[columns.unit])
    elif columns.quantity is not None:
        unit = pd.Series("other:(no unit column)", index=index, dtype="str")
        factor = pd.Series(1.0, index=index)
    else:
        unit, factor = pd.Series("none", index=index, dtype="str"), pd.Series(1.0, index=index)
    no_quantity = quantity.isna() & ~bad_quantity
    unit = unit.mask(no_quantity & unit.isin(["items", "kg"]), "none")
    scaled = quantity * factor
    out["unit"] = unit.to_numpy()
    out["items"] = scaled.where(unit == "items").to_numpy()
    kg = scaled.where(unit == "kg")
    if columns.weight is not None:
        weight, bad_weight = parse_amounts(chunk[columns.weight])
        kg = kg.fillna(weight)
    else:
        bad_weight = pd.Series(False, index=index)
    out["kg"] = kg.to_numpy()

    if columns.value is not None:
        value, bad_value = parse_amounts(chunk[columns.value])
    else:
        value = pd.Series(np.nan, index=index, dtype="float64")
        bad_value = pd.Series(False, index=index)
    if columns.currency is not None:
        currency = cell_text(chunk[columns.currency]).str.upper()
        currency = currency.mask(currency == "", columns.value_currency or reading.currency or "")
    else:
        fallback = columns.value_currency or reading.currency or ("USD" if columns.comtrade else "")
        currency = pd.Series(fallback, index=index, dtype="str")
    out["value"], out["currency"] = value.to_numpy(), currency.to_numpy()
    out["bad_quantity"], out["bad_value"] = (bad_quantity | bad_weight).to_numpy(), bad_value.to_numpy()
    out["problem"] = _problems(chunk, columns, bad_quantity, bad_weight, bad_value).to_numpy()
    out["exclusion"] = _exclusions(out, chunk, columns, flow_raw, raw_partner).to_numpy()
    return out[list(CANONICAL_COLUMNS)].reset_index(drop=True)


def _problems(chunk: pd.DataFrame, columns: CustomsColumns, *masks: pd.Series) -> pd.Series:
    """The unreadable cells of each line as ``column 'text'``, joined with '; '."""
    problem = pd.Series("", index=chunk.index, dtype="str")
    for column, mask in zip((columns.quantity, columns.weight, columns.value), masks, strict=True):
        if column is None or not mask.any():
            continue
        note = f"{column} '" + cell_text(chunk[column]).str.slice(0, 40) + "'"
        joined = problem.where(problem == "", problem + "; ") + note
        problem = problem.mask(mask, joined)
    return problem


COMBINED = "+"  # joins the top-level categories of a combined level: "I+II"


def undecided_levels(candidates: pd.Series, basis: pd.Series, kb: Knowledge) -> pd.Series:
    """The categories of several Art. 2(1) trees a line's code cannot tell apart, joined in the knowledge
    base's order (``I+II``, ``III+VIII.LW``), else ``""``.

    A line is undecided when its code alone decided it (``basis`` ``code``: no description told the
    candidates apart) and its candidates — the categories ``att_hs.csv`` links to that code — lie in more than
    one top-level Art. 2(1) category: 8710.00 without a telling description may be a battle tank (I) or an
    armoured combat vehicle (II); 9301.10 a large-calibre gun (III) or a light weapon (VIII.LW.3, .4, .6). Each
    tree is named by the deepest category holding its candidates (VIII.LW). Art. 3/4 candidates (8710.00 also
    holds parts) are not named: the annual report does not cover them. Each distinct candidates text is read
    once.
    """
    by_code = basis.astype("str").eq("code")
    texts = candidates.astype("str")
    order = {cid: position for position, cid in enumerate(kb.categories)}
    labels = {}
    for text in texts[by_code].unique():
        named = [part.split(":")[0].strip() for part in text.split(";")]
        trees: dict[str, list[str]] = {}
        for cid in named:
            if cid in kb.categories and kb.in_article_2(cid):
                trees.setdefault(kb.top_level(cid), []).append(cid)
        members = sorted((kb.common_ancestor(cids) for cids in trees.values()), key=order.__getitem__)
        labels[text] = COMBINED.join(members) if len(members) > 1 else ""
    return texts.map(labels).where(by_code, "").fillna("").astype("str")


def _categories(
    chunk: pd.DataFrame, columns: CustomsColumns, kb: Knowledge, edition: EditionChoice, years: np.ndarray
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, pd.Series]:
    """(att_category, flags, hs6, undecided, confidence): as given by an already-classified file (its
    ``candidates`` and ``basis`` columns, when :func:`hsmap.classify.classify` wrote them, say whether the code
    alone decided; its ``confidence`` column if it has one, else NaN), else from the classifier of each line's
    edition."""
    index = chunk.index
    if columns.category is not None:
        category = cell_text(chunk[columns.category])
        category = category.mask(category.str.casefold().isin(["none", "nan", "-", "n/a"]), "")
        flags = cell_text(chunk[columns.flags]) if columns.flags else pd.Series("", index=index, dtype="str")
        if columns.code is not None:
            hs6 = normalize_codes(chunk[columns.code])["hs6"].astype("str")
        elif "hs6" in chunk.columns:
            hs6 = cell_text(chunk["hs6"])
        else:
            hs6 = pd.Series("", index=index, dtype="str")
        if "candidates" in chunk.columns and "basis" in chunk.columns:
            undecided = undecided_levels(cell_text(chunk["candidates"]), cell_text(chunk["basis"]), kb)
        else:
            undecided = pd.Series("", index=index, dtype="str")
        if columns.confidence is not None:
            confidence = parse_amounts(chunk[columns.confidence])[0]
        else:
            confidence = pd.Series(np.nan, index=index, dtype="float64")
        return category, flags, hs6, undecided, confidence
    rows, ids = EditionReader(kb, edition).decide(chunk, columns.code, columns.text, years)
    decided = rows.select(["att_category", "flags", "hs6", "candidates", "basis"]).take(ids)
    category, flags, hs6, candidates, basis = (
        pd.Series(column.to_numpy(zero_copy_only=False), index=index, dtype="str") for column in decided.columns
    )
    confidence = pd.Series(rows.column("confidence").take(ids).to_numpy(zero_copy_only=False), index=index)
    return category, flags, hs6, undecided_levels(candidates, basis, kb), confidence.astype("float64")


def _exclusions(
    out: pd.DataFrame, chunk: pd.DataFrame, columns: CustomsColumns, flow_raw: pd.Series, raw_partner: pd.Series
) -> pd.Series:
    """Why a line cannot be compared at all, decided from the line alone (first reason wins)."""
    reason = pd.Series("", index=out.index, dtype="str")

    def mark(mask: pd.Series | np.ndarray, text: pd.Series | str) -> None:
        nonlocal reason
        mask = pd.Series(np.asarray(mask, dtype=bool), index=out.index) & (reason == "")
        reason = reason.mask(mask, text)

    for column, total in columns.breakdowns:
        cells = cell_text(chunk[column])
        mark(
            (cells != "") & (cells.str.upper() != total),
            f"Comtrade breakdown row ({column} ≠ {total}): its goods are already in the total row",
        )
    mark(_is_world(raw_partner).to_numpy(), "partner is World, the total over all partners (would count twice)")
    mark(out["year"] == 0, "no readable year or date")
    mark(out["flow"] == "", "flow not known: '" + flow_raw.str.slice(0, 40) + "'")
    return reason


def iter_customs(
    path: Path,
    reading: CustomsReading = _AS_GIVEN,
    *,
    sheet: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    kb: Knowledge | None = None,
) -> Iterator[pd.DataFrame]:
    """Read a customs file chunk by chunk into canonical frames (memory bounded by ``chunk_rows``).

    Raises InputError before the first chunk when a needed field is missing: a value without any currency,
    no year or date, no flow (unless ``reading`` states it).
    """
    yield from customs_chunks(iter_table(path, chunk_rows=chunk_rows, sheet=sheet), str(path), reading, kb=kb)


def customs_chunks(
    chunks: Iterable[pd.DataFrame],
    file: str,
    reading: CustomsReading = _AS_GIVEN,
    *,
    kb: Knowledge | None = None,
) -> Iterator[pd.DataFrame]:
    """Raw chunks of one table (a file, or a dataset file with its partition columns) → canonical frames;
    columns are found on the first chunk, rows numbered from 2 as a spreadsheet counts them."""
    columns: CustomsColumns | None = None
    first_row = 2
    for chunk in chunks:
        if columns is None:
            columns = reading_columns([str(c) for c in chunk.columns], file, reading)
        yield prepare_customs(chunk, columns, reading, first_row=first_row, kb=kb)
        first_row += len(chunk)


def reading_columns(names: list[str], file: str, reading: CustomsReading = _AS_GIVEN) -> CustomsColumns:
    """The columns of a customs table, found as ``reading`` says; refused when a field the comparison needs
    is neither a column nor stated by ``reading``, with the option that states it."""
    columns = detect_customs_columns(names, file, code=reading.code, text=reading.text, partner=reading.partner)
    if columns.year is None and columns.date is None and reading.year is None:
        raise InputError(file, 1, None, "no year, period or date column; give the year with --customs-year")
    if columns.flow is None and reading.flow is None:
        raise InputError(file, 1, None, "no flow column (export/import); give it with --customs-flow export")
    if reading.flow is not None and parse_flows(pd.Series([reading.flow])).iloc[0] == "":
        raise InputError(file, None, None, f"flow {reading.flow!r} is not export, import, re-export or re-import")
    has_currency = columns.currency or columns.value_currency or reading.currency or columns.comtrade
    if columns.value is not None and not has_currency:
        raise InputError(
            file, 1, columns.value, "values but no currency column; give the currency with --customs-currency EUR"
        )
    return columns


def customs_frame(
    frame: pd.DataFrame, reading: CustomsReading = _AS_GIVEN, *, kb: Knowledge | None = None, file: str = "customs"
) -> pd.DataFrame:
    """An in-memory customs table → canonical frame (for small data and tests)."""
    columns = reading_columns([str(c) for c in frame.columns], file, reading)
    return prepare_customs(frame, columns, reading, kb=kb)


def chunks_of(frame: pd.DataFrame, rows: int) -> Iterable[pd.DataFrame]:
    """A frame cut into pieces of ``rows`` lines (tests use it to prove chunking changes nothing)."""
    for start in range(0, len(frame), rows):
        yield frame.iloc[start : start + rows]
