"""The declaration lines a draft report looks at, read as the reconciliation reads them.

Customs files, folders and globs are read chunk by chunk into the reconciliation's canonical lines
(:func:`hsmap.customs.customs_chunks`, classified on the fly when they carry no ``att_category``), on this
machine or on a Dask cluster (:func:`hsmap.engines.map_customs_dask`). Of each chunk only the lines the draft
is about are kept — the report's year and flow (re-exports too), the reporting State's own data, and a
category or a ``shared-civil`` flag — so memory follows the arms lines of one year, never the file. Every
other line is counted by where it went.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hsmap.customs import CANONICAL_COLUMNS, CustomsReading, customs_chunks
from hsmap.dataset import iter_file, resolve_dataset
from hsmap.errors import InputError
from hsmap.io import CHUNK_ROWS
from hsmap.knowledge import Knowledge

LINE_COLUMNS = ("file", *CANONICAL_COLUMNS)
OTHER_REPORTER = "another reporting State's data"
OTHER_YEAR = "other years"
OTHER_FLOW = "the other flow"
NOT_ATT = "not ATT items"


@dataclass(frozen=True)
class Scope:
    """Which lines a draft is about: the reporting State (ISO alpha-3), the year and the flow."""

    state_iso3: str
    year: int
    flow: str

    def split(self, chunk: pd.DataFrame, file: str, row_offset: int = 0) -> tuple[Counter[str], pd.DataFrame]:
        """Where the lines of one canonical chunk go: the lines kept (with their ``file``, rows numbered as in
        the file) and a count of the others by reason. A candidate line whose year or flow cannot be read is
        kept, for review."""
        flows = (self.flow, f"re-{self.flow}")
        candidate = chunk["category"].ne("") | chunk["flags"].str.contains("shared-civil", regex=False)
        unplaced = chunk["year"].eq(0) | chunk["flow"].eq("")
        labels = np.select(
            [
                chunk["reporter_iso3"].ne("") & chunk["reporter_iso3"].ne(self.state_iso3),
                unplaced & candidate,
                chunk["exclusion"].ne("") & ~unplaced,
                chunk["year"].ne(self.year) & ~unplaced,
                ~chunk["flow"].isin(flows) & ~unplaced,
                ~candidate,
            ],
            [OTHER_REPORTER, "", "excluded: " + chunk["exclusion"], OTHER_YEAR, OTHER_FLOW, NOT_ATT],
            default="",
        )
        labels = pd.Series(labels, index=chunk.index, dtype="str")
        kept = chunk[labels == ""].assign(source_row=lambda lines: lines["source_row"] + row_offset)
        counts = Counter(labels[labels != ""].value_counts().to_dict())
        return counts, kept.assign(file=file)[list(LINE_COLUMNS)]


@dataclass
class Collected:
    """The lines a draft is about, in dataset order, and where every other line read went."""

    files: list[str] = field(default_factory=list)
    elsewhere: Counter[str] = field(default_factory=Counter)
    lines_read: int = 0
    parts: list[pd.DataFrame] = field(default_factory=list)
    typed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(LINE_COLUMNS)))

    def add(self, counts: Counter[str], kept: pd.DataFrame, read: int) -> None:
        self.elsewhere.update(counts)
        self.lines_read += read
        if len(kept):
            self.parts.append(kept)
        elif not self.parts:
            self.typed = kept  # no lines, but the columns' types

    @property
    def lines(self) -> pd.DataFrame:
        return pd.concat(self.parts, ignore_index=True) if self.parts else self.typed


def _scope_piece(
    lines: pd.DataFrame, file: str, first_row: int, scope: Scope
) -> tuple[Counter[str], pd.DataFrame, int]:
    """On a Dask worker: one piece's canonical lines split by :meth:`Scope.split`."""
    counts, kept = scope.split(lines, file, row_offset=first_row)
    return counts, kept, len(lines)


def collect_lines(
    sources: Sequence[Path | str],
    scope: Scope,
    *,
    kb: Knowledge,
    reading: CustomsReading | None = None,
    sheet: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    client: Any = None,
) -> Collected:
    """Read every customs file of ``sources`` (files, folders or globs) as ``reading`` says (the
    reconciliation's settings) and keep the lines of ``scope``. A line is named by its file (the file's name,
    or its path inside a folder) and row; two files that would get the same name are refused.
    """
    reading = reading or CustomsReading()
    files = [(file, source) for source in sources for file in resolve_dataset(source)]
    names = Counter(str(file.relative) for file, _ in files)
    clash = next((name for name, count in names.items() if count > 1), None)
    if clash is not None:
        raise InputError(clash, None, None, "two customs files would be named alike; put them in one folder")
    collected = Collected(files=list(names))
    if client is not None:
        from hsmap.engines import map_customs_dask

        function = functools.partial(_scope_piece, scope=scope)
        for source in sources:
            for counts, kept, read in map_customs_dask(source, client, function, reading, kb_root=str(kb.root)):
                collected.add(counts, kept, read)
        return collected
    for file, _ in files:
        chunks: Iterable[pd.DataFrame] = customs_chunks(
            iter_file(file, chunk_rows, sheet), str(file.path), reading, kb=kb
        )
        for chunk in chunks:
            counts, kept = scope.split(chunk, str(file.relative))
            collected.add(counts, kept, len(chunk))
    return collected
