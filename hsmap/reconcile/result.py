"""The result of a reconciliation and its summaries by status, category and partner."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hsmap.reconcile.statuses import STATUSES


@dataclass
class Reconciliation:
    """The comparison table and everything needed to account for every input line."""

    comparison: pd.DataFrame
    customs_unmatched: pd.DataFrame
    customs_not_att: pd.DataFrame
    report_unmatched: pd.DataFrame
    partners: pd.DataFrame
    problems: pd.DataFrame
    accounting: pd.DataFrame
    settings: dict[str, str]
    top_order: tuple[str, ...] = field(default=())  # top-level (and combined) categories in the treaty's order

    def by_status(self) -> pd.DataFrame:
        """Comparison rows, customs lines and report rows per status, in the order of :data:`STATUSES`."""
        table = self.comparison.groupby("status", observed=False).agg(
            rows=("status", "size"), customs_lines=("customs_lines", "sum"), report_rows=("report_row_count", "sum")
        )
        return table.reindex(list(STATUSES), fill_value=0).rename_axis("status").reset_index()

    def by_category(self) -> pd.DataFrame:
        """Per top-level category: totals on both sides and the number of rows of each status."""
        return self._breakdown("top_category")

    def by_partner(self) -> pd.DataFrame:
        """Per partner: totals on both sides and the number of rows of each status."""
        return self._breakdown("partner")

    def _breakdown(self, key: str) -> pd.DataFrame:
        frame = self.comparison
        totals = frame.groupby(key, sort=True).agg(
            customs_items=("customs_items", "sum"),
            report_items=("report_items", "sum"),
            customs_value=("customs_value", "sum"),
            report_value=("report_value", "sum"),
            customs_lines=("customs_lines", "sum"),
            report_rows=("report_row_count", "sum"),
        )
        counts = pd.crosstab(frame[key], frame["status"]).reindex(columns=list(STATUSES), fill_value=0)
        table = totals.join(counts).fillna(0).reset_index()
        if key == "top_category":  # the treaty's order: I, I+II, II … VIII, then Art. 3 and Art. 4
            order = {top: position for position, top in enumerate(self.top_order)}
            table = table.iloc[table[key].map(order).fillna(len(order)).argsort(kind="stable")]
        return table.reset_index(drop=True)

    @property
    def status_counts(self) -> dict[str, int]:
        return {row.status: int(row.rows) for row in self.by_status().itertuples(index=False)}
