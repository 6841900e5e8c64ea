"""Reconcile what customs recorded with what an ATT annual report says, cell by cell, and say why they differ.

A *cell* is (year, flow, partner State, ATT category). Customs lines are aggregated chunk by chunk into
partial sums (:class:`CustomsAggregate`), so memory follows the number of distinct cells, not of lines. The
report side is the tidy table of :func:`hsmap.report.read_report`. Both sides are brought to the category
level they both support — per category tree, never below the finest level the report uses, and within a
partner at the coarsest category either side gives (a report row ``VIII`` absorbs customs lines classified
``VIII.SA.4``), at the common parent where the two sides disagree below it (customs ``VIII.SA.4`` against
a report row ``VIII.SA.2``), and at a combined level such as ``I+II`` where a customs code cannot tell two
categories apart (8710.00 without a telling description) — and joined with an outer merge.

Each comparison row gets a status: ``match``, ``within-tolerance``, ``mismatch`` (with absolute and relative
differences, customs minus report, relative to the report), ``only-customs``, ``only-report`` or
``not-comparable`` (kilograms against items, a missing exchange rate, a partner that is not a State, a
withheld row …). Numbers of items are compared with items and values with values in one currency; the
explanation says why in words a reporting officer can act on, and names the known structural gaps:
authorised vs actual transfers, calendar-year timing, re-exports, withheld and aggregated report rows,
codes shared with civilian goods, intra-EU transfers that need no customs declaration, and Art. 3/4 items
that the annual report need not list.

Every input line is accounted for: customs lines end in a comparison cell, among the lines not classified
as ATT items, or among the excluded lines with a reason; every report row lands in exactly one comparison row.

Where things live: ``aggregate`` (customs partial sums), ``prepare`` (report roles, customs exclusions),
``levels`` (comparison level), ``money`` (currencies and rates), ``cells`` (the joined cells), ``statuses``
(measures, tolerances, statuses), ``explain`` (the explanations), ``tables`` (the output tables), ``result``
(:class:`Reconciliation`) and ``run`` (the entry points).
"""

from hsmap.reconcile.aggregate import CustomsAggregate, aggregate_customs, combine_aggregates
from hsmap.reconcile.money import normalise_rates, read_rates
from hsmap.reconcile.options import ReconcileOptions
from hsmap.reconcile.result import Reconciliation
from hsmap.reconcile.run import Aggregation, reconcile, reconcile_files, reconcile_frames, streaming_aggregation
from hsmap.reconcile.statuses import STATUSES, compare_measure
from hsmap.reconcile.tables import COMPARISON_COLUMNS

__all__ = [
    "COMPARISON_COLUMNS",
    "STATUSES",
    "Aggregation",
    "CustomsAggregate",
    "ReconcileOptions",
    "Reconciliation",
    "aggregate_customs",
    "combine_aggregates",
    "compare_measure",
    "normalise_rates",
    "read_rates",
    "reconcile",
    "reconcile_files",
    "reconcile_frames",
    "streaming_aggregation",
]
