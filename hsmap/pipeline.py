"""File to file: stream a declaration file through ``classify`` in chunks with bounded memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hsmap.classify import classify
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
    kb = kb or load_knowledge()
    summary = ClassifySummary()
    with TableWriter(target) as writer:
        for chunk in iter_table(source, chunk_rows=chunk_rows, sheet=sheet):
            if summary.rows == 0 and summary.code_column is None and summary.text_column is None:
                summary.code_column, summary.text_column = detect_columns(
                    [str(c) for c in chunk.columns], str(source), code_column, text_column
                )
            result = classify(chunk, summary.code_column, summary.text_column, edition=edition, kb=kb)
            writer.write(result)
            summary.add(result)
            if on_chunk is not None:
                on_chunk(len(result))
    return summary
