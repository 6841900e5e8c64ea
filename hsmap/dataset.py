"""Datasets: a folder or glob of declaration files read as one ordered table, and written back file for file.

A customs administration keeps a year of declarations as many files, usually partitioned Hive-style by
folder (``year=2024/month=01/part-0.parquet``). :func:`resolve_dataset` turns a file, a folder or a glob into
the ordered list of its files with the partition values their folders name, so a ``year`` that lives only in
the folder name still reaches the reconciliation. The order is fixed — files in sorted path order, rows in
file order — so every engine sees, and writes, the same rows in the same order.

:class:`DatasetWriter` writes one Parquet file per input file under the same relative path into a staging
folder that is put in place only when every file succeeded: a failed run never leaves half a dataset, and a
folder is only written into when it is new, empty or an earlier hsmap output (:mod:`hsmap.outputs`).
Partition columns are left out of the written files (their folders carry them), as Hive-style readers
(pyarrow, Dask, Spark) refuse a column that is both in the file and in the folder name.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from urllib.parse import unquote

import pandas as pd

from hsmap.errors import InputError
from hsmap.io import CHUNK_ROWS, TableWriter, iter_table
from hsmap.outputs import (
    PARTIAL_SUFFIX,
    check_folder,
    check_output_folder,
    partial_path,
    refuse_overlap,
    swap_folder,
    write_manifest,
)

FOLDER_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")  # what a folder scan picks up (not .txt: read-me files)
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class DatasetFile:
    """One file of a dataset: where it is, its path relative to the dataset root, and its partition values."""

    path: Path
    relative: PurePosixPath
    partitions: tuple[tuple[str, str], ...] = ()

    @property
    def is_parquet(self) -> bool:
        return self.path.suffix.lower() in (".parquet", ".pq")


@dataclass(frozen=True)
class Piece:
    """A slice of one file that a worker reads on its own: some Parquet row groups, or a whole CSV file."""

    file: DatasetFile
    row_groups: tuple[int, ...] | None = None  # None: the whole file
    first_row: int = 0  # position of the piece's first line within its file


def is_dataset(source: Path | str) -> bool:
    """A folder or a glob pattern (as opposed to one file)."""
    return bool(_GLOB.search(str(source))) or Path(source).is_dir()


def _hidden(relative: PurePosixPath) -> bool:
    """Marker and temporary files that dataset writers leave (``_SUCCESS``, ``_metadata``, ``.x.partial``,
    hsmap's ``_hsmap_manifest.json``)."""
    return any(part.startswith((".", "_")) or part.endswith(PARTIAL_SUFFIX) for part in relative.parts)


def _partitions(relative: PurePosixPath) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for part in relative.parent.parts:
        key, equals, value = part.partition("=")
        if equals and key:
            found[unquote(key)] = unquote(value)
    return tuple(found.items())


def _glob(pattern: str) -> tuple[Path, list[Path]]:
    """The fixed folder in front of the first wildcard, and the files the rest of the pattern matches."""
    parts = Path(pattern).parts
    first = next(position for position, part in enumerate(parts) if _GLOB.search(part))
    root = Path(*parts[:first]) if first else Path(".")
    rest = str(PurePosixPath(*parts[first:]))
    return root, [path for path in root.glob(rest) if path.is_file()]


def resolve_dataset(source: Path | str) -> list[DatasetFile]:
    """The files of a file, folder or glob, in sorted path order, each with its Hive-style partition values.

    A folder is scanned recursively for .csv, .tsv and .parquet files; files and folders whose name starts
    with ``.`` or ``_`` are skipped (writers' markers and temporaries). Paths are relative to the folder (or to
    the fixed part of the glob) less any partition folders it ends in, so ``data/year=2024`` keeps its year.
    Raises InputError when nothing matches.
    """
    text = str(source)
    if _GLOB.search(text):
        root, paths = _glob(text)
    elif Path(source).is_dir():
        root = Path(source)
        paths = [p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in FOLDER_SUFFIXES]
    else:
        path = Path(source)
        if not path.exists():
            raise InputError(text, None, None, "file not found")
        return [DatasetFile(path, PurePosixPath(path.name))]
    base = root
    while "=" in base.name:  # a root inside partition folders keeps them: year=2024/… stays a partition value
        base = base.parent
    files = []
    for path in paths:
        relative = PurePosixPath(path.relative_to(base).as_posix())
        if not _hidden(relative):
            files.append(DatasetFile(path, relative, _partitions(relative)))
    if not files:
        raise InputError(text, None, None, "no .csv or .parquet files found (nor any file the pattern matches)")
    return sorted(files, key=lambda file: file.relative.parts)


def with_partitions(frame: pd.DataFrame, file: DatasetFile) -> pd.DataFrame:
    """The frame with a text column per partition value of its file; a column the file has itself wins."""
    added = {key: value for key, value in file.partitions if key not in frame.columns}
    if not added:
        return frame
    columns = {key: pd.Series(value, index=frame.index, dtype="str") for key, value in added.items()}
    combined = pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)
    combined.attrs = frame.attrs  # what the reader noted (bytes read, for progress)
    return combined


def added_partitions(file: DatasetFile) -> list[str]:
    """The partition columns :func:`with_partitions` adds to this file's rows (those it does not hold itself)."""
    if not file.partitions:
        return []
    own = set(file_columns(file))
    return [key for key, _ in file.partitions if key not in own]


def file_columns(file: DatasetFile) -> list[str]:
    """The file's own column names, read from the Parquet footer or the first block of the CSV."""
    if file.is_parquet:
        import pyarrow.parquet as pq  # here: a dataset of CSV files never needs it

        try:
            return list(pq.read_schema(file.path).names)
        except (OSError, ValueError) as error:
            raise InputError(str(file.path), None, None, f"not a readable Parquet file ({error})") from None
    return [str(name) for name in next(iter_table(file.path, chunk_rows=1)).columns]


def iter_file(file: DatasetFile, chunk_rows: int = CHUNK_ROWS, sheet: str | None = None) -> Iterator[pd.DataFrame]:
    """Chunks of one dataset file, in order, with its partition columns."""
    for chunk in iter_table(file.path, chunk_rows=chunk_rows, sheet=sheet):
        yield with_partitions(chunk, file)


def pieces(files: list[DatasetFile], rows: int = 1_000_000) -> list[Piece]:
    """Cut a dataset into pieces of about ``rows`` lines for workers, in dataset order.

    Parquet files are cut at row-group boundaries; a CSV file is one piece (a quoted field may hold a line
    break, so a CSV cannot be cut at a byte offset safely; split big CSV files, or convert them to Parquet).
    """
    import pyarrow.parquet as pq

    out: list[Piece] = []
    for file in files:
        if not file.is_parquet:
            out.append(Piece(file))
            continue
        try:
            metadata = pq.ParquetFile(file.path).metadata
        except (OSError, ValueError) as error:
            raise InputError(str(file.path), None, None, f"not a readable Parquet file ({error})") from None
        group: list[int] = []
        group_rows = start = 0
        for index in range(metadata.num_row_groups):
            if group and group_rows + metadata.row_group(index).num_rows > rows:
                out.append(Piece(file, tuple(group), start))
                start += group_rows
                group, group_rows = [], 0
            group.append(index)
            group_rows += metadata.row_group(index).num_rows
        out.append(Piece(file, tuple(group), start))
    return out


def read_piece(piece: Piece) -> pd.DataFrame:
    """One piece as a DataFrame with the file's partition columns: the same cells, types and order as
    :func:`iter_file` gives for those rows."""
    if piece.row_groups is None:
        frame = pd.concat(list(iter_table(piece.file.path)), ignore_index=True)
    else:
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(piece.file.path)
        table = parquet.read_row_groups(list(piece.row_groups)) if piece.row_groups else None
        frame = (table if table is not None else parquet.schema_arrow.empty_table()).to_pandas()
    return with_partitions(frame, piece.file)


def input_paths(source: Path | str) -> list[Path]:
    """What reading ``source`` reads, for the checks that an output is no input: the file or folder itself, or
    every file a glob matches (a glob names no file an output could be compared with)."""
    if _GLOB.search(str(source)):
        return [file.path for file in resolve_dataset(source)]
    return [Path(source)]


def refuse_output_overlap(source: Path | str, files: list[DatasetFile], target: Path) -> None:
    """Refuse a target folder that is an input, holds one, or lies inside the input folder."""
    roots = [] if _GLOB.search(str(source)) else [Path(source)]
    refuse_overlap(target, [*roots, *(file.path for file in files)], folder=True)


def output_paths(files: list[DatasetFile], target: Path) -> dict[PurePosixPath, Path]:
    """Where each input file's result goes: the same relative path under ``target``, as .parquet."""
    out: dict[PurePosixPath, Path] = {}
    seen: dict[Path, PurePosixPath] = {}
    for file in files:
        path = target / Path(*file.relative.parts).with_suffix(".parquet")
        if path in seen:
            raise InputError(
                str(file.path), None, None, f"would be written to the same file as {seen[path]}; rename one of them"
            )
        seen[path] = file.relative
        out[file.relative] = path
    return out


class DatasetWriter:
    """Write a partitioned Parquet dataset: one file per input file, all put into ``target`` at the end.

    Files are written into ``<target>.hsmap-partial`` beside the target, with the manifest naming them; on
    success :func:`hsmap.outputs.swap_folder` puts them in place, replacing only files an earlier hsmap run
    wrote; on failure the staging folder goes and the target is untouched. A target that holds files hsmap
    did not write is refused before any work.
    """

    def __init__(self, target: Path, files: list[DatasetFile]) -> None:
        if target.suffix.lower() in (".csv", ".xlsx", ".parquet", ".pq"):
            raise InputError(str(target), None, None, "a dataset is written as a folder; give a folder as output")
        check_folder(target)
        check_output_folder(target)
        self.target = target
        self.staging = partial_path(target)
        self.paths = output_paths(files, self.staging)

    def __enter__(self) -> DatasetWriter:
        shutil.rmtree(self.staging, ignore_errors=True)  # left by a run that was killed outright
        self.staging.mkdir()
        return self

    def path(self, file: DatasetFile) -> Path:
        """The staging path of a file's result (its folder exists)."""
        path = self.paths[file.relative]
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def writer(self, file: DatasetFile, free_text: Collection[str] = ()) -> TableWriter:
        """An atomic writer for one input file's result (``free_text``: see :class:`hsmap.io.TableWriter`)."""
        return TableWriter(self.path(file), free_text)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                write_manifest(self.staging, [path.relative_to(self.staging) for path in self.paths.values()])
                swap_folder(self.staging, self.target)
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)


def drop_added(frame: pd.DataFrame, added: list[str]) -> pd.DataFrame:
    """The frame without the partition columns the reader added (their folders carry them)."""
    return frame.drop(columns=[name for name in added if name in frame.columns]) if added else frame
