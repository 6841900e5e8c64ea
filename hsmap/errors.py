"""Exceptions that carry where a problem is, so the CLI can print one clear line.

As in python-stdnum, an error about a value someone gave — a code, a category, an edition, a cell of a file —
is a :class:`ValueError` (and an :class:`HsmapError`), so ``except ValueError`` catches it in a program that
knows nothing of hsmap.
"""

from __future__ import annotations


class HsmapError(Exception):
    """Base class of every error hsmap raises on purpose."""


class InvalidCode(HsmapError, ValueError):
    """An HS code that cannot be read; the message says why."""


class UnknownCategory(HsmapError, ValueError):
    """A category ID that is not in ``categories.yaml``."""


class UnknownEdition(HsmapError, ValueError):
    """An HS edition the knowledge base has no files for."""


class OutputError(HsmapError):
    """An output that could not be written (a full disk, a file too large, no permission); the message names
    the file and says that the previous one, if any, is unchanged."""


class InputError(HsmapError, ValueError):
    """Bad input data: names the file (or table), the row (as a spreadsheet counts it) and the column."""

    def __init__(
        self,
        file: str | None,
        row: int | None,
        column: str | None,
        message: str,
    ) -> None:
        self.file, self.row, self.column, self.message = file, row, column, message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [str(self.file)] if self.file else []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message
