"""Opening and closing the store's DuckDB file: where it lives, read-only or writable, schema version checks."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import pandas as pd

from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.store.errors import StoreError
from hsmap.store.schema import DDL, SCHEMA_VERSION

DB_FILENAME = "store.duckdb"
DB_ENVIRONMENT = "HSMAP_STORE"  # a path that overrides the default location


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


_DUCKDB_MAGIC = (8, b"DUCK")  # where every DuckDB database file says what it is
_DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".xlsx", ".xlsm", ".json", ".html")


def _check_database_file(path: Path) -> None:
    """The store must be a DuckDB file: DuckDB opens a .csv or .parquet given as a database as an empty
    in-memory store with a view, so loading "into" it would report success and store nothing. A data file's
    name is refused even when the file does not exist yet (``--db report.csv`` is a mix-up of arguments)."""
    if path.suffix.lower() in _DATA_SUFFIXES:
        raise StoreError(
            f"{path}: a store is a DuckDB file such as store.duckdb, not a {path.suffix} file; give another --db"
        )
    if not path.exists():
        return
    if not path.is_file():
        raise StoreError(f"{path}: is a folder, not a store file; give the path of a store or of a new file")
    offset, magic = _DUCKDB_MAGIC
    with path.open("rb") as handle:
        handle.seek(offset)
        found = handle.read(len(magic))
    if found != magic:
        raise StoreError(
            f"{path}: not an hsmap store (not a DuckDB database file); give the path of a store or of a new file"
        )


class StoreConnection:
    """The open DuckDB connection (``con``) and the knowledge base (``kb``) that loading, queries and the mirror
    comparison share; :class:`hsmap.store.Store` gathers them on top of it."""

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False, kb: Knowledge | None = None):
        self.path = Path(path) if path is not None and str(path) != ":memory:" else None
        if path is None:
            self.path = default_db_path()
        self._kb = kb
        target = ":memory:" if self.path is None else str(self.path)
        if self.path is not None:
            _check_database_file(self.path)
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
    def __enter__(self) -> Self:
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
        for statement in DDL:
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
