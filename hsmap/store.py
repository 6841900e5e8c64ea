"""A searchable store of ATT annual reports and customs data in one embedded DuckDB file (no server to run).

The ATT working group on transparency and reporting asked for annual-report data "in a searchable database,
allowing queries and the extraction of data". :class:`Store` gives every reporting officer, researcher and
delegation that on their own machine: load reports (the schema of :mod:`hsmap.report`, many States and years
at once, nil reports kept as such) and customs files (classified on the way in, :mod:`hsmap.customs`), then
filter, total, extract and compare mirror reports. Every answer is a pandas DataFrame.

Loading is idempotent and all-or-nothing: each file is recorded with the SHA-256 of its bytes, so the same
content loaded twice (under any name) is skipped, and a file that fails validation is rejected whole, in one
transaction, with the reasons. Every value a user gives reaches DuckDB as a bound parameter; only column
names from fixed tables are written into the SQL text.

Plain SQL (``duckdb store.duckdb``, or :meth:`Store.sql`) sees these tables:

``sources``
    one row per loaded file: ``source_id``, ``kind`` (``report``/``customs``), ``file``, ``path``,
    ``sha256``, ``bytes``, ``rows``, ``loaded_at`` (UTC), ``options`` (JSON of the defaults given at load).
``report_lines``
    one row per report line: ``source_id``, ``source_row`` (spreadsheet row, header = 1), ``reporter_iso3``,
    ``reporting_state`` (as written), ``year``, ``flow`` (export/import), ``basis`` (authorized/actual),
    ``category`` (ATT ID, NULL on nil and some withheld rows), ``top_category``, ``partner`` (as written),
    ``partner_key`` (ISO alpha-3; ``?name`` unknown, ``*name`` special area, ``''`` blank), ``partner_iso3``,
    ``partner_status`` (ok/special/unknown/blank), ``partner_note``, ``items``, ``value``, ``currency``,
    ``state_of_origin``, ``description``, ``comments``, ``nil_report``, ``withheld``.
``customs_lines``
    one row per customs line: ``source_id``, ``source_row``, ``reporter_iso3``, ``year``, ``month`` (0 when
    unknown), ``flow`` (export/import/re-export/re-import), the partner columns as above, ``hs6``,
    ``description``, ``category`` (NULL when the line is not an ATT item), ``top_category``, ``flags``,
    ``unit`` (items/kg/none/other:…), ``items``, ``kg``, ``value``, ``currency``.
``store_info``
    ``schema_version``.

Example: ``SELECT year, sum(items) FROM report_lines WHERE reporter_iso3 = 'CZE' AND flow = 'export'
AND NOT nil_report GROUP BY year ORDER BY year``.

Totals never add authorized to actual figures nor values in different currencies: ``basis`` (reports) and
``currency`` are always among the grouping columns. :meth:`Store.mirror` pairs each exporter's reported export
with the importer's reported import; see its docstring for the statuses.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import pycountry

from hsmap.countries import normalize_partner, normalize_partners
from hsmap.customs import iter_customs, partner_keys
from hsmap.errors import HsmapError, InputError
from hsmap.io import CHUNK_ROWS, TableWriter, neutralise_formulas
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.report import MAX_PROBLEMS, ReportError, read_report

SCHEMA_VERSION = 1
DB_FILENAME = "store.duckdb"
DB_ENVIRONMENT = "HSMAP_STORE"  # a path that overrides the default location
Data = Literal["report", "customs"]
DATA: tuple[Data, ...] = ("report", "customs")
XLSX_MAX_ROWS = 1_048_575
MIRROR_STATUSES = ("match", "within-tolerance", "mismatch", "only-report", "not-comparable")
MIRROR_SIDES = ("both", "exporter", "importer")
_EXACT_VALUE = 0.5  # values closer than half a currency unit are equal (as in the reconciliation)
_EPSILON = 1e-9

_DDL = (
    "CREATE TABLE IF NOT EXISTS store_info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    "CREATE SEQUENCE IF NOT EXISTS source_ids START 1",
    """CREATE TABLE IF NOT EXISTS sources (
        source_id INTEGER PRIMARY KEY,
        kind VARCHAR NOT NULL CHECK (kind IN ('report', 'customs')),
        file VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL UNIQUE,
        bytes BIGINT NOT NULL,
        rows BIGINT NOT NULL,
        loaded_at TIMESTAMP NOT NULL,
        options VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS report_lines (
        source_id INTEGER NOT NULL,
        source_row INTEGER NOT NULL,
        reporter_iso3 VARCHAR NOT NULL,
        reporting_state VARCHAR NOT NULL,
        year INTEGER NOT NULL,
        flow VARCHAR NOT NULL,
        basis VARCHAR NOT NULL,
        category VARCHAR,
        top_category VARCHAR,
        partner VARCHAR,
        partner_key VARCHAR NOT NULL,
        partner_iso3 VARCHAR,
        partner_status VARCHAR NOT NULL,
        partner_note VARCHAR,
        items BIGINT,
        value DOUBLE,
        currency VARCHAR,
        state_of_origin VARCHAR,
        description VARCHAR,
        comments VARCHAR,
        nil_report BOOLEAN NOT NULL,
        withheld BOOLEAN NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS customs_lines (
        source_id INTEGER NOT NULL,
        source_row BIGINT NOT NULL,
        reporter_iso3 VARCHAR NOT NULL,
        year INTEGER NOT NULL,
        month INTEGER NOT NULL,
        flow VARCHAR NOT NULL,
        partner VARCHAR,
        partner_key VARCHAR NOT NULL,
        partner_iso3 VARCHAR,
        partner_status VARCHAR NOT NULL,
        partner_note VARCHAR,
        hs6 VARCHAR,
        description VARCHAR,
        category VARCHAR,
        top_category VARCHAR,
        flags VARCHAR,
        unit VARCHAR NOT NULL,
        items DOUBLE,
        kg DOUBLE,
        value DOUBLE,
        currency VARCHAR
    )""",
)

REPORT_LINE_COLUMNS = (
    "source_id",
    "source_row",
    "reporter_iso3",
    "reporting_state",
    "year",
    "flow",
    "basis",
    "category",
    "top_category",
    "partner",
    "partner_key",
    "partner_iso3",
    "partner_status",
    "partner_note",
    "items",
    "value",
    "currency",
    "state_of_origin",
    "description",
    "comments",
    "nil_report",
    "withheld",
)
CUSTOMS_LINE_COLUMNS = (
    "source_id",
    "source_row",
    "reporter_iso3",
    "year",
    "month",
    "flow",
    "partner",
    "partner_key",
    "partner_iso3",
    "partner_status",
    "partner_note",
    "hs6",
    "description",
    "category",
    "top_category",
    "flags",
    "unit",
    "items",
    "kg",
    "value",
    "currency",
)
# What a query returns, in this order; every name is also a column a query may be sorted by.
QUERY_COLUMNS: dict[Data, tuple[str, ...]] = {
    "report": (
        "year",
        "reporter_iso3",
        "flow",
        "basis",
        "category",
        "partner_key",
        "partner",
        "items",
        "value",
        "currency",
        "description",
        "comments",
        "state_of_origin",
        "withheld",
        "nil_report",
        "partner_status",
        "reporting_state",
        "file",
        "source_row",
        "source_id",
    ),
    "customs": (
        "year",
        "month",
        "reporter_iso3",
        "flow",
        "category",
        "hs6",
        "partner_key",
        "partner",
        "unit",
        "items",
        "kg",
        "value",
        "currency",
        "description",
        "flags",
        "partner_status",
        "file",
        "source_row",
        "source_id",
    ),
}
_DEFAULT_ORDER = ("year", "reporter_iso3", "flow", "source_id", "source_row")
# Dimensions a total may be grouped by: the name shown → the stored column.
DIMENSIONS: dict[Data, dict[str, str]] = {
    "report": {
        "reporter": "reporter_iso3",
        "partner": "partner_key",
        "category": "category",
        "top_category": "top_category",
        "year": "year",
        "flow": "flow",
        "basis": "basis",
        "currency": "currency",
    },
    "customs": {
        "reporter": "reporter_iso3",
        "partner": "partner_key",
        "category": "category",
        "top_category": "top_category",
        "year": "year",
        "month": "month",
        "flow": "flow",
        "hs6": "hs6",
        "currency": "currency",
    },
}
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


class StoreError(HsmapError):
    """A store that cannot be opened or a query that cannot be answered; the message says why."""


def default_db_path() -> Path:
    """Where the store lives unless told otherwise: ``$HSMAP_STORE``, else the user's data directory."""
    override = os.environ.get(DB_ENVIRONMENT)
    if override:
        return Path(override).expanduser()
    try:
        from platformdirs import user_data_path
    except ImportError:  # the XDG location platformdirs would give on Linux
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "hsmap" / DB_FILENAME
    return user_data_path("hsmap", appauthor=False) / DB_FILENAME


def file_digest(path: Path) -> tuple[str, int]:
    """(SHA-256 hex digest, size in bytes) of a file's content: the identity of a loaded source."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


# --- filters ------------------------------------------------------------------------------------------------


def _items(value: str | int | Iterable[str | int] | None) -> list[str]:
    """Comma-separated text or a list of values → stripped, non-empty strings."""
    if value is None:
        return []
    values = [value] if isinstance(value, (str, int)) else list(value)
    return [part.strip() for item in values for part in str(item).split(",") if part.strip()]


def parse_years(value: str | int | Iterable[str | int] | tuple[int, int] | None) -> tuple[tuple[int, int], ...]:
    """``2019-2024``, ``2019``, ``2019,2021-2022`` (or ints) → inclusive (first, last) ranges."""
    ranges: list[tuple[int, int]] = []
    for part in _items(value):
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
    raw = pd.Series([text], dtype="str")
    return str(partner_keys(raw, normalize_partners(raw)).iloc[0])


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
    for value in _items(values):
        cid = known.get(value.casefold().replace(" ", ""))
        if cid is None:
            raise StoreError(f"category {value!r} is not an ATT category ID (such as I, VII.b, VIII.SA.4, ART3)")
        found.append(cid)
    return tuple(dict.fromkeys(found))


def _words(values: str | Iterable[str] | None, table: dict[str, str], what: str) -> tuple[str, ...]:
    found = []
    for value in _items(values):
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
            reporter=tuple(dict.fromkeys(reporter_key(value) for value in _items(reporter))),
            partner=tuple(dict.fromkeys(state_key(value) for value in _items(partner))),
            category=category_ids(category, kb or load_knowledge()) if category else (),
            year=parse_years(year),
            flow=_words(flow, _FLOW_WORDS, "flow"),
            basis=_words(basis, _BASIS_WORDS, "basis"),
            text=(text or "").strip(),
        )


# --- results ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    """What happened to one file: ``loaded``, ``already-loaded`` (same content) or ``rejected``."""

    file: str
    kind: Data
    status: Literal["loaded", "already-loaded", "rejected"]
    rows: int = 0
    source_id: int | None = None
    sha256: str = ""
    message: str = ""
    problems: tuple[str, ...] = ()
    overlaps: tuple[str, ...] = ()


@dataclass
class _Accumulator:
    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


# --- the store ----------------------------------------------------------------------------------------------


class Store:
    """One DuckDB file holding loaded reports and customs data; use as a context manager.

    ``read_only`` opens an existing store for queries only (several readers may share it; a writer needs it
    alone). ``path=':memory:'`` gives a throw-away store.
    """

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False, kb: Knowledge | None = None):
        self.path = Path(path) if path is not None and str(path) != ":memory:" else None
        if path is None:
            self.path = default_db_path()
        self._kb = kb
        target = ":memory:" if self.path is None else str(self.path)
        if self.path is not None:
            if read_only and not self.path.exists():
                raise StoreError(f"{self.path}: no store here yet; load reports with 'hsmap store load'")
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(target, read_only=read_only)
        except duckdb.Error as error:
            reason = str(error).splitlines()[0]
            hint = "; another hsmap process may be writing to it" if "lock" in reason.casefold() else ""
            raise StoreError(f"{target}: cannot open the store ({reason}){hint}") from None
        try:
            if not read_only:
                self._create()
            self._check_version()
        except BaseException:
            self.con.close()
            raise

    # lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @property
    def kb(self) -> Knowledge:
        if self._kb is None:
            self._kb = load_knowledge()
        return self._kb

    def _create(self) -> None:
        for statement in _DDL:
            self.con.execute(statement)
        self.con.execute(
            "INSERT INTO store_info VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [str(SCHEMA_VERSION)]
        )

    def _check_version(self) -> None:
        try:
            found = self.con.execute("SELECT value FROM store_info WHERE key = 'schema_version'").fetchone()
        except duckdb.CatalogException:
            raise StoreError(f"{self.path}: not an hsmap store (no store_info table)") from None
        if found is None or int(found[0]) != SCHEMA_VERSION:
            version = found[0] if found else "none"
            raise StoreError(f"{self.path}: store schema version {version}, this hsmap reads {SCHEMA_VERSION}")

    def sql(self, statement: str, parameters: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run any SQL on the store (for power users); bind values with ``?`` and ``parameters``."""
        try:
            cursor = self.con.execute(statement, parameters or [])
        except duckdb.Error as error:
            raise StoreError(str(error).splitlines()[0]) from None
        return cursor.df() if cursor.description else pd.DataFrame()

    # loading ---------------------------------------------------------------------------------------------
    def _existing(self, digest: str) -> LoadResult | None:
        found = self.con.execute(
            "SELECT source_id, kind, file, rows, loaded_at FROM sources WHERE sha256 = ?", [digest]
        ).fetchone()
        if found is None:
            return None
        source_id, kind, file, rows, loaded_at = found
        return LoadResult(
            file=file,
            kind=kind,
            status="already-loaded",
            rows=int(rows),
            source_id=int(source_id),
            sha256=digest,
            message=f"same content as source {source_id} ({file}, loaded {loaded_at:%Y-%m-%d %H:%M} UTC)",
        )

    def _insert_lines(self, table: str, columns: tuple[str, ...], frame: pd.DataFrame) -> None:
        self.con.register("incoming_lines", frame)
        try:
            names = ", ".join(columns)
            self.con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM incoming_lines")
        finally:
            self.con.unregister("incoming_lines")

    def _record(
        self, source_id: int, kind: Data, path: Path, digest: str, size: int, rows: int, options: dict[str, Any]
    ) -> None:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        self.con.execute(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [source_id, kind, path.name, str(path.resolve()), digest, size, rows, now, json.dumps(options)],
        )

    def _next_id(self) -> int:
        row = self.con.execute("SELECT nextval('source_ids')").fetchone()
        assert row is not None
        return int(row[0])

    def _overlaps(self, source_id: int, kind: Data) -> tuple[str, ...]:
        """Other sources with lines for the same State, year and flow: a corrected resubmission counts twice."""
        table = "report_lines" if kind == "report" else "customs_lines"
        rows = self.con.execute(
            f"""WITH mine AS (SELECT DISTINCT reporter_iso3, year, flow FROM {table} WHERE source_id = ?),
                     theirs AS (SELECT DISTINCT t.reporter_iso3, t.year, t.flow, t.source_id
                                FROM {table} t SEMI JOIN mine USING (reporter_iso3, year, flow)
                                WHERE t.source_id <> ?)
                SELECT theirs.reporter_iso3, theirs.year, theirs.flow, s.source_id, s.file
                FROM theirs JOIN sources s USING (source_id)
                ORDER BY 1, 2, 3, 4""",
            [source_id, source_id],
        ).fetchall()
        return tuple(
            f"{state} {flow}s of {year} are also in source {other} ({file})" for state, year, flow, other, file in rows
        )

    def load_report(
        self,
        path: Path | str,
        *,
        sheet: str | None = None,
        reporting_state: str | None = None,
        year: int | None = None,
        flow: Literal["export", "import"] | None = None,
        basis: Literal["authorized", "actual"] | None = None,
    ) -> LoadResult:
        """Validate a whole ATT annual report (.csv/.xlsx) and store it, or store nothing and raise.

        Raises :class:`~hsmap.report.ReportError` (or :class:`InputError`) naming the rows at fault. The
        defaults fill a column the file lacks, as in :func:`hsmap.report.read_report`.
        """
        path = Path(path)
        if not path.is_file():
            raise InputError(path.name, None, None, "file not found")
        digest, size = file_digest(path)
        if (existing := self._existing(digest)) is not None:
            return existing
        frame = read_report(
            path,
            sheet,
            known_categories=set(self.kb.categories),
            reporting_state=reporting_state,
            year=year,
            flow=flow,
            basis=basis,
        )
        options = {"sheet": sheet, "reporting_state": reporting_state, "year": year, "flow": flow, "basis": basis}
        lines = _report_lines(frame, self.kb, path.name)
        source_id = self._next_id()
        lines.insert(0, "source_id", source_id)
        self.con.begin()
        try:
            self._insert_lines("report_lines", REPORT_LINE_COLUMNS, lines)
            self._record(source_id, "report", path, digest, size, len(lines), _given(options))
            self.con.commit()
        except duckdb.ConstraintException:  # another process loaded the same content meanwhile
            self.con.rollback()
            existing = self._existing(digest)
            if existing is None:
                raise
            return existing
        except BaseException:
            self.con.rollback()
            raise
        return LoadResult(
            file=path.name,
            kind="report",
            status="loaded",
            rows=len(lines),
            source_id=source_id,
            sha256=digest,
            overlaps=self._overlaps(source_id, "report"),
        )

    def load_customs(
        self,
        path: Path | str,
        *,
        reporter: str | None = None,
        sheet: str | None = None,
        edition: int = 2022,
        currency: str | None = None,
        flow: str | None = None,
        year: int | None = None,
        code_column: str | None = None,
        text_column: str | None = None,
        partner_column: str | None = None,
        chunk_rows: int = CHUNK_ROWS,
    ) -> LoadResult:
        """Classify and store a customs file (declaration lines or a Comtrade-shaped extract), or nothing.

        ``reporter`` is the State whose customs recorded the lines, for files without a reporter column.
        A file with an unreadable number, year or flow is rejected whole. Comtrade breakdown rows and
        partner-World rows repeat a total and are skipped (the message counts them).
        """
        path = Path(path)
        if not path.is_file():
            raise InputError(path.name, None, None, "file not found")
        digest, size = file_digest(path)
        if (existing := self._existing(digest)) is not None:
            return existing
        default_reporter = reporter_key(reporter) if reporter else ""
        options = {
            "reporter": reporter,
            "sheet": sheet,
            "edition": edition,
            "currency": currency,
            "flow": flow,
            "year": year,
            "code_column": code_column,
            "text_column": text_column,
            "partner_column": partner_column,
        }
        source_id = self._next_id()
        done = _Accumulator()
        self.con.begin()
        try:
            for chunk in iter_customs(
                path,
                sheet=sheet,
                chunk_rows=chunk_rows,
                code=code_column,
                text=text_column,
                partner=partner_column,
                kb=self.kb,
                edition=edition,
                default_currency=currency,
                default_flow=flow,
                default_year=year,
            ):
                lines = _customs_lines(chunk, default_reporter, self.kb, path.name, done)
                lines.insert(0, "source_id", source_id)
                self._insert_lines("customs_lines", CUSTOMS_LINE_COLUMNS, lines)
            if done.rows == 0:
                raise InputError(path.name, None, None, "no customs lines to store")
            self._record(source_id, "customs", path, digest, size, done.rows, _given(options))
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        skipped = "; ".join(f"{count} skipped: {reason}" for reason, count in done.skipped.items())
        return LoadResult(
            file=path.name,
            kind="customs",
            status="loaded",
            rows=done.rows,
            source_id=source_id,
            sha256=digest,
            message=skipped,
            overlaps=self._overlaps(source_id, "customs"),
        )

    def load(
        self,
        reports: Iterable[Path | str] = (),
        customs: Iterable[Path | str] = (),
        *,
        report_options: dict[str, Any] | None = None,
        customs_options: dict[str, Any] | None = None,
    ) -> list[LoadResult]:
        """Load many files; each one independently (a rejected file does not stop the others)."""
        results = []
        jobs: list[tuple[Data, Path | str]] = [("report", path) for path in reports]
        jobs += [("customs", path) for path in customs]
        for kind, path in jobs:
            try:
                if kind == "report":
                    results.append(self.load_report(path, **(report_options or {})))
                else:
                    results.append(self.load_customs(path, **(customs_options or {})))
            except InputError as error:
                problems = getattr(error, "problems", None) or [error]
                total = getattr(error, "total", len(problems))
                listed = tuple(_problem_text(problem) for problem in problems)
                if total > len(listed):
                    listed += (f"… and {total - len(listed)} more",)
                results.append(
                    LoadResult(
                        file=Path(path).name,
                        kind=kind,
                        status="rejected",
                        message=f"rejected: {total} problem{'s' if total != 1 else ''}; nothing stored",
                        problems=listed,
                    )
                )
        return results

    def remove(self, source_id: int) -> int:
        """Delete one loaded source and its lines (to replace a corrected report); returns the lines removed."""
        found = self.con.execute("SELECT kind FROM sources WHERE source_id = ?", [source_id]).fetchone()
        if found is None:
            raise StoreError(f"no source {source_id} in the store (see 'hsmap store sources')")
        table = "report_lines" if found[0] == "report" else "customs_lines"
        self.con.begin()
        try:
            counted = self.con.execute(f"SELECT count(*) FROM {table} WHERE source_id = ?", [source_id]).fetchone()
            self.con.execute(f"DELETE FROM {table} WHERE source_id = ?", [source_id])
            self.con.execute("DELETE FROM sources WHERE source_id = ?", [source_id])
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        return int(counted[0]) if counted else 0

    # what is loaded -------------------------------------------------------------------------------------
    def sources(self) -> pd.DataFrame:
        """One row per loaded file × State × year × flow: what the store holds and where it came from."""
        return self.con.execute(
            """SELECT s.source_id, s.kind, l.state, l.year, l.flow, l.basis, l.rows, l.nil_report,
                      s.file, s.sha256, s.loaded_at
               FROM sources s JOIN (
                   SELECT source_id, reporter_iso3 AS state, year, flow,
                          array_to_string(list_sort(list_distinct(list(basis))), ',') AS basis,
                          count(*) AS rows, bool_or(nil_report) AS nil_report
                   FROM report_lines GROUP BY source_id, reporter_iso3, year, flow
                   UNION ALL
                   SELECT source_id, reporter_iso3, year, flow, '', count(*), false
                   FROM customs_lines GROUP BY source_id, reporter_iso3, year, flow
               ) l USING (source_id)
               ORDER BY l.state, l.year, l.flow, s.source_id"""
        ).df()

    # queries -------------------------------------------------------------------------------------------
    def _filters(self, filters: Filters | None, criteria: dict[str, Any]) -> Filters:
        if filters is not None and criteria:
            raise StoreError("give either a Filters object or filter keywords, not both")
        return filters if filters is not None else Filters.parse(kb=self.kb, **criteria)

    def _where(self, filters: Filters, data: Data, alias: str = "") -> tuple[str, list[Any]]:
        """The WHERE clause (with ``?`` placeholders) and its parameters; user values are never in the text."""
        column = (lambda name: f"{alias}.{name}") if alias else (lambda name: name)
        clauses: list[str] = []
        params: list[Any] = []

        def among(name: str, values: Sequence[Any]) -> None:
            if values:
                clauses.append(f"{column(name)} IN ({', '.join('?' * len(values))})")
                params.extend(values)

        among("reporter_iso3", filters.reporter)
        among("partner_key", filters.partner)
        among("category", [cid for root in filters.category for cid in self.kb.descendants(root)])
        among("flow", filters.flow)
        if filters.basis:
            if data == "customs":
                raise StoreError("customs lines have no basis (authorized/actual); drop the basis filter")
            among("basis", filters.basis)
        if filters.year:
            clauses.append("(" + " OR ".join(f"{column('year')} BETWEEN ? AND ?" for _ in filters.year) + ")")
            params.extend(year for bounds in filters.year for year in bounds)
        if filters.text:
            searched = ("description", "comments") if data == "report" else ("description",)
            clauses.append("(" + " OR ".join(f"contains(lower(coalesce({column(n)}, '')), ?)" for n in searched) + ")")
            params.extend([filters.text.casefold()] * len(searched))
        return (" AND ".join(clauses) or "TRUE"), params

    @staticmethod
    def _table(data: Data) -> str:
        if data not in DATA:
            raise StoreError(f"data {data!r} is not one of {', '.join(DATA)}")
        return "report_lines" if data == "report" else "customs_lines"

    def count(self, filters: Filters | None = None, *, data: Data = "report", **criteria: Any) -> int:
        """How many lines a query would return."""
        where, params = self._where(self._filters(filters, criteria), data)
        row = self.con.execute(f"SELECT count(*) FROM {self._table(data)} WHERE {where}", params).fetchone()
        return int(row[0]) if row else 0

    def _query_sql(
        self,
        filters: Filters | None,
        data: Data,
        order_by: str | Sequence[str] | None,
        descending: bool,
        criteria: dict[str, Any],
    ) -> tuple[str, list[Any]]:
        table = self._table(data)
        where, params = self._where(self._filters(filters, criteria), data, alias="l")
        columns = QUERY_COLUMNS[data]
        order = _items(order_by) or list(_DEFAULT_ORDER)
        unknown = [name for name in order if name not in columns]
        if unknown:
            raise StoreError(f"cannot sort by {', '.join(unknown)} (columns: {', '.join(columns)})")
        direction = " DESC" if descending else ""
        tail = [name for name in _DEFAULT_ORDER if name not in order]
        order_sql = ", ".join([f"{name}{direction} NULLS LAST" for name in order] + tail)
        selected = ", ".join("s.file" if name == "file" else f"l.{name}" for name in columns)
        statement = (
            f"SELECT {selected} FROM {table} l JOIN sources s USING (source_id) WHERE {where} ORDER BY {order_sql}"
        )
        return statement, params

    def query(
        self,
        filters: Filters | None = None,
        *,
        data: Data = "report",
        order_by: str | Sequence[str] | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        **criteria: Any,
    ) -> pd.DataFrame:
        """The lines that pass the filters (:data:`QUERY_COLUMNS`), sorted, optionally one page of them.

        Filters are a :class:`Filters` or keywords of :meth:`Filters.parse` (``reporter='Czechia',
        year='2019-2024'``). Nil-report rows are lines too: they pass filters on reporter, year, flow and basis.
        """
        statement, params = self._query_sql(filters, data, order_by, descending, criteria)
        if limit is not None:
            statement += " LIMIT ? OFFSET ?"
            params += [max(0, int(limit)), max(0, int(offset))]
        return self.con.execute(statement, params).df()

    def query_batches(
        self,
        filters: Filters | None = None,
        *,
        data: Data = "report",
        order_by: str | Sequence[str] | None = None,
        descending: bool = False,
        **criteria: Any,
    ) -> Iterator[pd.DataFrame]:
        """:meth:`query` in pieces of about 100,000 lines, for extracts larger than memory should hold."""
        statement, params = self._query_sql(filters, data, order_by, descending, criteria)
        cursor = self.con.cursor()
        try:
            cursor.execute(statement, params)
            while True:
                batch = cursor.fetch_df_chunk(50)  # 50 vectors of 2,048 rows
                if batch.empty:
                    break
                yield batch
        finally:
            cursor.close()

    def totals(
        self,
        filters: Filters | None = None,
        *,
        by: str | Sequence[str] = ("year",),
        data: Data = "report",
        **criteria: Any,
    ) -> pd.DataFrame:
        """Totals of the transfer lines that pass the filters, grouped by ``by`` (see :data:`DIMENSIONS`).

        ``basis`` (reports) and ``currency`` are always added to the grouping: authorized and actual figures,
        and values in different currencies, are never added together. Nil-report rows are not transfers and
        are left out. Columns: the dimensions (with ``*_name`` beside reporter, partner and category), then
        ``lines``, (reports) ``withheld_lines``, ``items``, ``lines_without_items``, (customs) ``kg``,
        ``value``, ``lines_without_value``.
        """
        table = self._table(data)
        dims = _items(by)
        known = DIMENSIONS[data]
        unknown = [name for name in dims if name not in known]
        if unknown:
            raise StoreError(f"cannot total by {', '.join(unknown)} (dimensions: {', '.join(known)})")
        keys = list(dict.fromkeys([*dims, *(["basis"] if data == "report" else []), "currency"]))
        where, params = self._where(self._filters(filters, criteria), data)
        selected = ", ".join(f"{known[name]} AS {name}" for name in keys)
        group = ", ".join(known[name] for name in keys)
        order = ", ".join(f"{name} NULLS FIRST" for name in keys)
        if data == "report":
            measures = """count(*) AS lines, count(*) FILTER (WHERE withheld) AS withheld_lines,
                          sum(items)::BIGINT AS items, count(*) - count(items) AS lines_without_items,
                          sum(value) AS value, count(*) - count(value) AS lines_without_value"""
            where = f"NOT nil_report AND {where}"
        else:
            measures = """count(*) AS lines, sum(items) AS items, sum(kg) AS kg,
                          sum(value) AS value, count(*) - count(value) AS lines_without_value"""
        frame = self.con.execute(
            f"SELECT {selected}, {measures} FROM {table} WHERE {where} GROUP BY {group} ORDER BY {order}", params
        ).df()
        return self._named(frame)

    def _named(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add readable names beside the reporter, partner and category codes."""
        for column, namer in (("reporter", country_name), ("partner", country_name), ("category", self._label)):
            if column in frame.columns:
                names = frame[column].map(lambda key, f=namer: f(key) if isinstance(key, str) else "")
                frame.insert(frame.columns.get_loc(column) + 1, f"{column}_name", names.astype("str"))
        return frame

    def _label(self, cid: str) -> str:
        return self.kb.label(cid) if cid in self.kb.categories else ""

    def options(self, data: Data = "report") -> dict[str, list[Any]]:
        """The distinct reporters, partners, categories, years and flows (and bases) present: for pick lists."""
        table = self._table(data)
        found: dict[str, list[Any]] = {}
        for name, column in (
            ("reporter", "reporter_iso3"),
            ("partner", "partner_key"),
            ("category", "category"),
            ("year", "year"),
            ("flow", "flow"),
            *((("basis", "basis"),) if data == "report" else ()),
        ):
            rows = self.con.execute(
                f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1"
            ).fetchall()
            found[name] = [row[0] for row in rows if row[0] != ""]
        order = {cid: position for position, cid in enumerate(self.kb.categories)}
        found["category"].sort(key=lambda cid: order.get(cid, len(order)))
        return found

    # mirror ------------------------------------------------------------------------------------------
    def mirror(
        self,
        *,
        exporter: str | Iterable[str] | None = None,
        importer: str | Iterable[str] | None = None,
        category: str | Iterable[str] | None = None,
        year: str | int | Iterable[str | int] | None = None,
        status: str | Iterable[str] | None = None,
        tolerance: float = 0.0,
        value_tolerance: float | None = None,
    ) -> pd.DataFrame:
        """Pair each exporter's reported export with the importer's reported import and say how they agree.

        A pair is (year, exporter, importer, category), compared at the coarsest category either report uses
        for that pair within a category tree (an importer's ``VIII.SA`` absorbs an exporter's ``VIII.SA.2``
        and ``VIII.SA.4``). Statuses use the reconciliation's words: ``match``, ``within-tolerance``,
        ``mismatch`` (numbers differ; differences are export minus import, relative to the importer's
        figure), ``only-report`` (only one State reported the transfer; ``side`` says which: ``exporter`` or
        ``importer``) and ``not-comparable`` (a withheld partner, a partner hsmap cannot identify, rows of
        the other basis, or no number both sides give). ``gaps`` tags the known reasons — ``category-differs``
        (both States report the pair in that year, under different categories), ``nil-report``,
        ``no-counterpart-report`` (the other State's report for that year and flow is not loaded),
        ``aggregated``, ``authorised-vs-actual``, ``currency``, ``withheld``, ``unresolved-partner``,
        ``calendar-year`` — and ``explanation`` says it in words. Each State reports on one basis per year and
        flow: ``actual`` when it reports any actual transfers, else ``authorized``.
        """
        if tolerance < 0 or (value_tolerance is not None and value_tolerance < 0):
            raise StoreError("a tolerance is a relative difference of 0 or more (0.1 = 10 %)")
        years = parse_years(year)
        wanted_status = _items(status)
        bad = [value for value in wanted_status if value not in MIRROR_STATUSES]
        if bad:
            raise StoreError(f"status {bad[0]!r} is not one of {', '.join(MIRROR_STATUSES)}")
        exporters = {state_key(value) for value in _items(exporter)}
        importers = {state_key(value) for value in _items(importer)}
        categories = category_ids(category, self.kb) if category else ()

        where, params = "TRUE", []
        if years:  # neighbouring years too, for the calendar-year hints
            where = "(" + " OR ".join("r.year BETWEEN ? AND ?" for _ in years) + ")"
            params = [bound for first, last in years for bound in (first - 1, last + 1)]
        cells = self.con.execute(_MIRROR_LINES_SQL.format(where=where), params).df()
        coverage = self.con.execute(
            f"SELECT DISTINCT reporter_iso3, year, flow, nil_report FROM report_lines r WHERE {where}", params
        ).fetchall()
        table = _Mirror(self.kb, cells, coverage, tolerance, tolerance if value_tolerance is None else value_tolerance)
        result = table.run()
        keep = pd.Series(True, index=result.index)
        if years:
            keep &= np.logical_or.reduce([result["year"].between(first, last) for first, last in years])
        if exporters:
            keep &= result["exporter"].isin(exporters)
        if importers:
            keep &= result["importer"].isin(importers)
        if categories:
            wanted = {cid for root in categories for cid in self.kb.descendants(root)}
            reported = (result["export_categories"] + "," + result["import_categories"]).str.split(",")
            keep &= result["category"].isin(wanted) | reported.map(lambda cats: bool(wanted.intersection(cats)))
        if wanted_status:
            keep &= result["status"].isin(wanted_status)
        return result[keep].reset_index(drop=True)


# --- building the stored lines --------------------------------------------------------------------------


def _given(options: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}


def _problem_text(problem: InputError) -> str:
    parts = [f"row {problem.row}"] if problem.row is not None else []
    if problem.column:
        parts.append(f"column '{problem.column}'")
    return f"{', '.join(parts)}: {problem.message}" if parts else problem.message


def _text_or_null(values: pd.Series) -> pd.Series:
    text = values.astype("str")
    return text.mask(values.isna() | (text.str.strip() == ""))


def _report_lines(frame: pd.DataFrame, kb: Knowledge, shown: str) -> pd.DataFrame:
    """The tidy report table of :func:`read_report` → the columns of ``report_lines`` (no source_id yet)."""
    if frame.empty:
        raise InputError(shown, None, None, "no report lines; a nil report needs a row saying so (nil report: yes)")
    unknown = frame[frame["reporting_state_iso3"].isna()]
    if len(unknown):
        problems = [
            InputError(
                shown,
                int(row.source_row),
                "reporting_state",
                f"reporting State {row.reporting_state!r} is not a State hsmap can identify; write its ISO code",
            )
            for row in unknown.head(MAX_PROBLEMS).itertuples()
        ]
        raise ReportError(problems, len(unknown))
    out = pd.DataFrame(index=frame.index)
    out["source_row"] = frame["source_row"].astype("int64")
    out["reporter_iso3"] = frame["reporting_state_iso3"].astype("str")
    out["reporting_state"] = frame["reporting_state"].astype("str")
    out["year"] = frame["year"].astype("int64")
    out["flow"] = frame["flow"].astype("str")
    out["basis"] = frame["basis"].astype("str")
    category = _text_or_null(frame["category"])
    tops = {cid: kb.top_level(cid) for cid in kb.categories}
    out["category"] = category
    out["top_category"] = category.map(tops).astype("str").mask(category.isna())
    partner = _text_or_null(frame["partner"])
    out["partner"] = partner
    out["partner_key"] = partner_keys(partner.fillna(""), frame).to_numpy()
    out["partner_iso3"] = _text_or_null(frame["partner_iso3"])
    out["partner_status"] = frame["partner_status"].astype("str")
    out["partner_note"] = _text_or_null(frame["partner_note"])
    out["items"] = frame["items"]
    out["value"] = frame["value"].astype("float64")
    for name in ("currency", "state_of_origin", "description", "comments"):
        out[name] = _text_or_null(frame[name])
    out["nil_report"] = frame["nil_report"].astype(bool)
    out["withheld"] = frame["withheld"].astype(bool)
    return out.reset_index(drop=True)


_FATAL_EXCLUSIONS = ("no readable year", "flow not known")


def _customs_lines(chunk: pd.DataFrame, reporter: str, kb: Knowledge, shown: str, done: _Accumulator) -> pd.DataFrame:
    """One canonical customs chunk → the columns of ``customs_lines``; raises on a line that cannot be read."""
    lines = chunk.copy()
    lines["reporter_iso3"] = lines["reporter_iso3"].mask(lines["reporter_iso3"] == "", reporter)
    exclusion = lines["exclusion"].astype("str")
    fatal = exclusion.str.startswith(_FATAL_EXCLUSIONS)
    checks = [
        (lines["problem"] != "", "unreadable number: " + lines["problem"].astype("str"), None),
        (fatal, exclusion, None),
        (lines["reporter_iso3"] == "", "no reporting State: give it with --customs-reporter", "reporter"),
    ]
    problems: list[tuple[int, str | None, str]] = []
    for mask, message, column in checks:
        bad = lines[mask.to_numpy()]
        text = message[mask] if isinstance(message, pd.Series) else pd.Series(message, index=bad.index)
        problems += [(int(row), column, str(note)) for row, note in zip(bad["source_row"], text, strict=True)]
    if problems:
        problems.sort(key=lambda problem: problem[0])
        listed = [InputError(shown, row, column, message) for row, column, message in problems[:MAX_PROBLEMS]]
        raise ReportError(listed, len(problems))
    skip = exclusion != ""
    done.skipped.update(exclusion[skip].str.replace(r" \(.*", "", regex=True))
    lines = lines[~skip.to_numpy()]
    done.rows += len(lines)
    out = pd.DataFrame(index=lines.index)
    for name in ("source_row", "year", "month"):
        out[name] = lines[name].astype("int64")
    out["reporter_iso3"] = lines["reporter_iso3"].astype("str")
    out["flow"] = lines["flow"].astype("str")
    for name in ("partner", "partner_iso3", "partner_note", "hs6", "description", "category", "flags", "currency"):
        out[name] = _text_or_null(lines[name])
    out["partner_key"] = lines["partner_key"].astype("str")
    out["partner_status"] = lines["partner_status"].astype("str")
    tops = {cid: kb.top_level(cid) for cid in kb.categories}
    out["top_category"] = out["category"].map(tops).astype("str").mask(out["category"].isna())
    out["unit"] = lines["unit"].astype("str")
    for name in ("items", "kg", "value"):
        out[name] = lines[name].astype("float64")
    return out.reset_index(drop=True)


# --- names and output ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def country_name(key: str) -> str:
    """A readable name for a store key: the ISO short name, or the text behind ``?name``/``*name``."""
    if not key:
        return ""
    if key[0] in "?*":
        return key[1:]
    country = pycountry.countries.get(alpha_3=key)
    if country is None:
        return key
    return str(getattr(country, "common_name", None) or country.name)


def write_table(frame: pd.DataFrame, path: Path, sheet: str = "store") -> None:
    """Write a result as .csv, .parquet or .xlsx (formula-safe, atomic: a failed write leaves nothing)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        if not path.parent.exists():
            raise InputError(str(path), None, None, f"folder {path.parent} does not exist")
        temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            with temporary.open("wb") as handle:
                write_xlsx(frame, handle, sheet)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        return
    with TableWriter(path) as writer:
        writer.write(frame)


def write_xlsx(frame: pd.DataFrame, target: io.BufferedIOBase | io.BytesIO | Any, sheet: str = "store") -> None:
    """One sheet with a bold, frozen header; text a spreadsheet would run as a formula is neutralised."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if len(frame) > XLSX_MAX_ROWS:
        raise StoreError(f"{len(frame):,} rows do not fit in an .xlsx sheet; write .csv or .parquet")
    book = Workbook(write_only=True)
    page = book.create_sheet(sheet)
    page.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in frame.columns:
        cell = WriteOnlyCell(page, value=str(name))
        cell.font = bold
        header.append(cell)
    page.append(header)
    safe = neutralise_formulas(frame)
    for row in safe.itertuples(index=False):
        page.append([_cell(value) for value in row])
    book.save(target)


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


# --- mirror comparison --------------------------------------------------------------------------------------

# Report lines summed per reporter × year × flow × basis × category × partner × currency × withheld (no nil rows).
_MIRROR_LINES_SQL = """
SELECT r.reporter_iso3 AS reporter, r.year, r.flow, r.basis, coalesce(r.category, '') AS category,
       r.partner_key, r.partner_status, coalesce(r.currency, '') AS currency, r.withheld,
       count(*) AS rows, count(r.items) AS item_rows, sum(r.items)::DOUBLE AS items,
       count(r.value) AS value_rows, sum(r.value) AS value,
       min(coalesce(r.partner, '')) AS partner_text, min(coalesce(r.partner_note, '')) AS partner_note,
       array_to_string(list(s.file || ' row ' || r.source_row ORDER BY s.file, r.source_row)[1:6], ', ')
           || CASE WHEN count(*) > 6 THEN ', …' ELSE '' END AS refs,
       array_to_string(list_distinct(list(r.description))[1:3], '; ') AS descriptions
FROM report_lines r JOIN sources s USING (source_id)
WHERE NOT r.nil_report AND r.flow IN ('export', 'import') AND {where}
GROUP BY ALL
"""

MIRROR_COLUMNS = (
    "status",
    "side",
    "year",
    "exporter",
    "exporter_name",
    "importer",
    "importer_name",
    "category",
    "category_name",
    "export_rows",
    "export_items",
    "export_value",
    "export_currency",
    "export_basis",
    "export_categories",
    "import_rows",
    "import_items",
    "import_value",
    "import_currency",
    "import_basis",
    "import_categories",
    "items_status",
    "items_diff",
    "items_rel_diff",
    "value_status",
    "value_diff",
    "value_rel_diff",
    "export_source_rows",
    "import_source_rows",
    "gaps",
    "explanation",
)
_SIDE_COLUMNS = {
    "year": "int64",
    "exporter": "str",
    "importer": "str",
    "category": "str",
    "rows": "int64",
    "item_rows": "int64",
    "items": "float64",
    "value_rows": "int64",
    "value": "float64",
    "withheld_rows": "int64",
    "currency": "str",
    "basis": "str",
    "categories": "str",
    "source_rows": "str",
    "present": "bool",
}
_STATUS_ORDER = {"mismatch": 0, "only-report": 1, "not-comparable": 2, "within-tolerance": 3, "match": 4}
_RANK = {"": 0, "not-comparable": 0, "match": 1, "within-tolerance": 2, "mismatch": 3}
_OF_RANK = {0: "not-comparable", 1: "match", 2: "within-tolerance", 3: "mismatch"}


def compare_measure(
    exporter: pd.Series,
    importer: pd.Series,
    comparable: pd.Series,
    informative: pd.Series,
    tolerance: float,
    exact: float,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(status, export − import, relative to import) of one measure, with the reconciliation's statuses.

    ``""`` where neither side gives the measure, ``not-comparable`` where only one does (or in another
    currency), else ``match`` (within ``exact``), ``within-tolerance`` or ``mismatch``.
    """
    diff = (exporter - importer).where(comparable)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = diff / importer.where(importer != 0)
    rel = rel.mask(comparable & (importer == 0) & (diff.abs() <= exact), 0.0)
    equal = diff.abs() <= exact
    within = rel.abs() <= tolerance + _EPSILON
    status = np.select(
        [~comparable & informative, ~comparable, equal, within],
        ["not-comparable", "", "match", "within-tolerance"],
        default="mismatch",
    )
    return pd.Series(status, index=exporter.index, dtype="str"), diff, rel


def _known(number: Any) -> bool:
    """A number that is there: not None, NA or NaN (cheaper than ``pd.notna`` in a loop over rows)."""
    return number is not None and number is not pd.NA and number == number


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


_AGGREGATE_SQL = """
SELECT {keys},
       sum(rows)::BIGINT AS rows,
       sum(item_rows)::BIGINT AS item_rows,
       sum(items) FILTER (WHERE item_rows > 0) AS items,
       sum(value_rows)::BIGINT AS value_rows,
       sum(value) FILTER (WHERE value_rows > 0) AS value,
       sum(CASE WHEN withheld THEN rows ELSE 0 END)::BIGINT AS withheld_rows,
       coalesce(array_to_string(list_sort(list_distinct(
           list(currency) FILTER (WHERE value_rows > 0 AND currency <> ''))), ','), '') AS currency,
       array_to_string(list_sort(list_distinct(list(basis))), ',') AS basis,
       array_to_string(list_sort(list_distinct(list(category))), ',') AS categories,
       array_to_string(list(refs ORDER BY refs), '; ') AS source_rows,
       min(partner_text) AS partner_text,
       min(partner_note) AS partner_note,
       coalesce(array_to_string(list_distinct(list(descriptions) FILTER (WHERE descriptions <> '')), '; '), '')
           AS descriptions
FROM cells GROUP BY {keys}
"""


def _aggregate(cells: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Sum summed report lines again per ``keys`` (in DuckDB: string lists per group cost nothing there).

    Values in more than one currency are not added: ``value`` is left empty and ``currency`` lists them.
    """
    with duckdb.connect() as local:
        local.register("cells", cells)
        names = ", ".join(keys)  # column names chosen by this module, never user text
        out = local.execute(_AGGREGATE_SQL.format(keys=names)).df()
    for name in ("currency", "basis", "categories", "source_rows", "partner_text", "partner_note", "descriptions"):
        out[name] = out[name].fillna("").astype("str")
    out["value"] = out["value"].where(~out["currency"].str.contains(",", regex=False))
    return out


class _Mirror:
    """Builds the mirror table from report lines summed per cell (see :meth:`Store.mirror`)."""

    def __init__(
        self,
        kb: Knowledge,
        cells: pd.DataFrame,
        coverage: list[tuple[Any, ...]],
        tolerance: float,
        value_tolerance: float,
    ) -> None:
        self.kb, self.tolerance, self.value_tolerance = kb, tolerance, value_tolerance
        self.top = {cid: kb.top_level(cid) for cid in kb.categories}
        self.lineage = {cid: set(kb.ancestors(cid)) for cid in kb.categories}
        self.covered = {(state, int(year), flow) for state, year, flow, _ in coverage}
        self.nil = {(state, int(year), flow) for state, year, flow, nil in coverage if nil}
        for name in ("reporter", "flow", "basis", "category", "partner_key", "partner_status", "currency"):
            cells[name] = cells[name].fillna("").astype("str")
        for name in ("partner_text", "partner_note", "refs", "descriptions"):
            cells[name] = cells[name].fillna("").astype("str")
        cells["year"] = cells["year"].astype("int64")
        self.cells = cells

    # roles -----------------------------------------------------------------------------------------------
    def _roles(self) -> pd.DataFrame:
        cells = self.cells
        actual = cells[cells["basis"] == "actual"][["reporter", "year", "flow"]].drop_duplicates()
        actual["chosen"] = "actual"
        cells = cells.merge(actual, on=["reporter", "year", "flow"], how="left")
        cells["chosen"] = cells["chosen"].fillna("authorized").astype("str")
        resolved = cells["partner_status"] == "ok"
        cells["role"] = np.select(
            [
                cells["withheld"].to_numpy() & (~resolved | (cells["category"] == "")).to_numpy(),
                (~resolved).to_numpy(),
                (cells["category"] == "").to_numpy(),
                (cells["basis"] != cells["chosen"]).to_numpy(),
            ],
            ["withheld", "unresolved", "withheld", "other-basis"],
            default="pair",
        )
        return cells

    def _levels(self, pairs: pd.DataFrame) -> pd.Series:
        """The category each row is compared at: its coarsest ancestor that either side uses for the pair."""
        present = set(zip(pairs["year"], pairs["exporter"], pairs["importer"], pairs["category"], strict=True))
        chains = {cid: list(reversed(self.kb.ancestors(cid))) for cid in self.kb.categories}
        levels = []
        for year, exporter, importer, category in zip(
            pairs["year"], pairs["exporter"], pairs["importer"], pairs["category"], strict=True
        ):
            chain = chains.get(category, [category])
            levels.append(next(c for c in chain if (year, exporter, importer, c) in present))
        return pd.Series(levels, index=pairs.index, dtype="str")

    # the table -------------------------------------------------------------------------------------------
    def run(self) -> pd.DataFrame:
        if self.cells.empty:
            return pd.DataFrame({name: pd.Series(dtype="object") for name in MIRROR_COLUMNS})
        cells = self._roles()
        export = cells["flow"] == "export"
        cells["exporter"] = np.where(export, cells["reporter"], cells["partner_key"])
        cells["importer"] = np.where(export, cells["partner_key"], cells["reporter"])
        pairs = cells[cells["role"] == "pair"].copy()
        pairs["level"] = self._levels(pairs) if len(pairs) else pd.Series(dtype="str")
        sides = {flow: self._side(pairs[pairs["flow"] == flow]) for flow in ("export", "import")}
        keys = ["year", "exporter", "importer", "category"]
        table = sides["export"].add_prefix("export_").rename(columns={f"export_{k}": k for k in keys})
        table = table.merge(
            sides["import"].add_prefix("import_").rename(columns={f"import_{k}": k for k in keys}),
            on=keys,
            how="outer",
        )
        table = self._statuses(table)
        others = self._unpaired(cells[cells["role"] != "pair"])
        table = pd.concat([table, others], ignore_index=True) if len(others) else table
        table = self._fill(table)
        self._explain(table, cells)
        table["category_name"] = table["category"].map(
            lambda cid: self.kb.label(cid) if cid in self.kb.categories else ""
        )
        table["exporter_name"] = table["exporter"].map(country_name).astype("str")
        table["importer_name"] = table["importer"].map(country_name).astype("str")
        table["order"] = table["status"].map(_STATUS_ORDER)
        table = table.sort_values(["order", "year", "exporter", "importer", "category", "side"], kind="stable")
        return table[list(MIRROR_COLUMNS)].reset_index(drop=True)

    def _side(self, rows: pd.DataFrame) -> pd.DataFrame:
        """One flow's rows summed per (year, exporter, importer, comparison category)."""
        if rows.empty:
            return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in _SIDE_COLUMNS.items()})
        out = _aggregate(rows, ["year", "exporter", "importer", "level"])
        out["present"] = True
        return out.rename(columns={"level": "category"})[list(_SIDE_COLUMNS)]

    def _statuses(self, table: pd.DataFrame) -> pd.DataFrame:
        has_e = table["export_present"].eq(True)
        has_i = table["import_present"].eq(True)
        both = has_e & has_i
        for prefix in ("export_", "import_"):
            for name in ("rows", "item_rows", "value_rows", "withheld_rows"):
                table[prefix + name] = table[prefix + name].fillna(0).astype("int64")
            for name in ("currency", "basis", "categories", "source_rows"):
                table[prefix + name] = table[prefix + name].fillna("").astype("str")
        items_comparable = (
            both
            & (table["export_item_rows"] == table["export_rows"])
            & (table["import_item_rows"] == table["import_rows"])
        )
        items_informative = both & ((table["export_item_rows"] > 0) | (table["import_item_rows"] > 0))
        table["items_status"], table["items_diff"], table["items_rel_diff"] = compare_measure(
            table["export_items"], table["import_items"], items_comparable, items_informative, self.tolerance, _EPSILON
        )
        single = ~table["export_currency"].str.contains(",", regex=False)
        value_comparable = (
            both
            & (table["export_value_rows"] == table["export_rows"])
            & (table["import_value_rows"] == table["import_rows"])
            & single
            & (table["export_currency"] == table["import_currency"])
        )
        value_informative = both & ((table["export_value_rows"] > 0) | (table["import_value_rows"] > 0))
        table["value_status"], table["value_diff"], table["value_rel_diff"] = compare_measure(
            table["export_value"],
            table["import_value"],
            value_comparable,
            value_informative,
            self.value_tolerance,
            _EXACT_VALUE,
        )
        rank = np.maximum(table["items_status"].map(_RANK), table["value_status"].map(_RANK))
        table["status"] = np.where(both, rank.map(_OF_RANK), "only-report")
        table["side"] = np.select([both, has_e], ["both", "exporter"], default="importer")
        table["kind"] = "pair"
        return table

    def _unpaired(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Withheld, unresolved and other-basis rows: one not-comparable row each, on their reporter's side."""
        if rows.empty:
            return pd.DataFrame()
        keys = ["role", "flow", "year", "exporter", "importer", "category", "basis", "chosen"]
        out = _aggregate(rows, keys)
        table = pd.DataFrame(
            {
                "year": out["year"],
                "exporter": out["exporter"],
                "importer": out["importer"],
                "category": out["category"],
                "status": "not-comparable",
                "side": np.where(out["flow"] == "export", "exporter", "importer"),
                "kind": out["role"],
                "chosen": out["chosen"],
                "partner_text": out["partner_text"],
                "partner_note": out["partner_note"],
                "descriptions": out["descriptions"],
            }
        )
        for flow in ("export", "import"):
            mine = out["flow"] == flow
            table[f"{flow}_rows"] = out["rows"].where(mine, 0)
            table[f"{flow}_items"] = out["items"].where(mine)
            table[f"{flow}_value"] = out["value"].where(mine)
            table[f"{flow}_currency"] = out["currency"].where(mine, "")
            table[f"{flow}_basis"] = out["basis"].where(mine, "")
            table[f"{flow}_categories"] = out["categories"].where(mine, "")
            table[f"{flow}_source_rows"] = out["source_rows"].where(mine, "")
        return table

    @staticmethod
    def _fill(table: pd.DataFrame) -> pd.DataFrame:
        for name in ("items_status", "value_status", "partner_text", "partner_note", "descriptions", "chosen"):
            table[name] = table[name].fillna("").astype("str") if name in table else ""
        for prefix in ("export_", "import_"):
            for name in ("rows", "withheld_rows"):
                column = prefix + name
                table[column] = table[column].fillna(0).astype("int64") if column in table else 0
            for name in ("currency", "basis", "categories", "source_rows"):
                table[prefix + name] = table[prefix + name].fillna("").astype("str")
        for name in ("items_diff", "items_rel_diff", "value_diff", "value_rel_diff"):
            table[name] = table[name].astype("float64") if name in table else np.nan
        for name in ("exporter", "importer", "category", "status", "side", "kind"):
            table[name] = table[name].fillna("").astype("str")
        table["year"] = table["year"].astype("int64")
        return table.reset_index(drop=True)

    # explanations ----------------------------------------------------------------------------------------
    def _explain(self, table: pd.DataFrame, cells: pd.DataFrame) -> None:
        table_rows = table.astype("object")  # plain Python values: iterating Arrow-backed strings is slow
        only = table_rows[table_rows["status"] == "only-report"]
        self.only = defaultdict(list)  # (year, exporter, importer, side) → rows
        for row in only.itertuples(index=False):
            self.only[(row.year, row.exporter, row.importer, row.side)].append(row)
        self.unpaired = defaultdict(list)  # (reporter, year, flow) → unpaired rows of that report
        for row in table_rows[table_rows["kind"] != "pair"].itertuples(index=False):
            reporter = row.exporter if row.side == "exporter" else row.importer
            self.unpaired[(reporter, row.year, "export" if row.side == "exporter" else "import")].append(row)
        texts, gaps = [], []
        for row in table_rows.itertuples(index=False):
            found: list[str] = []
            if row.kind == "pair" and row.status == "only-report":
                text = self._only(row, found)
            elif row.kind == "pair":
                text = self._both(row, found)
            else:
                text = self._not_paired(row, found)
            texts.append(text)
            gaps.append(";".join(dict.fromkeys(found)))
        table["explanation"] = pd.Series(texts, index=table.index, dtype="str")
        table["gaps"] = pd.Series(gaps, index=table.index, dtype="str")

    def _name(self, key: str) -> str:
        name = country_name(key)
        return f"{name} ({key})" if key and key[0] not in "?*" and name != key else (name or "an unnamed partner")

    def _category(self, cid: str) -> str:
        return f"{cid} ({self.kb.label(cid)})" if cid in self.kb.categories else (cid or "no category")

    @staticmethod
    def _amount(items: float, value: float, currency: str) -> str:
        parts = []
        if _known(items):
            parts.append(f"{_number(items)} item{'s' if items != 1 else ''}")
        if _known(value) and currency:
            parts.append(f"{currency} {_number(value)}")
        return " worth ".join(parts) if parts else "no number"

    def _side_amount(self, row: Any, flow: str) -> str:
        return self._amount(
            getattr(row, f"{flow}_items"), getattr(row, f"{flow}_value"), getattr(row, f"{flow}_currency")
        )

    def _same_branch(self, first: str, second: str) -> bool:
        """One category lies within the other (``VIII.SA`` and ``VIII.SA.4``), or either is unknown."""
        if first not in self.lineage or second not in self.lineage:
            return True
        return first in self.lineage[second] or second in self.lineage[first]

    def _may_be_same(self, row: Any, other: Any, flow: str, other_flow: str) -> bool:
        """Worth a category-differs hint: the same category tree, or the same number of items or value."""
        if self.top.get(row.category) == self.top.get(other.category):
            return True
        mine = (getattr(row, f"{flow}_items"), getattr(row, f"{flow}_value"))
        theirs = (getattr(other, f"{other_flow}_items"), getattr(other, f"{other_flow}_value"))
        return any(_known(a) and _known(b) and abs(a - b) <= _EPSILON for a, b in zip(mine, theirs, strict=True))

    def _only(self, row: Any, gaps: list[str]) -> str:
        exporting = row.side == "exporter"
        me, other = (row.exporter, row.importer) if exporting else (row.importer, row.exporter)
        flow, other_flow = ("export", "import") if exporting else ("import", "export")
        counterpart = "importer" if exporting else "exporter"
        to, back = ("to", "from") if exporting else ("from", "to")
        text = (
            f"{self._name(me)} reports {flow}ing {self._side_amount(row, flow)} of {self._category(row.category)} "
            f"{to} {self._name(other)} in {row.year}"
        )
        key = (other, row.year, other_flow)
        if key in self.nil:
            gaps.append("nil-report")
            return f"{text}, but {self._name(other)} filed a nil report for its {row.year} {other_flow}s."
        hints = []
        if key not in self.covered:
            gaps.append("no-counterpart-report")
            text += f"; no {row.year} {other_flow} report of {self._name(other)} is in the store."
        else:
            text += f"; {self._name(other)}'s {row.year} {other_flow} report lists no such {other_flow}."
            differs = [
                r
                for r in self.only[(row.year, row.exporter, row.importer, counterpart)]
                if self._may_be_same(row, r, flow, other_flow)
            ]
            if differs:
                gaps.append("category-differs")
                listed = ", ".join(f"{r.category} ({self._side_amount(r, other_flow)})" for r in differs)
                hints.append(
                    f"{self._name(other)} reports {listed} {back} {self._name(me)} that year instead: check whether "
                    "the category differs."
                )
            hints += self._unpaired_hints(other, row.year, other_flow, row.category, gaps)
        neighbours = [
            r
            for year in (row.year - 1, row.year + 1)
            for r in self.only[(year, row.exporter, row.importer, counterpart)]
            if self._same_branch(r.category, row.category)
        ]
        if neighbours:
            gaps.append("calendar-year")
            years = ", ".join(sorted({str(r.year) for r in neighbours}))
            listed = ", ".join(sorted({r.category for r in neighbours}))
            hints.append(
                f"{self._name(other)} reports {listed} {other_flow}s {back} {self._name(me)} in {years}: the two may "
                "count the transfer in different years."
            )
        return " ".join([text if text.endswith(".") else text + ".", *hints])

    def _unpaired_hints(self, state: str, year: int, flow: str, category: str, gaps: list[str]) -> list[str]:
        """What in the other State's report could be the missing line: withheld, unresolved, other-basis rows."""
        hints = []
        for other in self.unpaired.get((state, year, flow), []):
            if not self._same_branch(other.category, category):
                continue
            refs = getattr(other, f"{flow}_source_rows")
            what = self._category(other.category) if other.category else "a transfer"
            if other.kind == "withheld":
                gaps.append("withheld")
                hints.append(f"{self._name(state)} withholds the partner of {what} ({refs}); it may be this one.")
            elif other.kind == "unresolved":
                gaps.append("unresolved-partner")
                hints.append(
                    f"{self._name(state)} names a partner hsmap cannot identify ({other.partner_text!r}, {refs}); "
                    "it may be this one."
                )
            else:
                gaps.append("authorised-vs-actual")
                basis = getattr(other, f"{flow}_basis")
                hints.append(
                    f"{self._name(state)} reports {what} on the {basis} basis too ({refs}), which is not compared."
                )
        return hints

    def _both(self, row: Any, gaps: list[str]) -> str:
        export_amount = self._amount(row.export_items, row.export_value, row.export_currency)
        import_amount = self._amount(row.import_items, row.import_value, row.import_currency)
        text = (
            f"{self._name(row.exporter)} reports exporting {export_amount} of {self._category(row.category)} to "
            f"{self._name(row.importer)} in {row.year}; {self._name(row.importer)} reports importing {import_amount}."
        )
        hints = []
        if row.items_status in ("mismatch", "within-tolerance"):
            hints.append(
                f"Items differ by {row.items_diff:+,.0f} ({row.items_rel_diff:+.1%} of the importer's figure)."
                if np.isfinite(row.items_rel_diff)
                else f"Items differ by {row.items_diff:+,.0f}."
            )
        if row.value_status in ("mismatch", "within-tolerance"):
            rel = f" ({row.value_rel_diff:+.1%} of the importer's figure)" if np.isfinite(row.value_rel_diff) else ""
            hints.append(f"Values differ by {row.export_currency} {row.value_diff:+,.2f}{rel}.")
        if row.items_status == "not-comparable":
            hints.append(
                self._missing(
                    "number of items", row.export_item_rows, row.export_rows, row.import_item_rows, row.import_rows
                )
            )
        if row.value_status == "not-comparable":
            currencies = {c for c in (row.export_currency + "," + row.import_currency).split(",") if c}
            if len(currencies) > 1 and row.export_value_rows and row.import_value_rows:
                gaps.append("currency")
                hints.append(
                    f"Values are in {', '.join(sorted(currencies))}: the store does not convert currencies, so "
                    "values are not compared."
                )
            else:
                hints.append(
                    self._missing(
                        "value", row.export_value_rows, row.export_rows, row.import_value_rows, row.import_rows
                    )
                )
        reported = {c for c in (row.export_categories + "," + row.import_categories).split(",") if c}
        if reported != {row.category}:
            gaps.append("aggregated")
            hints.append(
                f"Compared at {row.category}, the finest level both reports give (exporter: {row.export_categories}; "
                f"importer: {row.import_categories})."
            )
        if row.export_basis != row.import_basis:
            gaps.append("authorised-vs-actual")
            authorized = row.exporter if row.export_basis == "authorized" else row.importer
            hints.append(
                f"{self._name(authorized)} reports authorised transfers (licences), the other State actual ones: a "
                "licence may be used in another year, in part, or not at all."
            )
        if row.export_withheld_rows or row.import_withheld_rows:
            gaps.append("withheld")
            hints.append("Some of these rows withhold numbers (ATT Art. 13(3)).")
        if row.status == "mismatch":
            for side, flow in (("exporter", "export"), ("importer", "import")):
                neighbours = [
                    r
                    for year in (row.year - 1, row.year + 1)
                    for r in self.only[(year, row.exporter, row.importer, side)]
                    if r.kind == "pair" and r.category == row.category
                ]
                if neighbours:
                    gaps.append("calendar-year")
                    years = ", ".join(sorted({str(r.year) for r in neighbours}))
                    hints.append(
                        f"The {side} also reports {row.category} {flow}s of this pair in {years} with no counterpart: "
                        "part of the transfer may be counted in another year."
                    )
        return " ".join([text, *hints])

    @staticmethod
    def _missing(what: str, export_given: int, export_rows: int, import_given: int, import_rows: int) -> str:
        def side(name: str, given: int, rows: int) -> str:
            if given == rows:
                return f"the {name} gives it"
            if given == 0:
                return f"the {name} gives none"
            return f"the {name} gives it on {given} of {rows} rows"

        exporter, importer = side("exporter", export_given, export_rows), side("importer", import_given, import_rows)
        return f"The {what} is not compared: {exporter}, {importer}."

    def _not_paired(self, row: Any, gaps: list[str]) -> str:
        exporting = row.side == "exporter"
        reporter = row.exporter if exporting else row.importer
        flow, other_flow = ("export", "an import") if exporting else ("import", "an export")
        refs = getattr(row, f"{flow}_source_rows")
        what = self._category(row.category) if row.category else "a transfer"
        if row.kind == "withheld":
            gaps.append("withheld")
            desc = f" ({row.descriptions})" if row.descriptions else ""
            return (
                f"{self._name(reporter)} withholds the partner or category of {what}{desc} in its {row.year} {flow} "
                f"report ({refs}; ATT Art. 13(3)): it cannot be paired with {other_flow} report."
            )
        if row.kind == "unresolved":
            gaps.append("unresolved-partner")
            note = "" if row.partner_note.startswith("no exact match") else f" ({row.partner_note})"
            return (
                f"{self._name(reporter)}'s {row.year} {flow} report names the partner {row.partner_text!r}{note} "
                f"({refs}), which is not a State hsmap can identify: add an alias to mappings/partners.csv or "
                "correct the report."
            )
        gaps.append("authorised-vs-actual")
        basis = getattr(row, f"{flow}_basis")
        return (
            f"{self._name(reporter)}'s {row.year} {flow} report counts {basis} transfers on these rows ({refs}) and "
            f"{row.chosen} transfers on its others; the two are never added, so only the {row.chosen} rows are "
            "compared."
        )
