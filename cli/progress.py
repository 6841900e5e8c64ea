"""Progress of long work on a terminal: a bar with percent and remaining time from the bytes of the input behind
the lines done, and their number. Nothing at all when standard error is not a terminal (a pipe, a log, CI)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

SIZED = (".csv", ".tsv", ".txt", ".parquet", ".pq")  # readers that say how far they have read


def input_bytes(paths: list[Path]) -> int | None:
    """The bytes the bar runs over, or None (a pulsing bar) when a reader cannot say how far it is (XLSX) —
    or the file is missing, which the reader will report."""
    if not paths or any(path.suffix.lower() not in SIZED or not path.is_file() for path in paths):
        return None
    return sum(path.stat().st_size for path in paths)


class ReadProgress:
    """``with ReadProgress(console, total, "classifying") as progress:`` then, as results are written,
    ``progress.done(lines)`` and ``progress.read(bytes)`` with how far into the input they reach."""

    def __init__(self, console: Console, total_bytes: int | None, action: str) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[lines]:,} lines"),
            TimeElapsedColumn(),
            TextColumn("elapsed,"),
            TimeRemainingColumn(),
            TextColumn("left"),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task = self._progress.add_task(action, total=total_bytes, lines=0)
        self._lines = 0

    def __enter__(self) -> ReadProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()

    def read(self, position: int) -> None:
        self._progress.update(self._task, completed=position)

    def done(self, lines: int) -> None:
        self._lines += lines
        self._progress.update(self._task, lines=self._lines)
