"""File to file: stream a declaration file through ``classify`` in chunks with bounded memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hsmap.classify import Classifier, classify
from hsmap.columns import detect_columns
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
    chunks = iter_table(source, chunk_rows=chunk_rows, sheet=sheet)
    # Arrow parses and writes CSV/Parquet outside the GIL: read the next chunk and write the last one while
    # this one is classified. One chunk at a time in each direction keeps memory bounded and rows in order.
    with TableWriter(target) as writer, ThreadPoolExecutor(max_workers=2) as pool:
        upcoming = pool.submit(next, chunks, None)
        written = None
        while (chunk := upcoming.result()) is not None:
            upcoming = pool.submit(next, chunks, None)
            if summary.code_column is None and summary.text_column is None:
                summary.code_column, summary.text_column = detect_columns(
                    [str(c) for c in chunk.columns], str(source), code_column, text_column
                )
            result = classify(chunk, summary.code_column, summary.text_column, classifier=classifier)
            if written is not None:
                written.result()
            written = pool.submit(writer.write, result)
            summary.add(result)
            if on_chunk is not None:
                on_chunk(len(result))
        if written is not None:
            written.result()
    return summary
