"""Run the same pure classification on the engine an administration already has: Dask, or Spark.

:func:`hsmap.classify.classify` is a function of one DataFrame chunk, so scaling out is mapping it over
partitions. With Dask, :func:`classify_dask` maps it over a Dask DataFrame (``map_partitions`` with an
explicit ``meta``); :func:`classify_dataset_dask` reads a dataset into one partition per piece
(:func:`hsmap.dataset.pieces`), classifies on the workers, has each worker write its piece, and assembles one
Parquet file per input file — the same rows in the same order as the pandas engine writes. With Spark,
:func:`classify_batches` is the ``Iterator[pd.DataFrame] -> Iterator[pd.DataFrame]`` function that
``DataFrame.mapInPandas`` takes, and :func:`spark_schema` the schema it returns.

For a reconciliation, :func:`dask_aggregation` sums customs lines on the workers and hands
:func:`hsmap.reconcile.reconcile_files` only the partial aggregates.

Each worker process loads the knowledge base and keeps one :class:`~hsmap.classify.Classifier` per HS edition
(:func:`worker_reader`), so its caches serve every partition it gets and nothing heavy is shipped with the
tasks. Dask and distributed are the optional ``dask`` extra; PySpark is the administration's own install.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hsmap.classify.editions import AUTO, EDITION_COLUMN, RESULT_COLUMNS, EditionChoice, EditionReader
from hsmap.classify.pipeline import ClassifySummary, classify_declarations
from hsmap.columns import detect_columns
from hsmap.dataset import (
    DatasetFile,
    DatasetWriter,
    Piece,
    added_partitions,
    drop_added,
    file_columns,
    is_dataset,
    pieces,
    read_piece,
    refuse_output_overlap,
    resolve_dataset,
    with_partitions,
)
from hsmap.errors import HsmapError, InputError
from hsmap.knowledge import load_knowledge
from hsmap.outputs import AtomicFile, refuse_overlap

if TYPE_CHECKING:
    import dask.dataframe as dd
    from distributed import Client

    from hsmap.customs import CustomsColumns, CustomsReading
    from hsmap.knowledge import Knowledge
    from hsmap.reconcile import CustomsAggregate
    from hsmap.reconcile.run import Aggregation

PARTITION_ROWS = 1_000_000  # lines per Dask partition: a worker holds one partition and its result at a time


class EngineUnavailable(HsmapError):
    """The engine asked for is not installed."""


def _dask() -> Any:
    try:
        import dask
        import dask.dataframe
    except ImportError:
        raise EngineUnavailable("the dask engine needs Dask: pip install 'hsmap[dask]'") from None
    return dask


# --- the pure function, per worker ------------------------------------------------------------------------------


def worker_reader(edition: EditionChoice = AUTO, kb_root: str | None = None) -> EditionReader:
    """This process's knowledge base read under ``edition``: its classifiers, one per edition and shared by the
    process (:func:`hsmap.classify.shared_classifier`), serve every partition or batch it gets."""
    return EditionReader(load_knowledge(kb_root), edition)


def classify_partition(
    frame: pd.DataFrame,
    code_column: str | None,
    text_column: str | None,
    edition: EditionChoice = AUTO,
    kb_root: str | None = None,
) -> pd.DataFrame:
    """:func:`hsmap.classify.pipeline.classify_declarations` with this process's classifier — what every engine maps."""
    return classify_declarations(frame, code_column, text_column, worker_reader(edition, kb_root))


# --- Spark ------------------------------------------------------------------------------------------------------


def classify_batches(
    batches: Iterable[pd.DataFrame],
    code_column: str | None = "hs_code",
    text_column: str | None = "description",
    edition: EditionChoice = AUTO,
    kb_root: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Classify each batch and yield it: the function ``DataFrame.mapInPandas`` takes (bind the columns with
    ``functools.partial``). Spark hands each Python worker an iterator of Arrow batches as pandas frames."""
    for batch in batches:
        yield classify_partition(batch, code_column, text_column, edition, kb_root)


def output_columns(input_columns: Iterable[str]) -> list[str]:
    """The columns :func:`classify_batches` returns for a frame with these columns, in order: the input columns
    (one named like a result column comes back as ``input_<name>``), then
    :data:`~hsmap.classify.editions.RESULT_COLUMNS`."""
    return [f"input_{name}" if name in RESULT_COLUMNS else name for name in input_columns] + RESULT_COLUMNS


def spark_schema(input_schema: Any) -> Any:
    """The ``StructType`` :func:`classify_batches` returns for a Spark DataFrame of ``input_schema``: the input
    fields (renamed as :func:`output_columns` says), then the result fields (``confidence`` a double,
    ``hs_edition`` an integer, the rest strings)."""
    from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType

    kept = [
        StructField(
            f"input_{field.name}" if field.name in RESULT_COLUMNS else field.name, field.dataType, field.nullable
        )
        for field in input_schema.fields
    ]
    kinds = {"confidence": DoubleType(), EDITION_COLUMN: IntegerType()}
    added = [StructField(name, kinds.get(name, StringType()), True) for name in RESULT_COLUMNS]
    return StructType(kept + added)


# --- Dask -------------------------------------------------------------------------------------------------------


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A client of the Dask cluster at ``scheduler`` (``tcp://host:8786``), or of a LocalCluster of
    ``workers`` single-threaded processes on this machine (the classifier is Python: processes, not threads)."""
    _dask()
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout="20s") as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _empty(file: DatasetFile) -> pd.DataFrame:
    if file.is_parquet:
        frame = pq.read_schema(file.path).empty_table().to_pandas()
    else:
        frame = pd.DataFrame({name: pd.Series(dtype="str") for name in file_columns(file)})
    return with_partitions(frame, file)


def dataset_frame(files: list[DatasetFile], parts: list[Piece] | None = None) -> dd.DataFrame:
    """A Dask DataFrame of a dataset, one partition per piece, read by hsmap's own readers (the same cells and
    types as the pandas engine: encodings, delimiters, empty cells as ""); every file must have the same columns."""
    dask = _dask()
    parts = parts if parts is not None else pieces(files, PARTITION_ROWS)
    meta = _empty(files[0])
    for file in files[1:]:
        columns = list(_empty(file).columns)
        if columns != list(meta.columns):
            raise InputError(
                str(file.path), 1, None, f"columns differ from {files[0].path} (the dask engine needs one schema)"
            )
    with dask.config.set({"dataframe.convert-string": False}):  # keep pandas' own str dtype, as the pandas engine
        return dask.dataframe.from_map(read_piece, parts, meta=meta, enforce_metadata=False)


def classify_dask(
    source: dd.DataFrame | Path | str,
    code_column: str | None = None,
    text_column: str | None = None,
    edition: EditionChoice = AUTO,
    kb_root: str | None = None,
) -> dd.DataFrame:
    """A lazy Dask DataFrame of classified lines: ``map_partitions(classify)`` over ``source`` (a Dask DataFrame,
    or a file, folder or glob read with :func:`dataset_frame`). Columns are found as in the pandas engine."""
    dask = _dask()
    if not isinstance(source, dask.dataframe.DataFrame):
        files = resolve_dataset(source)
        code_column, text_column = _detect(files, code_column, text_column)
        source = dataset_frame(files)
    else:
        code_column, text_column = detect_columns([str(c) for c in source.columns], "dataset", code_column, text_column)
    empty = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in source.dtypes.items()})
    meta = classify_declarations(empty, code_column, text_column, worker_reader(edition, kb_root))
    with dask.config.set({"dataframe.convert-string": False}):
        return source.map_partitions(classify_partition, code_column, text_column, edition, kb_root, meta=meta)


def _detect(files: list[DatasetFile], code: str | None, text: str | None) -> tuple[str | None, str | None]:
    """The code and text columns, found on the first file's own columns (never on a partition folder)."""
    return detect_columns(file_columns(files[0]), str(files[0].path), code, text)


@functools.cache
def _added(file: DatasetFile) -> tuple[str, ...]:
    """The partition columns the reader adds to a file (read once per file: it opens the file's header)."""
    return tuple(added_partitions(file))


def _write_piece(frame: pd.DataFrame, path: str, added: tuple[str, ...], file: str, first_line: int) -> ClassifySummary:
    """On a worker: write one classified piece and return its counts (small, sent back to the client); rows
    with input problems are numbered as in their file."""
    pq.write_table(pa.Table.from_pandas(drop_added(frame, list(added)), preserve_index=False), path)
    summary = ClassifySummary()
    summary.add(frame, file, first_line)
    return summary


def _assemble(parts: list[Path], target: Path) -> None:
    """The pieces of one file, in order, as one Parquet file written atomically (a lone piece is renamed)."""
    if len(parts) == 1:
        os.replace(parts[0], target)
        return
    writer: pq.ParquetWriter | None = None
    with AtomicFile(target) as file:
        try:
            for part in parts:
                table = pq.read_table(part)
                writer = writer or pq.ParquetWriter(file.partial, table.schema)
                writer.write_table(table.cast(writer.schema))
        finally:
            if writer is not None:
                writer.close()
    for part in parts:
        part.unlink()


def classify_dataset_dask(
    source: Path | str,
    target: Path,
    client: Client,
    code_column: str | None = None,
    text_column: str | None = None,
    edition: EditionChoice = AUTO,
    partition_rows: int = PARTITION_ROWS,
    kb_root: str | None = None,
    strict: bool = False,
) -> ClassifySummary:
    """Classify a file, folder or glob on a Dask cluster into Parquet: a folder of one file per input file
    (same relative paths) for a dataset, or the file ``target`` for one input file. Workers write their
    pieces beside the target (the cluster must see the same file system); the client assembles them. With
    ``strict``, rows with input problems make it fail with an InputError listing them, and nothing is written."""
    dask = _dask()
    files = resolve_dataset(source)
    parts = pieces(files, partition_rows)
    code_column, text_column = _detect(files, code_column, text_column)
    classified = classify_dask(dataset_frame(files, parts), code_column, text_column, edition, kb_root)
    single = not is_dataset(source)
    if single and target.suffix.lower() != ".parquet":
        raise InputError(str(target), None, None, "the dask engine writes Parquet; name the output .parquet")
    if single:
        refuse_overlap(target, [source])
    else:
        refuse_output_overlap(source, files, target)
    folder = target.with_name(f"{target.name}.hsmap-pieces") if single else None
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)  # left by a run that was killed outright
    with DatasetWriter(folder or target, files) as dataset:
        piece_paths = [
            dataset.path(part.file).with_name(f".{dataset.path(part.file).stem}.{number:06d}.piece")
            for number, part in enumerate(parts)
        ]
        tasks = [
            dask.delayed(_write_piece)(partition, str(path), _added(part.file), str(part.file.path), part.first_row)
            for partition, path, part in zip(classified.to_delayed(), piece_paths, parts, strict=True)
        ]
        summary = ClassifySummary(code_column=code_column, text_column=text_column)
        for found in client.gather(client.compute(tasks)):
            summary.merge(found)
        if strict and summary.problem_rows:
            raise summary.problem_error()  # before anything is assembled: no output at all
        for file in files:
            mine = [path for path, part in zip(piece_paths, parts, strict=True) if part.file == file]
            _assemble(mine, dataset.path(file))
    if folder is not None:
        try:
            os.replace(folder / Path(*files[0].relative.parts).with_suffix(".parquet"), target)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return summary


# --- reconciliation on Dask -------------------------------------------------------------------------------------


def _canonical_piece(
    frame: pd.DataFrame,
    columns: CustomsColumns,
    reading: CustomsReading,
    kb_root: str | None,
    function: Callable[[pd.DataFrame, str, int], Any],
    piece: Piece,
) -> Any:
    """On a worker: one piece → canonical lines (rows numbered within the piece) → ``function(lines, file,
    first_row)``, with the piece's file (relative to the dataset) and the position of its first line there."""
    from hsmap.customs import prepare_customs

    lines = prepare_customs(frame, columns, reading, kb=load_knowledge(kb_root))
    return function(lines, str(piece.file.relative), piece.first_row)


def map_customs_dask(
    source: Path | str,
    client: Client,
    function: Callable[[pd.DataFrame, str, int], Any],
    reading: CustomsReading | None = None,
    *,
    partition_rows: int = PARTITION_ROWS,
    kb_root: str | None = None,
) -> list[Any]:
    """``function`` applied on the workers to the canonical customs lines of each piece of a file, folder or
    glob (:func:`_canonical_piece`), read as ``reading`` says; the small results come back in dataset order."""
    from hsmap.customs import CustomsReading, reading_columns

    dask = _dask()
    files = resolve_dataset(source)
    parts = pieces(files, partition_rows)
    frame = dataset_frame(files, parts)
    reading = replace(reading or CustomsReading(), partner_index=None)  # each worker builds its own
    columns = reading_columns([str(c) for c in frame.columns], str(source), reading)
    tasks = [
        dask.delayed(_canonical_piece)(partition, columns, reading, kb_root, function, part)
        for partition, part in zip(frame.to_delayed(), parts, strict=True)
    ]
    return list(client.gather(client.compute(tasks)))


def _aggregate_piece(lines: pd.DataFrame, file: str, first_row: int, review: pd.DataFrame | None) -> CustomsAggregate:
    """On a worker: a piece's canonical lines, less those a draft left for review, as a partial aggregate."""
    from hsmap.reconcile import aggregate_customs
    from hsmap.review_list import mark_reviewed

    if review is not None and len(review):
        lines = mark_reviewed(lines, file, review, row_offset=first_row)
    return aggregate_customs([lines])


def aggregate_customs_dask(
    source: Path | str,
    client: Client,
    reading: CustomsReading | None = None,
    *,
    review: pd.DataFrame | None = None,
    partition_rows: int = PARTITION_ROWS,
    kb_root: str | None = None,
) -> CustomsAggregate:
    """Customs lines of a file, folder or glob aggregated piece by piece on the workers (as
    :func:`map_customs_dask` reads them); only the partial aggregates come back, and
    :func:`hsmap.reconcile.combine_aggregates` adds them up in dataset order. Lines of ``review`` (a draft
    report's list, :func:`hsmap.review_list.read_review_list`) are excluded."""
    from hsmap.reconcile import combine_aggregates

    function = functools.partial(_aggregate_piece, review=review)
    parts = map_customs_dask(source, client, function, reading, partition_rows=partition_rows, kb_root=kb_root)
    return combine_aggregates(parts)


def dask_aggregation(client: Client, partition_rows: int = PARTITION_ROWS) -> Aggregation:
    """The aggregation :func:`hsmap.reconcile.reconcile_files` takes, run on ``client``'s cluster: the engine
    layer drives the reconciliation, which never imports an engine."""

    def aggregate(source: Path | str, kb: Knowledge, reading: CustomsReading, review: pd.DataFrame) -> CustomsAggregate:
        return aggregate_customs_dask(
            source, client, reading, review=review, partition_rows=partition_rows, kb_root=str(kb.root)
        )

    return aggregate
