"""The customs side in bounded memory: lines summed chunk by chunk into partial aggregates that merge and
combine across chunks, files and workers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

PARTIAL_KEYS = [
    "reporter_iso3",
    "year",
    "flow",
    "partner_key",
    "category",
    "undecided",
    "hs6",
    "currency",
    "unit",
    "exclusion",
]
SUMS = [
    "lines",
    "item_lines",
    "items",
    "kg_lines",
    "kg_unit_lines",
    "kg",
    "none_lines",
    "other_lines",
    "bad_quantity",
    "bad_value",
    "value_lines",
    "value",
    "edge_lines",
    "shared_civil_lines",
    "mismatch_lines",
]
FIRSTS = ["partner", "partner_status", "partner_note", "description"]
_MAX_PROBLEMS = 500


def _partial(chunk: pd.DataFrame) -> pd.DataFrame:
    """One canonical chunk (:func:`hsmap.customs.prepare_customs`) summed per partial key."""
    flags = chunk["flags"].astype("str")
    measures = pd.DataFrame(
        {
            "lines": 1,
            "item_lines": (chunk["unit"].eq("items") & chunk["items"].notna()).astype("int64"),
            "items": chunk["items"].fillna(0.0),
            "kg_lines": chunk["kg"].notna().astype("int64"),
            "kg_unit_lines": chunk["unit"].eq("kg").astype("int64"),
            "kg": chunk["kg"].fillna(0.0),
            "none_lines": chunk["unit"].eq("none").astype("int64"),
            "other_lines": chunk["unit"].str.startswith("other:").astype("int64"),
            "bad_quantity": chunk["bad_quantity"].astype("int64"),
            "bad_value": chunk["bad_value"].astype("int64"),
            "value_lines": chunk["value"].notna().astype("int64"),
            "value": chunk["value"].fillna(0.0),
            "edge_lines": chunk["month"].isin([1, 12]).astype("int64"),
            "shared_civil_lines": flags.str.contains("shared-civil", regex=False).astype("int64"),
            "mismatch_lines": flags.str.contains("code-text-mismatch", regex=False).astype("int64"),
            "first_row": chunk["source_row"],
        }
    )
    keys = chunk[PARTIAL_KEYS].astype({"year": "int64"})
    frame = pd.concat([keys, measures, chunk[FIRSTS]], axis=1)
    return _combine(frame)


def _combine(frame: pd.DataFrame) -> pd.DataFrame:
    aggregations: dict[str, Any] = dict.fromkeys(SUMS, "sum")
    aggregations |= {"first_row": "min"} | dict.fromkeys(FIRSTS, "first")
    return frame.groupby(PARTIAL_KEYS, sort=False, dropna=False).agg(aggregations).reset_index()


@dataclass
class CustomsAggregate:
    """Customs lines summed per (reporter, year, flow, partner, category, undecided, HS6, currency, unit, exclusion).

    Feed it canonical chunks with :meth:`add`; it keeps partial sums, the partner spellings seen and the
    unreadable cells, so its size follows the distinct values, never the number of lines.
    """

    partials: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    partners: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame())
    lines: int = 0
    problem_lines_not_listed: int = 0
    _pending: list[pd.DataFrame] = field(default_factory=list, repr=False)

    def add(self, chunk: pd.DataFrame) -> None:
        """Add one canonical chunk."""
        self.lines += len(chunk)
        self._pending.append(_partial(chunk))
        partners = chunk.groupby(
            ["partner", "partner_iso3", "partner_status", "partner_note"], sort=False, dropna=False
        ).size()
        self.partners = _sum_frames(self.partners, partners.rename("lines").reset_index(), "lines")
        bad = chunk[chunk["problem"] != ""]
        if len(bad):
            problems = bad.groupby("problem", sort=False).agg(
                lines=("source_row", "size"), first_row=("source_row", "min")
            )
            self._add_problems(problems.reset_index())
        if len(self._pending) >= 8:
            self._flush()

    def _add_problems(self, problems: pd.DataFrame) -> None:
        merged = pd.concat([self.problems, problems], ignore_index=True)
        merged = merged.groupby("problem", sort=False).agg(lines=("lines", "sum"), first_row=("first_row", "min"))
        merged = merged.reset_index().sort_values(["first_row"], kind="stable")
        if len(merged) > _MAX_PROBLEMS:
            self.problem_lines_not_listed += int(merged["lines"].iloc[_MAX_PROBLEMS:].sum())
            merged = merged.iloc[:_MAX_PROBLEMS]
        self.problems = merged

    def merge(self, other: CustomsAggregate) -> None:
        """Add the finished aggregate of the next part of a dataset (a file, a worker's piece). Its rows were
        numbered from 2 within the part; they are renumbered as if the parts were one table, in order."""
        offset = self.lines
        self.lines += other.lines
        self.problem_lines_not_listed += other.problem_lines_not_listed
        if len(other.partials):
            self._pending.append(other.partials.assign(first_row=other.partials["first_row"] + offset))
        if len(other.partners):
            self.partners = _sum_frames(self.partners, other.partners, "lines")
        if len(other.problems):
            self._add_problems(other.problems.assign(first_row=other.problems["first_row"] + offset))
        if len(self._pending) >= 8:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            frames = [self.partials, *self._pending] if len(self.partials) else self._pending
            self.partials = _combine(pd.concat(frames, ignore_index=True))
            self._pending = []

    def finish(self) -> CustomsAggregate:
        """Combine what is pending; call once after the last chunk (``aggregate_customs`` does)."""
        self._flush()
        if self.partials.empty:
            self.partials = _combine(_empty_partial())
        if self.partners.empty:
            self.partners = pd.DataFrame(columns=["partner", "partner_iso3", "partner_status", "partner_note", "lines"])
        if self.problems.empty:
            self.problems = pd.DataFrame({"problem": pd.Series(dtype="str"), "lines": [], "first_row": []})
        return self


def _sum_frames(total: pd.DataFrame, new: pd.DataFrame, column: str) -> pd.DataFrame:
    if total.empty:
        return new
    keys = [name for name in new.columns if name != column]
    return (
        pd.concat([total, new], ignore_index=True).groupby(keys, sort=False, dropna=False)[column].sum().reset_index()
    )


def _empty_partial() -> pd.DataFrame:
    columns: dict[str, pd.Series] = {key: pd.Series(dtype="str") for key in PARTIAL_KEYS}
    columns["year"] = pd.Series(dtype="int64")
    columns |= {name: pd.Series(dtype="float64") for name in SUMS}
    columns["first_row"] = pd.Series(dtype="int64")
    columns |= {name: pd.Series(dtype="str") for name in FIRSTS}
    return pd.DataFrame(columns)


def aggregate_customs(chunks: Iterable[pd.DataFrame]) -> CustomsAggregate:
    """Sum canonical customs chunks (from :func:`hsmap.customs.iter_customs`) into a :class:`CustomsAggregate`."""
    aggregate = CustomsAggregate()
    for chunk in chunks:
        aggregate.add(chunk)
    return aggregate.finish()


def combine_aggregates(parts: Iterable[CustomsAggregate]) -> CustomsAggregate:
    """The aggregates of a dataset's parts, in dataset order, as one (:meth:`CustomsAggregate.merge`): what
    partitions or workers summed on their own adds up to what one pass over every line gives."""
    total = CustomsAggregate()
    for part in parts:
        total.merge(part)
    return total.finish()
