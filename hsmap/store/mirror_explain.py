"""The mirror comparison in words: the ``gaps`` tags and the ``explanation`` of each row of the mirror table."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from hsmap.knowledge import Knowledge
from hsmap.reconcile.statuses import EPSILON
from hsmap.store.names import country_name


def _known(number: Any) -> bool:
    """A number that is there: not None, NA or NaN (cheaper than ``pd.notna`` in a loop over rows)."""
    return number is not None and number is not pd.NA and number == number


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


class MirrorExplanations:
    """Explains each row of the mirror table; the pairing in :mod:`hsmap.store.mirror` builds on it."""

    kb: Knowledge
    top: dict[str, str]
    lineage: dict[str, set[str]]
    covered: set[tuple[str, int, str]]
    nil: set[tuple[str, int, str]]

    def _explain(self, table: pd.DataFrame) -> None:
        table_rows = table.astype("object")  # plain Python values: iterating Arrow-backed strings is slow
        only = table_rows[table_rows["status"] == "only-report"]
        self.only = defaultdict(list)  # (year, exporter, importer, side) → rows
        for row in only.itertuples(index=False):
            self.only[(row.year, row.exporter, row.importer, row.side)].append(row)
        self.unpaired = defaultdict(list)  # (reporter, year, flow) → unpaired rows of that report, in a fixed
        # order (the database groups rows in any order), so hints and gaps read the same in every run
        unpaired = table_rows[table_rows["kind"] != "pair"]
        order = ["kind", "category", "exporter", "importer", "partner_text"]
        for row in unpaired.sort_values(order, kind="stable").itertuples(index=False):
            reporter = row.exporter if row.side == "exporter" else row.importer
            self.unpaired[(reporter, row.year, "export" if row.side == "exporter" else "import")].append(row)
        texts, gaps = [], []
        for row in table_rows.itertuples(index=False):
            found: list[str] = []
            if row.kind == "pair" and row.status == "only-report":
                text = self._only(row, found)
            elif row.kind == "pair":
                text = self._both(row, found)
            else:
                text = self._not_paired(row, found)
            texts.append(text)
            gaps.append(";".join(dict.fromkeys(found)))
        table["explanation"] = pd.Series(texts, index=table.index, dtype="str")
        table["gaps"] = pd.Series(gaps, index=table.index, dtype="str")

    def _name(self, key: str) -> str:
        name = country_name(key)
        return f"{name} ({key})" if key and key[0] not in "?*" and name != key else (name or "an unnamed partner")

    def _category(self, cid: str) -> str:
        return f"{cid} ({self.kb.label(cid)})" if cid in self.kb.categories else (cid or "no category")

    @staticmethod
    def _amount(items: float, value: float, currency: str) -> str:
        parts = []
        if _known(items):
            parts.append(f"{_number(items)} item{'s' if items != 1 else ''}")
        if _known(value) and currency:
            parts.append(f"{currency} {_number(value)}")
        return " worth ".join(parts) if parts else "no number"

    def _side_amount(self, row: Any, flow: str) -> str:
        return self._amount(
            getattr(row, f"{flow}_items"), getattr(row, f"{flow}_value"), getattr(row, f"{flow}_currency")
        )

    def _same_branch(self, first: str, second: str) -> bool:
        """One category lies within the other (``VIII.SA`` and ``VIII.SA.4``), or either is unknown."""
        if first not in self.lineage or second not in self.lineage:
            return True
        return first in self.lineage[second] or second in self.lineage[first]

    def _may_be_same(self, row: Any, other: Any, flow: str, other_flow: str) -> bool:
        """Worth a category-differs hint: the same category tree, or the same number of items or value."""
        if self.top.get(row.category) == self.top.get(other.category):
            return True
        mine = (getattr(row, f"{flow}_items"), getattr(row, f"{flow}_value"))
        theirs = (getattr(other, f"{other_flow}_items"), getattr(other, f"{other_flow}_value"))
        return any(_known(a) and _known(b) and abs(a - b) <= EPSILON for a, b in zip(mine, theirs, strict=True))

    def _only(self, row: Any, gaps: list[str]) -> str:
        exporting = row.side == "exporter"
        me, other = (row.exporter, row.importer) if exporting else (row.importer, row.exporter)
        flow, other_flow = ("export", "import") if exporting else ("import", "export")
        counterpart = "importer" if exporting else "exporter"
        to, back = ("to", "from") if exporting else ("from", "to")
        text = (
            f"{self._name(me)} reports {flow}ing {self._side_amount(row, flow)} of {self._category(row.category)} "
            f"{to} {self._name(other)} in {row.year}"
        )
        key = (other, row.year, other_flow)
        if key in self.nil:
            gaps.append("nil-report")
            return f"{text}, but {self._name(other)} filed a nil report for its {row.year} {other_flow}s."
        hints = []
        if key not in self.covered:
            gaps.append("no-counterpart-report")
            text += f"; no {row.year} {other_flow} report of {self._name(other)} is in the store."
        else:
            text += f"; {self._name(other)}'s {row.year} {other_flow} report lists no such {other_flow}."
            differs = [
                r
                for r in self.only[(row.year, row.exporter, row.importer, counterpart)]
                if self._may_be_same(row, r, flow, other_flow)
            ]
            if differs:
                gaps.append("category-differs")
                listed = ", ".join(f"{r.category} ({self._side_amount(r, other_flow)})" for r in differs)
                hints.append(
                    f"{self._name(other)} reports {listed} {back} {self._name(me)} that year instead: check whether "
                    "the category differs."
                )
            hints += self._unpaired_hints(other, row.year, other_flow, row.category, gaps)
        neighbours = [
            r
            for year in (row.year - 1, row.year + 1)
            for r in self.only[(year, row.exporter, row.importer, counterpart)]
            if self._same_branch(r.category, row.category)
        ]
        if neighbours:
            gaps.append("calendar-year")
            years = ", ".join(sorted({str(r.year) for r in neighbours}))
            listed = ", ".join(sorted({r.category for r in neighbours}))
            hints.append(
                f"{self._name(other)} reports {listed} {other_flow}s {back} {self._name(me)} in {years}: the two may "
                "count the transfer in different years."
            )
        return " ".join([text if text.endswith(".") else text + ".", *hints])

    def _unpaired_hints(self, state: str, year: int, flow: str, category: str, gaps: list[str]) -> list[str]:
        """What in the other State's report could be the missing line: withheld, unresolved, other-basis rows."""
        hints = []
        for other in self.unpaired.get((state, year, flow), []):
            if not self._same_branch(other.category, category):
                continue
            refs = getattr(other, f"{flow}_source_rows")
            what = self._category(other.category) if other.category else "a transfer"
            if other.kind == "withheld":
                gaps.append("withheld")
                hints.append(f"{self._name(state)} withholds the partner of {what} ({refs}); it may be this one.")
            elif other.kind == "unresolved":
                gaps.append("unresolved-partner")
                hints.append(
                    f"{self._name(state)} names a partner hsmap cannot identify ({other.partner_text!r}, {refs}); "
                    "it may be this one."
                )
            else:
                gaps.append("authorised-vs-actual")
                basis = getattr(other, f"{flow}_basis")
                hints.append(
                    f"{self._name(state)} reports {what} on the {basis} basis too ({refs}), which is not compared."
                )
        return hints

    def _both(self, row: Any, gaps: list[str]) -> str:
        export_amount = self._amount(row.export_items, row.export_value, row.export_currency)
        import_amount = self._amount(row.import_items, row.import_value, row.import_currency)
        text = (
            f"{self._name(row.exporter)} reports exporting {export_amount} of {self._category(row.category)} to "
            f"{self._name(row.importer)} in {row.year}; {self._name(row.importer)} reports importing {import_amount}."
        )
        hints = []
        if row.items_status in ("mismatch", "within-tolerance"):
            hints.append(
                f"Items differ by {row.items_diff:+,.0f} ({row.items_rel_diff:+.1%} of the importer's figure)."
                if np.isfinite(row.items_rel_diff)
                else f"Items differ by {row.items_diff:+,.0f}."
            )
        if row.value_status in ("mismatch", "within-tolerance"):
            rel = f" ({row.value_rel_diff:+.1%} of the importer's figure)" if np.isfinite(row.value_rel_diff) else ""
            hints.append(f"Values differ by {row.export_currency} {row.value_diff:+,.2f}{rel}.")
        if row.items_status == "not-comparable":
            hints.append(
                self._missing(
                    "number of items", row.export_item_rows, row.export_rows, row.import_item_rows, row.import_rows
                )
            )
        if row.value_status == "not-comparable":
            currencies = {c for c in (row.export_currency + "," + row.import_currency).split(",") if c}
            if len(currencies) > 1 and row.export_value_rows and row.import_value_rows:
                gaps.append("currency")
                hints.append(
                    f"Values are in {', '.join(sorted(currencies))} and no exchange rate for {row.year} converts "
                    "them, so values are not compared (give a rate table with --rates)."
                )
            else:
                hints.append(
                    self._missing(
                        "value", row.export_value_rows, row.export_rows, row.import_value_rows, row.import_rows
                    )
                )
        given = f"{row.export_given_currencies},{row.import_given_currencies}"
        converted = {c for c in given.split(",") if c} - {row.export_currency}
        if converted and row.value_status in ("match", "within-tolerance", "mismatch"):
            gaps.append("currency")
            hints.append(
                f"Values in {', '.join(sorted(converted))} are converted to {row.export_currency} at the given rates."
            )
        exported = [c for c in row.export_categories.split(",") if c]
        imported = [c for c in row.import_categories.split(",") if c]
        if row.category not in exported + imported:
            gaps.append("category-differs")
            hints.append(
                f"The exporter reported {', '.join(exported)}, the importer {', '.join(imported)}: compared at "
                f"{row.category}, the lowest category holding both."
            )
            if row.status != "match":  # what the side with fewer items left out of the pairing may hold
                if not row.items_diff > 0:
                    hints += self._unpaired_hints(row.exporter, row.year, "export", row.category, gaps)
                if not row.items_diff < 0:
                    hints += self._unpaired_hints(row.importer, row.year, "import", row.category, gaps)
        elif set(exported + imported) != {row.category}:
            gaps.append("aggregated")
            hints.append(
                f"Compared at {row.category}, the finest level both reports give (exporter: {row.export_categories}; "
                f"importer: {row.import_categories})."
            )
        if row.export_basis != row.import_basis:
            gaps.append("authorised-vs-actual")
            authorized = row.exporter if row.export_basis == "authorized" else row.importer
            hints.append(
                f"{self._name(authorized)} reports authorised transfers (licences), the other State actual ones: a "
                "licence may be used in another year, in part, or not at all."
            )
        if row.export_withheld_rows or row.import_withheld_rows:
            gaps.append("withheld")
            hints.append("Some of these rows withhold numbers (ATT Art. 13(3)).")
        if row.status == "mismatch":
            for side, flow in (("exporter", "export"), ("importer", "import")):
                neighbours = [
                    r
                    for year in (row.year - 1, row.year + 1)
                    for r in self.only[(year, row.exporter, row.importer, side)]
                    if r.kind == "pair" and r.category == row.category
                ]
                if neighbours:
                    gaps.append("calendar-year")
                    years = ", ".join(sorted({str(r.year) for r in neighbours}))
                    hints.append(
                        f"The {side} also reports {row.category} {flow}s of this pair in {years} with no counterpart: "
                        "part of the transfer may be counted in another year."
                    )
        return " ".join([text, *hints])

    @staticmethod
    def _missing(what: str, export_given: int, export_rows: int, import_given: int, import_rows: int) -> str:
        def side(name: str, given: int, rows: int) -> str:
            if given == rows:
                return f"the {name} gives it"
            if given == 0:
                return f"the {name} gives none"
            return f"the {name} gives it on {given} of {rows} rows"

        exporter, importer = side("exporter", export_given, export_rows), side("importer", import_given, import_rows)
        return f"The {what} is not compared: {exporter}, {importer}."

    def _not_paired(self, row: Any, gaps: list[str]) -> str:
        exporting = row.side == "exporter"
        reporter = row.exporter if exporting else row.importer
        flow, other_flow = ("export", "an import") if exporting else ("import", "an export")
        refs = getattr(row, f"{flow}_source_rows")
        what = self._category(row.category) if row.category else "a transfer"
        if row.kind == "withheld":
            gaps.append("withheld")
            desc = f" ({row.descriptions})" if row.descriptions else ""
            return (
                f"{self._name(reporter)} withholds the partner or category of {what}{desc} in its {row.year} {flow} "
                f"report ({refs}; ATT Art. 13(3)): it cannot be paired with {other_flow} report."
            )
        if row.kind == "unresolved":
            gaps.append("unresolved-partner")
            note = "" if row.partner_note.startswith("no exact match") else f" ({row.partner_note})"
            return (
                f"{self._name(reporter)}'s {row.year} {flow} report names the partner {row.partner_text!r}{note} "
                f"({refs}), which is not a State hsmap can identify: add an alias to mappings/partners.csv or "
                "correct the report."
            )
        gaps.append("authorised-vs-actual")
        basis = getattr(row, f"{flow}_basis")
        return (
            f"{self._name(reporter)}'s {row.year} {flow} report counts {basis} transfers on these rows ({refs}) and "
            f"{row.chosen} transfers on its others; the two are never added, so only the {row.chosen} rows are "
            "compared."
        )
