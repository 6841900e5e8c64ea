"""File to file: stream a declaration file through ``classify`` in chunks with bounded memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hsmap.classify import Classifier, classify
from hsmap.columns import detect_columns
from hsmap.dataset import DatasetWriter, added_partitions, drop_added, iter_file, resolve_dataset
from hsmap.errors import InputError
from hsmap.io import CHUNK_ROWS, TableWriter, iter_table
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.values import has_input_problem, merge_flags, value_flags

MAX_LISTED = 20  # rows an input-problem error lists by number


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

    def add(self, result: pd.DataFrame, file: str = "") -> None:
        """Count a classified chunk; rows are numbered as a spreadsheet shows them (header = row 1)."""
        codes, uniques = pd.factorize(result["flags"])
        flagged = has_input_problem(pd.Series(uniques, dtype="str")).to_numpy()[codes]
        if flagged.any():
            positions = flagged.nonzero()[0]
            self.problem_rows += len(positions)
            for position in positions[: max(0, MAX_LISTED - len(self.problems))]:
                self.problems.append((file, self.rows + int(position) + 2, str(result["flags"].iat[position])))
        self.rows += len(result)
        self.categories.update(result["att_category"].replace("", "(none)").value_counts().to_dict())
        flags = result["flags"][result["flags"] != ""].str.split(";").explode()
        self.flags.update(flags.value_counts().to_dict())

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


def classify_declarations(
    frame: pd.DataFrame,
    code_column: str | None,
    text_column: str | None,
    classifier: Classifier,
    file: str = "",
    checks: Future[pd.Series] | None = None,
) -> pd.DataFrame:
    """:func:`hsmap.classify.classify` plus the checks of the line's other cells (quantity, value, unit,
    currency, date, partner), whose problems join the ``flags`` column — what every file engine runs.
    ``checks`` is those checks already under way in another thread."""
    result = classify(frame, code_column, text_column, classifier=classifier)
    problems = checks.result() if checks is not None else value_flags(frame, file)
    return result.assign(flags=merge_flags(result["flags"], problems))


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
    strict: bool = False,
) -> ClassifySummary:
    """Classify every row of ``source`` into ``target`` (format from its suffix), chunk by chunk. With
    ``strict``, rows with input problems make it fail with an InputError listing them, and nothing is written."""
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
        if strict and summary.problem_rows:
            raise summary.problem_error()
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
    strict: bool = False,
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
        if strict and summary.problem_rows:
            raise summary.problem_error()
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

    Arrow and pandas do much of their work outside the GIL: read the next chunk, check the current one's other
    cells, and write and count the last one while the current one is classified. One chunk at a time in each
    direction keeps memory bounded and rows in order.
    """

    def finish(result: pd.DataFrame) -> None:
        write(result)
        summary.add(result, name)

    with ThreadPoolExecutor(max_workers=3) as pool:
        upcoming = pool.submit(next, chunks, None)
        finished = None
        while (chunk := upcoming.result()) is not None:
            upcoming = pool.submit(next, chunks, None)
            if summary.code_column is None and summary.text_column is None:
                names = [str(c) for c in chunk.columns if c not in (exclude or [])]
                summary.code_column, summary.text_column = detect_columns(names, name, code_column, text_column)
            checks = pool.submit(value_flags, chunk, name)
            result = classify_declarations(
                chunk, summary.code_column, summary.text_column, classifier, name, checks=checks
            )
            if finished is not None:
                finished.result()
            finished = pool.submit(finish, result)
            if on_chunk is not None:
                on_chunk(len(result))
        if finished is not None:
            finished.result()
