"""File to file: stream a declaration file through ``classify`` in chunks with bounded memory."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from hsmap.classify.decide import EXPLANATION_COLUMNS, LineEvidence, read_texts
from hsmap.classify.editions import AUTO, EditionChoice, EditionReader, attach_results
from hsmap.classify.values import describe_problems, has_input_problem, merge_flags, value_problems
from hsmap.columns import detect_columns
from hsmap.customs import declaration_years
from hsmap.dataset import (
    DatasetWriter,
    added_partitions,
    drop_added,
    iter_file,
    refuse_output_overlap,
    resolve_dataset,
)
from hsmap.errors import InputError
from hsmap.io import BYTES_READ, CHUNK_ROWS, TableWriter, count_rows, iter_table
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.outputs import refuse_overlap

MAX_LISTED = 20  # rows an input-problem error lists by number
DECIDERS = 1  # threads deciding chunks (a second one measured no faster on 2 cores: the GIL)
CHUNKS_IN_FLIGHT = 3  # chunks read but not yet written


@dataclass
class ClassifySummary:
    """What a run saw: rows, and how many lines fell in each category and carried each flag."""

    rows: int = 0
    code_column: str | None = None
    text_column: str | None = None
    categories: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # (file, row, flags), the first few
    problem_rows: int = 0

    def add(self, result: pd.DataFrame, file: str = "", first_line: int | None = None) -> None:
        """Count a classified chunk; rows are numbered as a spreadsheet shows them (header = row 1), from
        ``first_line`` (the chunk's first line within its file, counted from 0) or after the lines counted."""
        ids, flags = pd.factorize(result["flags"])
        self.add_decided(
            pd.DataFrame({"att_category": result["att_category"].to_numpy(), "flags": flags[ids]}),
            np.arange(len(result)),
            file,
            first_line,
        )

    def add_decided(self, rows: pd.DataFrame, ids: np.ndarray, file: str = "", first_line: int | None = None) -> None:
        """Count a chunk given as distinct output ``rows`` (``att_category``, ``flags``) and, per line, the
        row it got — what :func:`decide_declarations` returns, counted without touching every line's text."""
        lines = np.bincount(ids, minlength=len(rows)) if len(ids) else np.zeros(len(rows), dtype=np.int64)
        flagged = has_input_problem(rows["flags"]).to_numpy(dtype=bool)
        if flagged.any():
            positions = np.flatnonzero(flagged[ids])
            self.problem_rows += len(positions)
            start = self.rows if first_line is None else first_line
            for position in positions[: max(0, MAX_LISTED - len(self.problems))].tolist():
                self.problems.append((file, start + position + 2, str(rows["flags"].iat[ids[position]])))
        self.rows += len(ids)
        categories = rows["att_category"].replace("", "(none)").to_numpy()
        self.categories.update(pd.Series(lines).groupby(categories).sum().loc[lambda n: n > 0].to_dict())
        named = (rows["flags"] != "").to_numpy() & (lines > 0)
        flags = pd.Series(rows["flags"].to_numpy()[named]).str.split(";")
        weights = pd.Series(lines[named]).repeat(flags.str.len().to_numpy())
        self.flags.update(weights.groupby(flags.explode().to_numpy()).sum().to_dict())

    def merge(self, other: ClassifySummary) -> None:
        """Add another run's counts (one file of a dataset, one worker's piece); keep the first columns seen."""
        self.rows += other.rows
        self.problem_rows += other.problem_rows
        self.problems.extend(other.problems[: max(0, MAX_LISTED - len(self.problems))])
        self.categories.update(other.categories)
        self.flags.update(other.flags)
        self.code_column = self.code_column or other.code_column
        self.text_column = self.text_column or other.text_column

    def problem_error(self) -> InputError:
        """The ``--strict`` error: how many rows have input problems, and which (the first few)."""
        listed = "; ".join(
            f"{Path(file).name + ' ' if file else ''}row {row} ({flags})" for file, row, flags in self.problems
        )
        more = f" and {self.problem_rows - len(self.problems)} more" if self.problem_rows > len(self.problems) else ""
        first_file, first_row, _ = self.problems[0]
        return InputError(
            first_file or None, first_row, None, f"{self.problem_rows} rows have input problems: {listed}{more}"
        )


def decide_declarations(
    frame: pd.DataFrame,
    code_column: str | None,
    text_column: str | None,
    reader: EditionReader,
    file: str = "",
    checks: Future[np.ndarray] | None = None,
    texts: Future[LineEvidence] | None = None,
) -> tuple[pa.Table, np.ndarray]:
    """The decisions of the classifier of each line's HS edition (:class:`hsmap.classify.editions.EditionReader`, the
    year read from the line's year or date column) with the problems of each line's other cells (quantity,
    value, unit, currency, date, partner) joined to their ``flags``: the distinct output rows, and per line
    the row it gets. ``checks`` is :func:`hsmap.classify.values.value_problems` and ``texts``
    :func:`hsmap.classify.decide.read_texts`, already under way in other threads. Flags are merged once per distinct
    (decision, problems) pair."""
    years = declaration_years(frame) if reader.by_date else None
    read = texts.result() if texts is not None else None
    decisions, decided = reader.decide(frame, code_column, text_column, years, read)
    problems = checks.result() if checks is not None else value_problems(frame, file)
    pair_ids, pairs = pd.factorize(decided << 16 | problems)
    rows = decisions.take(pairs >> 16)
    with_problems = np.flatnonzero(pairs & 0xFFFF)
    if len(with_problems):
        masks, which = np.unique(pairs[with_problems] & 0xFFFF, return_inverse=True)
        found = pd.Series(np.array(describe_problems(masks), dtype=object)[which], dtype="str")
        flags = rows.column("flags").to_pandas()
        flags.iloc[with_problems] = merge_flags(flags.iloc[with_problems].reset_index(drop=True), found).to_numpy()
        rows = rows.set_column(rows.schema.get_field_index("flags"), "flags", pa.array(flags, type=pa.large_string()))
    return rows, pair_ids


def classify_declarations(
    frame: pd.DataFrame, code_column: str | None, text_column: str | None, reader: EditionReader, file: str = ""
) -> pd.DataFrame:
    """Every line with the classification of its HS edition (``hs_edition`` says which) and the problems of
    its other cells in ``flags`` — what every file engine runs."""
    return attach_results(frame, *decide_declarations(frame, code_column, text_column, reader, file))


def classify_file(
    source: Path,
    target: Path,
    code_column: str | None = None,
    text_column: str | None = None,
    edition: EditionChoice = AUTO,
    sheet: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    kb: Knowledge | None = None,
    on_chunk: Callable[[int], None] | None = None,
    strict: bool = False,
    on_read: Callable[[int], None] | None = None,
) -> ClassifySummary:
    """Classify every row of ``source`` into ``target`` (format from its suffix), chunk by chunk. With
    ``strict``, rows with input problems make it fail with an InputError listing them, and nothing is written.
    As each chunk is written, ``on_chunk`` hears its rows and ``on_read`` how far into a CSV or Parquet source
    (in bytes) the lines written so far reach — progress that never runs ahead of the output."""
    refuse_overlap(target, [source])
    reader = EditionReader(kb or load_knowledge(), edition)
    summary = ClassifySummary()
    rows = count_rows(source) if target.suffix.lower() == ".xlsx" else None  # a sheet too short is refused now
    with TableWriter(target, EXPLANATION_COLUMNS, rows=rows) as writer:
        _stream(
            iter_table(source, chunk_rows=chunk_rows, sheet=sheet),
            writer.write,
            str(source),
            summary,
            reader,
            code_column,
            text_column,
            on_chunk,
            on_read=on_read,
        )
        if strict and summary.problem_rows:
            raise summary.problem_error()
    return summary


def classify_dataset(
    source: Path | str,
    target: Path,
    code_column: str | None = None,
    text_column: str | None = None,
    edition: EditionChoice = AUTO,
    chunk_rows: int = CHUNK_ROWS,
    kb: Knowledge | None = None,
    on_chunk: Callable[[int], None] | None = None,
    strict: bool = False,
    on_read: Callable[[int], None] | None = None,
) -> ClassifySummary:
    """Classify a folder or glob of files (:func:`hsmap.dataset.resolve_dataset`) into a partitioned Parquet
    dataset under ``target``: one output file per input file, same relative path, files one after another
    and each streamed chunk by chunk, so memory follows ``chunk_rows``, not the size of the dataset.

    Columns are found in each file on its own columns (a partition folder never becomes the code column);
    one classifier per edition serves every file, so a decision made in January is reused in December.
    """
    files = resolve_dataset(source)
    refuse_output_overlap(source, files, target)
    reader = EditionReader(kb or load_knowledge(), edition)
    summary = ClassifySummary()
    done_bytes = 0  # of the files finished, for ``on_read`` over the whole dataset
    with DatasetWriter(target, files) as dataset:
        for file in files:
            added = added_partitions(file)
            found = ClassifySummary()
            with dataset.writer(file, EXPLANATION_COLUMNS) as writer:
                _stream(
                    iter_file(file, chunk_rows),
                    lambda frame, w=writer, a=added: w.write(drop_added(frame, a)),
                    str(file.path),
                    found,
                    reader,
                    code_column,
                    text_column,
                    on_chunk,
                    exclude=added,
                    on_read=None if on_read is None else lambda read, before=done_bytes: on_read(before + read),
                )
            summary.merge(found)
            done_bytes += file.path.stat().st_size
        if strict and summary.problem_rows:
            raise summary.problem_error()
    return summary


def _stream(
    chunks: Iterator[pd.DataFrame],
    write: Callable[[pd.DataFrame], None],
    name: str,
    summary: ClassifySummary,
    reader: EditionReader,
    code_column: str | None,
    text_column: str | None,
    on_chunk: Callable[[int], None] | None,
    exclude: list[str] | None = None,
    on_read: Callable[[int], None] | None = None,
) -> None:
    """Classify chunks in order and hand each result to ``write``.

    Arrow and pandas do much of their work outside the GIL, so the stages overlap: this thread reads, one
    thread checks the other cells of each chunk, one reads its texts, one decides chunks, and one writes and
    counts them, strictly in order.
    At most ``CHUNKS_IN_FLIGHT`` chunks are between reading and writing, so memory stays bounded.
    """

    def decide(
        chunk: pd.DataFrame, checks: Future[np.ndarray], texts: Future[LineEvidence]
    ) -> tuple[pd.DataFrame, pa.Table, np.ndarray]:
        rows, ids = decide_declarations(chunk, summary.code_column, summary.text_column, reader, name, checks, texts)
        return attach_results(chunk, rows, ids), rows, ids

    def finish(decided: Future[tuple[pd.DataFrame, pa.Table, np.ndarray]], read: int | None) -> tuple[int, int | None]:
        result, rows, ids = decided.result()
        write(result)
        summary.add_decided(rows.select(["att_category", "flags"]).to_pandas(), ids, name)
        return len(result), read

    def done(finished: Future[tuple[int, int | None]]) -> None:
        rows, read = finished.result()
        if on_chunk is not None:
            on_chunk(rows)
        if on_read is not None and read is not None:
            on_read(read)

    with (
        ThreadPoolExecutor(max_workers=1) as checker,
        ThreadPoolExecutor(max_workers=1) as text_reader,
        ThreadPoolExecutor(max_workers=DECIDERS) as deciders,
        ThreadPoolExecutor(max_workers=1) as writer,
    ):
        in_flight: deque[Future[tuple[int, int | None]]] = deque()
        for chunk in chunks:
            if summary.code_column is None and summary.text_column is None:
                names = [str(c) for c in chunk.columns if c not in (exclude or [])]
                summary.code_column, summary.text_column = detect_columns(names, name, code_column, text_column)
            checks = checker.submit(value_problems, chunk, name)
            texts = text_reader.submit(read_texts, chunk, summary.text_column, reader.kb)
            decided = deciders.submit(decide, chunk, checks, texts)
            in_flight.append(writer.submit(finish, decided, chunk.attrs.get(BYTES_READ)))
            while len(in_flight) >= CHUNKS_IN_FLIGHT:
                done(in_flight.popleft())
        while in_flight:
            done(in_flight.popleft())
