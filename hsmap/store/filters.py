"""What a query keeps: :class:`Filters`, parsed from what a person types (any spelling of a State, ranges)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from hsmap.countries import normalize_partner, normalize_partners
from hsmap.customs import partner_keys
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.store.errors import StoreError

_FLOW_WORDS = {
    "export": "export",
    "exports": "export",
    "import": "import",
    "imports": "import",
    "re-export": "re-export",
    "reexport": "re-export",
    "re-exports": "re-export",
    "re-import": "re-import",
    "reimport": "re-import",
    "re-imports": "re-import",
}
_BASIS_WORDS = {"authorized": "authorized", "authorised": "authorized", "actual": "actual"}
_YEAR_RANGE = re.compile(r"^(\d{4})(?:\s*(?:-|–|\.\.)\s*(\d{4}))?$")


def split_values(value: str | int | Iterable[str | int] | None) -> list[str]:
    """Comma-separated text or a list of values → stripped, non-empty strings."""
    if value is None:
        return []
    values = [value] if isinstance(value, (str, int)) else list(value)
    return [part.strip() for item in values for part in str(item).split(",") if part.strip()]


def parse_years(value: str | int | Iterable[str | int] | tuple[int, int] | None) -> tuple[tuple[int, int], ...]:
    """``2019-2024``, ``2019``, ``2019,2021-2022`` (or ints) → inclusive (first, last) ranges."""
    ranges: list[tuple[int, int]] = []
    for part in split_values(value):
        match = _YEAR_RANGE.match(part)
        if match is None:
            raise StoreError(f"year {part!r} is not a year or a range such as 2019-2024")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first:
            raise StoreError(f"year range {part!r} ends before it starts")
        ranges.append((first, last))
    return tuple(ranges)


def state_key(text: str) -> str:
    """A State as the store keys it: ISO alpha-3 when hsmap can identify it, else ``?name``/``*name``."""
    return state_keys([text])[0]


def state_keys(texts: list[str]) -> list[str]:
    """:func:`state_key` of many States at once (one pass over the names, not one per State)."""
    raw = pd.Series(texts, dtype="str")
    return [str(key) for key in partner_keys(raw, normalize_partners(raw))]


def reporter_key(text: str) -> str:
    """A reporting State → ISO alpha-3; reporters are always identified, so an unknown one is an error."""
    result = normalize_partner(text)
    if result.status != "ok" or result.iso3 is None:
        raise StoreError(f"{text!r} is not a State hsmap can identify ({result.note or result.status})")
    return result.iso3


def category_ids(values: str | Iterable[str] | None, kb: Knowledge) -> tuple[str, ...]:
    """Category IDs as the knowledge base spells them (case-insensitive); an unknown one is an error."""
    known = {cid.casefold(): cid for cid in kb.categories}
    found = []
    for value in split_values(values):
        cid = known.get(value.casefold().replace(" ", ""))
        if cid is None:
            raise StoreError(f"category {value!r} is not an ATT category ID (such as I, VII.b, VIII.SA.4, ART3)")
        found.append(cid)
    return tuple(dict.fromkeys(found))


def _words(values: str | Iterable[str] | None, table: dict[str, str], what: str) -> tuple[str, ...]:
    found = []
    for value in split_values(values):
        word = table.get(value.casefold())
        if word is None:
            raise StoreError(f"{what} {value!r} is not one of {', '.join(sorted(set(table.values())))}")
        found.append(word)
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class Filters:
    """What a query keeps; every filter is optional and they combine with AND (values within one with OR).

    Values are stored resolved: ``reporter`` ISO alpha-3 codes, ``partner`` store keys, ``category`` IDs
    (each also selects its sub-categories), ``year`` inclusive ranges. Build one from what a person types
    with :meth:`parse`.
    """

    reporter: tuple[str, ...] = ()
    partner: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    year: tuple[tuple[int, int], ...] = ()
    flow: tuple[str, ...] = ()
    basis: tuple[str, ...] = ()
    text: str = ""

    @classmethod
    def parse(
        cls,
        *,
        kb: Knowledge | None = None,
        reporter: str | Iterable[str] | None = None,
        partner: str | Iterable[str] | None = None,
        category: str | Iterable[str] | None = None,
        year: str | int | Iterable[str | int] | None = None,
        flow: str | Iterable[str] | None = None,
        basis: str | Iterable[str] | None = None,
        text: str | None = None,
    ) -> Filters:
        """Filters from text: any spelling of a State (``Czechia``, ``CZ``, ``203``), comma-separated lists,
        years as ``2019-2024``."""
        return cls(
            reporter=tuple(dict.fromkeys(reporter_key(value) for value in split_values(reporter))),
            partner=tuple(dict.fromkeys(state_keys(split_values(partner)))),
            category=category_ids(category, kb or load_knowledge()) if category else (),
            year=parse_years(year),
            flow=_words(flow, _FLOW_WORDS, "flow"),
            basis=_words(basis, _BASIS_WORDS, "basis"),
            text=(text or "").strip(),
        )
