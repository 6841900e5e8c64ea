"""File to file: stream a declaration file through ``classify`` in chunks with bounded memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hsmap.classify import Classifier, classify
from hsmap.columns import detect_columns
from hsmap.dataset import DatasetWriter, added_partitions, drop_added, iter_file, resolve_dataset
from hsmap.io import CHUNK_ROWS, TableWriter, iter_table
from hsmap.knowledge import Knowledge, load_knowledge


@dataclass
class ClassifySummary:
    """What a run saw: rows, and how many lines fell in each category and carried each flag."""

    rows: int = 0
    code_column: str | None = None
    text_column: str | None = None
    categories: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)

    def add(self, result: pd.DataFrame) -> None:
        self.rows += len(result)
        self.categories.update(result["att_category"].replace("", "(none)").value_counts().to_dict())
        flags = result["flags"][result["flags"] != ""].str.split(";").explode()
        self.flags.update(flags.value_counts().to_dict())

    def merge(self, other: ClassifySummary) -> None:
        """Add another run's counts (one file of a dataset, one worker's piece); keep the first columns seen."""
        self.rows += other.rows
        self.categories.update(other.categories)
        self.flags.update(other.flags)
        self.code_column = self.code_column or other.code_column
        self.text_column = self.text_column or other.text_column


def classify_file(
    source: Path,
    target: Path,
    code_column: str | None = None,
    text_column: str | None = None,
    edition: int = 2022,
    sheet: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    kb: Knowledge | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> ClassifySummary:
    """Classify every row of ``source`` into ``target`` (format from its suffix), chunk by chunk."""
    classifier = Classifier(kb or load_knowledge(), edition)
    summary = ClassifySummary()
    with TableWriter(target) as writer:
        _stream(
            iter_table(source, chunk_rows=chunk_rows, sheet=sheet),
            writer.write,
            str(source),
            summary,
            classifier,
            code_column,
            text_column,
            on_chunk,
        )
    return summary


def classify_dataset(
    source: Path | str,
    target: Path,
    code_column: str | None = None,
    text_column: str | None = None,
    edition: int = 2022,
    chunk_rows: int = CHUNK_ROWS,
    kb: Knowledge | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> ClassifySummary:
    """Classify a folder or glob of files (:func:`hsmap.dataset.resolve_dataset`) into a partitioned Parquet
    dataset under ``target``: one output file per input file, same relative path, files one after another
    and each streamed chunk by chunk, so memory follows ``chunk_rows``, not the size of the dataset.

    Columns are found in each file on its own columns (a partition folder never becomes the code column);
    one classifier serves every file, so a decision made in January is reused in December.
    """
    files = resolve_dataset(source)
    classifier = Classifier(kb or load_knowledge(), edition)
    summary = ClassifySummary()
    with DatasetWriter(target, files) as dataset:
        for file in files:
            added = added_partitions(file)
            found = ClassifySummary()
            with dataset.writer(file) as writer:
                _stream(
                    iter_file(file, chunk_rows),
                    lambda frame, w=writer, a=added: w.write(drop_added(frame, a)),
                    str(file.path),
                    found,
                    classifier,
                    code_column,
                    text_column,
                    on_chunk,
                    exclude=added,
                )
            summary.merge(found)
    return summary


def _stream(
    chunks: Iterator[pd.DataFrame],
    write: Callable[[pd.DataFrame], None],
    name: str,
    summary: ClassifySummary,
    classifier: Classifier,
    code_column: str | None,
    text_column: str | None,
    on_chunk: Callable[[int], None] | None,
    exclude: list[str] | None = None,
) -> None:
    """Classify chunks in order and hand each result to ``write``.

    Arrow parses and writes CSV/Parquet outside the GIL: read the next chunk and write the last one while this
    one is classified. One chunk at a time in each direction keeps memory bounded and rows in order.
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        upcoming = pool.submit(next, chunks, None)
        written = None
        while (chunk := upcoming.result()) is not None:
            upcoming = pool.submit(next, chunks, None)
            if summary.code_column is None and summary.text_column is None:
                names = [str(c) for c in chunk.columns if c not in (exclude or [])]
                summary.code_column, summary.text_column = detect_columns(names, name, code_column, text_column)
            result = classify(chunk, summary.code_column, summary.text_column, classifier=classifier)
            if written is not None:
                written.result()
            written = pool.submit(write, result)
            summary.add(result)
            if on_chunk is not None:
                on_chunk(len(result))
        if written is not None:
            written.result()
