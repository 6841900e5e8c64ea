"""Partner countries: read the way customs data and ATT reports name a State, return ISO 3166 alpha-3.

Customs extracts name partners by ISO alpha-2 (``NE``), alpha-3 (``NER``) or UN M49 / Comtrade numbers
(``562``, ``0562``); ATT reports write free text in English, French or Spanish, in current, former or
trade-statistics spellings (``Korea, Rep.``, ``Swaziland``, ``Türkiye``, ``Côte d'Ivoire``). A
reconciliation joins on the country, so every spelling must land on one code, and a wrong guess is worse
than no answer: ``Niger`` must never become ``Nigeria``. Matching is therefore exact after normalising case,
accents, punctuation, spacing and the word "the"; there is no fuzzy matching.

What is recognised, in order of precedence:

1. ``mappings/partners.csv`` (alias, iso3, note, source): former names, trade-statistics and World Bank
   spellings, Comtrade's own numbers (842 USA …) and the special partners of trade statistics (0 World,
   490 Other Asia nes, 837 Bunkers, EU ``QU`` … ``QZ``). A row with an empty ``iso3`` is a special partner:
   it is reported as status ``special`` with its note and is never resolved to a country.
2. ISO 3166-1 alpha-2 and alpha-3 codes, and numeric codes (= UN M49 for countries) with or without zeros.
3. pycountry's English short, official and common names.
4. Their French and Spanish translations (pycountry's gettext catalogues).
5. Forms derived from 3–4: ``Korea, Republic of`` → ``Republic of Korea``, ``Bolivia, Plurinational State
   of`` → ``Bolivia``, ``Holy See (Vatican City State)`` → ``Holy See``. A derived form that would point at
   two countries (``Korea``) is dropped and reported as ambiguous.
6. Withdrawn ISO numeric codes not reused since (200 Czechoslovakia, 810 USSR …): ``special``.

>>> normalize_partner("Swaziland")
PartnerResult(iso3='SWZ', status='ok', note='former name; ISO short name Eswatini since 2018')
>>> normalize_partner("0562").iso3, normalize_partner("Niger").iso3, normalize_partner("Nigeria").iso3
('NER', 'NER', 'NGA')
>>> normalize_partner("490").status
'special'
>>> normalize_partner("Korea").status
'unknown'
"""

from __future__ import annotations

import csv
import gettext
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pycountry

from hsmap.errors import InputError

PartnerStatus = Literal["ok", "special", "unknown", "blank"]
STATUSES: tuple[PartnerStatus, ...] = ("ok", "special", "unknown", "blank")
ALIAS_COLUMNS = ("alias", "iso3", "note", "source")
LANGUAGES = ("fr", "es")

_NUMERIC = re.compile(r"^\d+(?:\.0+)?$")
_ALIAS_CODE = re.compile(r"^[A-Z]{2,3}$")  # an alias written in capitals like this is a code
_CODE_TEXT = re.compile(r"^[A-Za-z]{2,3}$")  # read as a code first: "NA" is Namibia, "N/A" is not
# ISO 3166-1 leaves these alpha-3 ranges to users (e.g. XKX for Kosovo, used by the EU and the World Bank).
_USER_ASSIGNED = re.compile(r"^(?:AA[A-Z]|Q[M-Z][A-Z]|X[A-Z]{2}|ZZ[A-Z])$")
_APOSTROPHES = re.compile(r"['’`´ʼ]")
_TOKENS = re.compile(r"[a-z0-9]+")
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th"})

# Precedence levels: a lower number wins when two sources give the same key different answers.
_ALIAS, _CODE, _NAME, _TRANSLATION, _DERIVED, _HISTORIC = range(6)


@dataclass(frozen=True, slots=True)
class PartnerResult:
    """How one partner value was read: the country (None unless ``ok``), a status and a short reason."""

    iso3: str | None
    status: PartnerStatus
    note: str


@dataclass(frozen=True)
class _Entry:
    iso3: str | None
    status: PartnerStatus
    note: str
    level: int


@dataclass
class PartnerIndex:
    """Every recognised spelling and number, normalised, with the answer it gives."""

    codes: dict[str, _Entry] = field(default_factory=dict)
    names: dict[str, _Entry] = field(default_factory=dict)
    numbers: dict[int, _Entry] = field(default_factory=dict)
    ambiguous: dict[str, frozenset[str]] = field(default_factory=dict)

    def resolve(self, value: object) -> PartnerResult:
        """Read one value; never raises, never guesses."""
        if _is_missing(value):
            return PartnerResult(None, "blank", "")
        text = _as_text(value)
        if not text:
            return PartnerResult(None, "blank", "")
        if _NUMERIC.match(text):
            entry = self.numbers.get(int(text.split(".")[0]))
            if entry is None:
                return PartnerResult(None, "unknown", f"no country or area has the numeric code {text!r}")
            return PartnerResult(entry.iso3, entry.status, entry.note)
        if _CODE_TEXT.match(text):
            entry = self.codes.get(text.upper())
            if entry is not None:
                return PartnerResult(entry.iso3, entry.status, entry.note)
        key = name_key(text)
        if not key:
            return PartnerResult(None, "blank", f"no letters or digits in {text!r}")
        entry = self.names.get(key)
        if entry is not None:
            return PartnerResult(entry.iso3, entry.status, entry.note)
        if key in self.ambiguous:
            options = ", ".join(sorted(self.ambiguous[key]))
            return PartnerResult(None, "unknown", f"ambiguous: {text!r} could be {options}")
        return PartnerResult(None, "unknown", f"no exact match for {text!r}")


def name_key(text: str) -> str:
    """The matching key of a name or code: no accents, case, punctuation, spaces or the word 'the'.

    >>> name_key("Côte d’Ivoire") == name_key("COTE DIVOIRE") == name_key("Cote d'Ivoire")
    True
    >>> name_key("Gambia, The"), name_key("Trinidad & Tobago")
    ('gambia', 'trinidadandtobago')
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = _APOSTROPHES.sub("", plain.replace("&", " and "))
    return "".join(token for token in _TOKENS.findall(plain) if token != "the")


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _as_text(value: object) -> str:
    """Cell content as text; whole floats (4.0 from a numeric column) lose their '.0'."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value).strip()


def default_alias_path() -> Path:
    """The shipped ``mappings/partners.csv``: inside the installed package, or in a source checkout."""
    packaged = Path(str(resources.files("hsmap"))) / "mappings" / "partners.csv"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "mappings" / "partners.csv"


class _Builder:
    """Collects candidate keys with their precedence, then settles conflicts."""

    def __init__(self) -> None:
        self.codes: dict[str, _Entry] = {}
        self.names: dict[str, dict[int, dict[str | None, _Entry]]] = {}
        self.numbers: dict[int, _Entry] = {}

    def add_code(self, code: str, entry: _Entry) -> None:
        current = self.codes.get(code.upper())
        if current is None or entry.level < current.level:
            self.codes[code.upper()] = entry

    def add_name(self, text: str, entry: _Entry) -> None:
        key = name_key(text)
        if key:
            self.names.setdefault(key, {}).setdefault(entry.level, {}).setdefault(entry.iso3, entry)

    def add_number(self, number: int, entry: _Entry) -> None:
        current = self.numbers.get(number)
        if current is None or entry.level < current.level:
            self.numbers[number] = entry

    def build(self) -> PartnerIndex:
        index = PartnerIndex(codes=dict(self.codes), numbers=dict(self.numbers))
        for key, levels in self.names.items():
            for level in sorted(levels):
                answers = levels[level]
                if len(answers) == 1:
                    index.names[key] = next(iter(answers.values()))
                    break
                if level == _ALIAS:  # load_aliases already refuses this; kept as a guard
                    raise ValueError(f"alias key {key!r} has several answers")
                index.ambiguous[key] = frozenset(str(iso3) for iso3 in answers)
                break
        return index


def _derived_forms(name: str) -> Iterable[str]:
    """Everyday forms of an ISO-style name: the inverted comma form, the part before the comma, no brackets."""
    if "(" in name:
        yield _PARENTHESES.sub("", name).strip()
    if name.count(",") == 1:
        head, tail = (part.strip() for part in name.split(","))
        yield f"{tail} {head}"
        yield head


def _country_names(country: object) -> set[str]:
    return {
        getattr(country, attribute)
        for attribute in ("name", "official_name", "common_name")
        if getattr(country, attribute, None)
    }


def _add_pycountry(builder: _Builder) -> None:
    catalogues = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]) for lang in LANGUAGES]
    current_numbers: set[int] = set()
    for country in pycountry.countries:
        iso3 = country.alpha_3
        builder.add_code(country.alpha_2, _Entry(iso3, "ok", "ISO 3166-1 alpha-2 code", _CODE))
        builder.add_code(iso3, _Entry(iso3, "ok", "ISO 3166-1 alpha-3 code", _CODE))
        number = int(country.numeric)
        current_numbers.add(number)
        builder.add_number(number, _Entry(iso3, "ok", "ISO 3166-1 numeric / UN M49 code", _CODE))
        english = _country_names(country)
        translated = {catalogue.gettext(name) for catalogue in catalogues for name in english} - english
        for name in english:
            builder.add_name(name, _Entry(iso3, "ok", "ISO 3166-1 name", _NAME))
        for name in translated:
            builder.add_name(name, _Entry(iso3, "ok", "ISO 3166-1 name (French or Spanish)", _TRANSLATION))
        for name in english | translated:
            for form in _derived_forms(name):
                builder.add_name(form, _Entry(iso3, "ok", f"short form of {name!r}", _DERIVED))
    for former in pycountry.historic_countries:
        number = int(getattr(former, "numeric", "") or -1)
        if number >= 0 and number not in current_numbers:
            note = f"withdrawn ISO code of {former.name} (until {former.withdrawal_date}); no single current country"
            builder.add_number(number, _Entry(None, "special", note, _HISTORIC))


def _alias_key(alias: str) -> str:
    """Numbers, upper-case 2–3 letter codes and names live in separate key spaces."""
    if alias.isdigit():
        return f"#{int(alias)}"
    if _ALIAS_CODE.match(alias):
        return f"@{alias}"
    return name_key(alias)


def load_aliases(path: Path | str | None = None) -> pd.DataFrame:
    """Read and check the alias table; a bad row raises InputError naming the file, row and column."""
    source = Path(path) if path is not None else default_alias_path()
    shown = f"mappings/{source.name}" if path is None else str(source)
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or tuple(cell.strip() for cell in rows[0]) != ALIAS_COLUMNS:
        raise InputError(shown, 1, None, f"the header must be {','.join(ALIAS_COLUMNS)}")
    known_iso3 = {country.alpha_3 for country in pycountry.countries}
    records: list[dict[str, str]] = []
    seen: dict[str, tuple[int, str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(ALIAS_COLUMNS):
            raise InputError(shown, number, None, f"expected {len(ALIAS_COLUMNS)} fields, found {len(row)}")
        record = dict(zip(ALIAS_COLUMNS, (cell.strip() for cell in row), strict=True))
        alias, iso3 = record["alias"], record["iso3"]
        if not alias:
            raise InputError(shown, number, "alias", "empty alias")
        if iso3 and not (iso3 in known_iso3 or _USER_ASSIGNED.match(iso3)):
            raise InputError(shown, number, "iso3", f"{iso3!r} is not an ISO 3166-1 alpha-3 code")
        if not record["source"]:
            raise InputError(shown, number, "source", "every alias names its source")
        if not iso3 and not record["note"]:
            raise InputError(shown, number, "note", "a special partner (empty iso3) needs a note saying what it is")
        key = _alias_key(alias)
        if not key:
            raise InputError(shown, number, "alias", f"{alias!r} has no letters or digits")
        if key in seen:
            first_row, first_iso3 = seen[key]
            if first_iso3 == iso3:
                message = f"{alias!r} is the same spelling as row {first_row} once case and punctuation go"
            else:
                message = f"{alias!r} means {iso3 or 'special'} here but {first_iso3 or 'special'} in row {first_row}"
            raise InputError(shown, number, "alias", message)
        seen[key] = (number, iso3)
        records.append(record | {"row": str(number)})
    return pd.DataFrame.from_records(records, columns=[*ALIAS_COLUMNS, "row"])


def build_index(aliases: pd.DataFrame, *, file: str = "mappings/partners.csv") -> PartnerIndex:
    """Combine the alias table with pycountry; an alias that contradicts ISO 3166 raises InputError."""
    builder = _Builder()
    _add_pycountry(builder)
    iso_index = builder.build()
    for record in aliases.itertuples(index=False):
        iso3 = record.iso3 or None
        entry = _Entry(iso3, "ok" if iso3 else "special", record.note, _ALIAS)
        if record.alias.isdigit():
            number = int(record.alias)
            official = iso_index.numbers.get(number)
            if official is not None and official.level == _CODE and official.iso3 != iso3:
                raise InputError(
                    file,
                    int(record.row),
                    "alias",
                    f"numeric code {record.alias} is {official.iso3} in ISO 3166-1, not {iso3 or 'special'}",
                )
            builder.add_number(number, entry)
            continue
        if _ALIAS_CODE.match(record.alias):
            official = iso_index.codes.get(record.alias)
            if official is not None and official.iso3 != iso3:
                raise InputError(
                    file,
                    int(record.row),
                    "alias",
                    f"{record.alias!r} is {official.iso3} in ISO 3166-1 ({official.note}), not {iso3 or 'special'}",
                )
            builder.add_code(record.alias, entry)
            continue
        official = iso_index.names.get(name_key(record.alias))
        if official is not None and official.level <= _TRANSLATION and official.iso3 != iso3:
            raise InputError(
                file,
                int(record.row),
                "alias",
                f"{record.alias!r} is {official.iso3} in ISO 3166-1 ({official.note}), not {iso3 or 'special'}",
            )
        builder.add_name(record.alias, entry)
    return builder.build()


@lru_cache(maxsize=8)
def _cached_index(path: str | None) -> PartnerIndex:
    aliases = load_aliases(path)
    return build_index(aliases, file="mappings/partners.csv" if path is None else path)


def load_partner_index(path: Path | str | None = None) -> PartnerIndex:
    """The index for an alias file (default: the shipped one), built once per file and cached."""
    return _cached_index(None if path is None else str(Path(path).resolve()))


def normalize_partner(value: object, index: PartnerIndex | None = None) -> PartnerResult:
    """Read one partner value (name, ISO code or M49 number) into an ISO alpha-3 code, a status and a note."""
    return (index or load_partner_index()).resolve(value)


def normalize_partners(series: pd.Series, index: PartnerIndex | None = None) -> pd.DataFrame:
    """Vectorised normalize_partner: resolves each distinct value once, then maps back to every row.

    Returns a frame aligned on ``series.index`` with ``partner_iso3`` (missing unless resolved),
    ``partner_status`` (categorical: ok, special, unknown, blank) and ``partner_note``.
    """
    table = index or load_partner_index()
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    results = [table.resolve(value) for value in uniques]
    results.append(PartnerResult(None, "blank", ""))  # code -1 (missing) picks this last entry
    iso3 = np.array([result.iso3 for result in results], dtype=object)
    status = np.array([STATUSES.index(result.status) for result in results], dtype=np.int8)
    note = np.array([result.note for result in results], dtype=object)
    return pd.DataFrame(
        {
            "partner_iso3": pd.array(iso3[codes], dtype="str"),
            "partner_status": pd.Categorical.from_codes(status[codes], categories=list(STATUSES)),
            "partner_note": pd.array(note[codes], dtype="str"),
        },
        index=series.index,
    )
