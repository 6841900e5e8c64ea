"""``-`` for standard input and output, as command-line tools take it: ``zcat d.csv.gz | hsmap classify - -o -``.

Standard input is read whole into a temporary file first (on disk, so memory stays bounded) and classified
from there like any file: its format is recognised from its first bytes (Parquet, XLSX, else CSV), and its
size drives the progress bar. Output for ``-`` is written to a temporary file and copied to standard output
only when the run succeeded, so a failing run prints no partial table — the same all-or-nothing guarantee
as for files.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

from hsmap.errors import HsmapError, InputError

STDIO = "-"
STDIN_NAME = "<stdin>"
STDOUT_NAME = "<stdout>"
_MAGIC = ((b"PAR1", ".parquet"), (b"PK\x03\x04", ".xlsx"))


class OutputFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    xlsx = "xlsx"


def is_stdio(path: Path) -> bool:
    return str(path) == STDIO


_reader_stopped = False


def reader_stopped_early() -> bool:
    """Whether the reader of standard output closed it before taking everything (``| head``)."""
    return _reader_stopped


@contextmanager
def staged_input(source: Path) -> Iterator[Path]:
    """``source`` itself, or for ``-`` a temporary copy of standard input; errors that name the copy name
    ``<stdin>`` instead."""
    if not is_stdio(source):
        yield source
        return
    stdin = sys.stdin.buffer
    if sys.stdin.isatty():
        raise InputError(STDIN_NAME, None, None, "nothing piped in: give a file, or pipe one into hsmap")
    with tempfile.TemporaryDirectory(prefix="hsmap-stdin-") as folder:
        head = stdin.read(4)
        suffix = next((kind for magic, kind in _MAGIC if head == magic), ".csv")
        staged = Path(folder) / f"stdin{suffix}"
        with staged.open("wb") as copy:
            copy.write(head)
            shutil.copyfileobj(stdin, copy, 1 << 20)
        try:
            yield staged
        except HsmapError as error:
            raise HsmapError(str(error).replace(str(staged), STDIN_NAME)) from None


@contextmanager
def staged_output(target: Path, fmt: OutputFormat | None) -> Iterator[Path]:
    """``target`` itself, or for ``-`` a temporary file in ``fmt`` (CSV by default) that is copied to standard
    output once the block succeeded. ``fmt`` given with a file must agree with its suffix."""
    if not is_stdio(target):
        if fmt is not None and target.suffix.lower() != f".{fmt}":
            raise InputError(str(target), None, None, f"--format {fmt} disagrees with the file's suffix")
        yield target
        return
    with tempfile.TemporaryDirectory(prefix="hsmap-stdout-") as folder:
        staged = Path(folder) / f"stdout.{fmt or OutputFormat.csv}"
        try:
            yield staged  # written as any output file is (hsmap.outputs): whole, or not at all
        except HsmapError as error:
            raise HsmapError(str(error).replace(str(staged), STDOUT_NAME)) from None
        try:
            with staged.open("rb") as result:
                sys.stdout.flush()
                shutil.copyfileobj(result, sys.stdout.buffer, 1 << 20)
                sys.stdout.buffer.flush()
        except BrokenPipeError:  # the reader stopped early (| head): not an error; no message at exit either
            global _reader_stopped
            _reader_stopped = True
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
