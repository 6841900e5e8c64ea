"""Opening and closing the store's DuckDB file: where it lives, read-only or writable, schema version checks,
and :func:`updating` it without locking readers out."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import pandas as pd

from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.outputs import AtomicFile
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


SANDBOX = (  # DuckDB's own switches ("Securing DuckDB" in its manual); the lock comes last
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET lock_configuration = true",
)
_SANDBOXING = threading.Lock()  # one connection at a time checks and sets a shared instance's sandbox
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


LOCK_SUFFIX = ".hsmap-lock"  # the file writers take turns on, beside the store


@contextmanager
def updating(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[Path]:
    """A copy of the store at ``path`` (or a new file) to write into, put in its place when the block ends.

    DuckDB lets a file have one writer or any number of readers, so a load written into the store itself
    would lock every query and the web page out for as long as it runs. Written into a copy, readers keep
    the store as it was until the copy replaces it in one rename (a reader that has it open keeps that
    version). Writers take turns on a lock file beside the store; ``on_wait`` is called once when this one
    has to wait. Close the connection to the copy inside the block. On any failure — a rejected load, an
    error, Ctrl+C — the copy is removed and the store is unchanged.
    """
    _check_database_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _writers_take_turns(path, on_wait), AtomicFile(path) as side:
        wal, side_wal = _wal(path), _wal(side.partial)
        try:
            if path.exists():
                _copy_store(path, side.partial)
            yield side.partial
            wal.unlink(missing_ok=True)  # copied into the side file already; stale beside the new file
        finally:
            side_wal.unlink(missing_ok=True)


def _wal(path: Path) -> Path:
    """DuckDB's write-ahead log of a database file."""
    return path.with_name(path.name + ".wal")


def _copy_store(path: Path, copy: Path) -> None:
    """Copy a store with its write-ahead log, holding DuckDB's reader lock so that no writer outside hsmap's
    turns (a Python program) changes it meanwhile."""
    try:
        reader = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise StoreError(f"{path}: cannot open the store ({str(error).splitlines()[0]})") from None
    try:
        shutil.copyfile(path, copy)
        if _wal(path).exists():
            shutil.copyfile(_wal(path), _wal(copy))
    finally:
        reader.close()


@contextmanager
def _writers_take_turns(path: Path, on_wait: Callable[[], None] | None) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows has no flock: there two loads at once are not kept apart
        yield
        return
    with path.with_name(path.name + LOCK_SUFFIX).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class StoreConnection:
    """The open DuckDB connection (``con``) and the knowledge base (``kb``) that loading, queries and the mirror
    comparison share; :class:`hsmap.store.Store` gathers them on top of it."""

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        read_only: bool = False,
        sandboxed: bool = False,
        kb: Knowledge | None = None,
    ):
        """Open the store at ``path``. ``sandboxed`` (for SQL typed by a person, and the web page): the
        connection reads the store and nothing else — no files, no network, no extensions, and no setting
        can give them back (:data:`SANDBOX`)."""
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
            if sandboxed:
                self._sandbox()
        except BaseException:
            self.con.close()
            raise

    def _sandbox(self) -> None:
        """Apply :data:`SANDBOX`. DuckDB shares one database instance among a process's connections to a
        file, so another sandboxed connection (in another thread of the web page) may have locked it already:
        then it is checked, not set."""
        setting = "SELECT current_setting('lock_configuration'), current_setting('enable_external_access')"
        with _SANDBOXING:
            locked, external = self.con.execute(setting).fetchone() or (False, True)
            if not locked:
                for statement in SANDBOX:
                    self.con.execute(statement)
        if locked and external:
            raise StoreError(f"{self.path}: the store is open in this process with external access locked on")

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
        if not statement.strip().strip(";").strip():
            raise StoreError('no SQL statement given (e.g. "SELECT count(*) FROM report_lines")')
        try:
            cursor = self.con.execute(statement, parameters or [])
        except duckdb.Error as error:
            raise StoreError(str(error).splitlines()[0]) from None
        return cursor.df() if cursor is not None and cursor.description else pd.DataFrame()
