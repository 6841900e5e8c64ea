"""Loading files into the store: idempotent by content hash, all-or-nothing per file, and removing them again."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

from hsmap.customs import CustomsReading, iter_customs
from hsmap.errors import InputError
from hsmap.io import CHUNK_ROWS
from hsmap.report import read_report
from hsmap.store.connection import StoreConnection
from hsmap.store.errors import StoreError
from hsmap.store.filters import reporter_key
from hsmap.store.lines import LineCount, build_customs_lines, build_report_lines
from hsmap.store.schema import CUSTOMS_LINE_COLUMNS, REPORT_LINE_COLUMNS, Data


def file_digest(path: Path) -> tuple[str, int]:
    """(SHA-256 hex digest, size in bytes) of a file's content: the identity of a loaded source."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


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


def _given(options: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}


def _problem_text(problem: InputError) -> str:
    parts = [f"row {problem.row}"] if problem.row is not None else []
    if problem.column:
        parts.append(f"column '{problem.column}'")
    return f"{', '.join(parts)}: {problem.message}" if parts else problem.message


class Loading(StoreConnection):
    """The loading half of :class:`hsmap.store.Store`."""

    def _identify(self, path: Path | str) -> tuple[Path, str, int, LoadResult | None]:
        """(path, content digest, size, the source already holding that content if any) of a file to load."""
        path = Path(path)
        if not path.is_file():
            raise InputError(path.name, None, None, "file not found")
        digest, size = file_digest(path)
        return path, digest, size, self._existing(digest)

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
        stated_by: Mapping[str, str] | None = None,
    ) -> LoadResult:
        """Validate a whole ATT annual report (.csv/.xlsx) and store it, or store nothing and raise.

        Raises :class:`~hsmap.report.ReportError` (or :class:`InputError`) naming the rows at fault. The
        defaults fill a column the file lacks, and ``stated_by`` names how to give them in a message, as in
        :func:`hsmap.report.read_report`.
        """
        path, digest, size, existing = self._identify(path)
        if existing is not None:
            return existing
        frame = read_report(
            path,
            sheet,
            known_categories=self.kb.categories,
            reporting_state=reporting_state,
            year=year,
            flow=flow,
            basis=basis,
            stated_by=stated_by,
        )
        options = {"sheet": sheet, "reporting_state": reporting_state, "year": year, "flow": flow, "basis": basis}
        lines = build_report_lines(frame, self.kb, path.name)
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
        reading: CustomsReading | None = None,
        *,
        reporter: str | None = None,
        sheet: str | None = None,
        chunk_rows: int = CHUNK_ROWS,
    ) -> LoadResult:
        """Classify and store a customs file (declaration lines or a Comtrade-shaped extract), read as
        ``reading`` says (:class:`hsmap.customs.CustomsReading`), or nothing.

        ``reporter`` is the State whose customs recorded the lines, for files without a reporter column.
        A file with an unreadable number, year or flow is rejected whole. Comtrade breakdown rows and
        partner-World rows repeat a total and are skipped (the message counts them).
        """
        path, digest, size, existing = self._identify(path)
        if existing is not None:
            return existing
        default_reporter = reporter_key(reporter) if reporter else ""
        reading = reading or CustomsReading()
        options = {
            "reporter": reporter,
            "sheet": sheet,
            "edition": reading.edition,
            "currency": reading.currency,
            "flow": reading.flow,
            "year": reading.year,
            "code_column": reading.code,
            "text_column": reading.text,
            "partner_column": reading.partner,
        }
        source_id = self._next_id()
        done = LineCount()
        self.con.begin()
        try:
            for chunk in iter_customs(path, reading, sheet=sheet, chunk_rows=chunk_rows, kb=self.kb):
                lines = build_customs_lines(chunk, default_reporter, self.kb, path.name, done)
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
