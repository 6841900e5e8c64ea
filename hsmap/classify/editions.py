"""Which HS edition reads a declaration line: the one in force on the line's date.

Customs declare under the edition in force on the day of the declaration (HS 2012 from 2012 to 2016, HS 2017
from 2017 to 2021, HS 2022 from 2022), so ten years of declarations hold codes of three editions, and the
drone codes of 8806 do not exist before 2022. When each edition entered into force is data
(``mappings/hs/editions.csv``): an edition reads the lines of its years until the next one enters into force.

With ``edition="auto"`` each line is read under the edition in force in its year; lines without a readable year,
and files without a year or date column, under the newest edition. A given edition reads every line. Lines are
grouped by edition and each group is decided by that edition's shared classifier, so the work still follows the
distinct (code, text) pairs; a pair whose code every edition reads alike (the same links) is decided once for
all. The result says which edition decided each line (``hs_edition``) and flags a code that does not exist in it
(``code-not-in-edition``); such a line is still classified, with the links of the edition the code belongs to (an
8806 drone code declared in 2015 reads as the drone it names).
"""

from __future__ import annotations

import threading
import weakref
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hsmap.classify.decide import OUTPUT_COLUMNS, LineEvidence, attach_rows, decision_ids, shared_classifier
from hsmap.knowledge import Knowledge
from hsmap.lookup import COMTRADE_EDITION, UnknownEdition, hs2022_codes, known_edition

AUTO = "auto"
EditionChoice = int | Literal["auto"]
EDITION_COLUMN = "hs_edition"
NOT_IN_EDITION = "code-not-in-edition"
RESULT_COLUMNS = [OUTPUT_COLUMNS[0], EDITION_COLUMN, *OUTPUT_COLUMNS[1:]]
"""The columns a declaration line gains: the classifier's, with the edition that decided it after ``hs6``."""


def choose_edition(value: int | str | None, kb: Knowledge) -> EditionChoice:
    """``"auto"`` (also for None), or an edition the knowledge base has (``2017`` or ``"2017"``); raises
    :class:`hsmap.lookup.UnknownEdition` for any other."""
    text = "" if value is None else str(value).strip()
    if text.lower() in ("", AUTO):
        return AUTO
    if not text.isdigit():
        editions = ", ".join(map(str, kb.editions))
        raise UnknownEdition(f"edition {text!r}: give auto or one of the editions ({editions})")
    return known_edition(kb, int(text))


def in_force(years: np.ndarray, kb: Knowledge) -> np.ndarray:
    """The edition in force in each year (``mappings/hs/editions.csv``). A year before the oldest edition gets
    the oldest; 0 (no readable year) the newest."""
    starts = np.array([day.year for day in kb.in_force["in_force_from"]])
    editions = kb.in_force["edition"].to_numpy()
    position = np.clip(np.searchsorted(starts, years, side="right") - 1, 0, None)
    return np.where(years == 0, kb.newest, editions[position])


class EditionReader:
    """Reads declaration lines under one edition, or each line under the edition in force on its date."""

    def __init__(self, kb: Knowledge, edition: EditionChoice = AUTO) -> None:
        self.kb = kb
        self.edition = edition if edition == AUTO else known_edition(kb, int(edition))
        self._codes, self._anywhere = _edition_codes(kb)

    @property
    def by_date(self) -> bool:
        """Whether a line's year chooses its edition."""
        return self.edition == AUTO

    def editions_of(self, years: pd.Series | np.ndarray | None, rows: int) -> np.ndarray:
        """The edition of each of ``rows`` lines, from their years (None: the file has no year or date)."""
        if not self.by_date:
            return np.full(rows, self.edition)
        if years is None:
            return np.full(rows, self.kb.newest)
        return in_force(np.asarray(years, dtype=np.int64), self.kb)

    def decide(
        self,
        frame: pd.DataFrame,
        code_column: str | None,
        text_column: str | None,
        years: pd.Series | np.ndarray | None = None,
        texts: LineEvidence | None = None,
    ) -> tuple[pa.Table, np.ndarray]:
        """The distinct decisions (:data:`RESULT_COLUMNS`) and, per line, the one it gets: lines grouped by
        edition, each group decided by that edition's classifier (``texts``: :func:`hsmap.classify.decide.read_texts`
        of the frame, when it was read already)."""
        editions = self.editions_of(years, len(frame))
        groups = np.unique(editions) if len(editions) else np.array([self.kb.newest])
        ids = np.zeros(len(frame), dtype=np.int64)
        tables = []
        read_from = [name for name in (code_column, text_column if texts is None else None) if name is not None]
        for edition in groups.tolist():
            where = np.flatnonzero(editions == edition) if len(groups) > 1 else None
            lines = frame if where is None else frame[read_from].iloc[where]  # the columns a decision reads
            classifier = shared_classifier(self.kb, edition)
            read = texts if texts is None or where is None else texts.lines(where)
            local, used = pd.factorize(decision_ids(lines, code_column, text_column, classifier, read))
            positions = local.astype(np.int64) + sum(table.num_rows for table in tables)
            if where is None:
                ids = positions
            else:
                ids[where] = positions
            tables.append(self._mark(classifier.table().take(pa.array(used, type=pa.int64())), edition))
        return (tables[0] if len(tables) == 1 else pa.concat_tables(tables)), ids

    def _mark(self, rows: pa.Table, edition: int) -> pa.Table:
        """Decisions of one edition with ``hs_edition``, and ``code-not-in-edition`` where the code belongs to
        another edition of the knowledge base (a code in none of them the classifier flags itself)."""
        hs6 = rows.column("hs6")
        foreign = [c for c in pc.unique(hs6).to_pylist() if c in self._anywhere and c not in self._codes[edition]]
        if foreign:  # judged per distinct code: a chunk's decisions share a few hundred codes
            missing = pc.is_in(hs6, value_set=pa.array(foreign, type=hs6.type)).to_numpy(zero_copy_only=False)
            flags = rows.column("flags").to_pandas()  # the reason already names the code's own edition
            flags[missing] = (flags[missing] + ";").where(flags[missing] != "", "") + NOT_IN_EDITION
            where = rows.schema.get_field_index("flags")
            rows = rows.set_column(where, "flags", pa.array(flags, type=pa.large_string()))
        column = pa.array(np.full(rows.num_rows, edition, dtype=np.int32))
        return rows.add_column(1, EDITION_COLUMN, column)


def _edition_codes(kb: Knowledge) -> tuple[dict[int, frozenset[str]], frozenset[str]]:
    """The subheadings of each edition (our files; for HS 2022 the full UN Comtrade list as well), and those of
    our files of any edition: a code of these that its line's edition lacks belongs to another edition."""
    with _CODES_LOCK:
        found = _CODES.get(kb)
        if found is None:
            codes = {e: frozenset(table.loc[table["level"] == 6, "code"]) for e, table in kb.hs.items()}
            anywhere = frozenset().union(*codes.values())
            if COMTRADE_EDITION in codes:
                full = (f"{digits[:4]}.{digits[4:]}" for digits in hs2022_codes() if len(digits) == 6)
                codes[COMTRADE_EDITION] = codes[COMTRADE_EDITION].union(full)
            found = _CODES[kb] = (codes, anywhere)
        return found


_CODES: weakref.WeakKeyDictionary[Knowledge, tuple[dict[int, frozenset[str]], frozenset[str]]] = (
    weakref.WeakKeyDictionary()
)
_CODES_LOCK = threading.Lock()


def attach_results(frame: pd.DataFrame, rows: pa.Table, ids: np.ndarray) -> pd.DataFrame:
    """``frame`` with row ``ids[i]`` of ``rows`` beside its row ``i``; an input column named like a result
    column comes back as ``input_<name>``."""
    if EDITION_COLUMN in frame.columns:
        frame = frame.rename(columns={EDITION_COLUMN: f"input_{EDITION_COLUMN}"})
    return attach_rows(frame, rows, ids)
