"""The entry points: reconcile an aggregate, canonical frames or files, one step after another."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hsmap.customs import CustomsReading, customs_chunks, iter_customs
from hsmap.dataset import is_dataset, iter_file, resolve_dataset
from hsmap.io import CHUNK_ROWS
from hsmap.knowledge import Knowledge, load_knowledge
from hsmap.reconcile.aggregate import CustomsAggregate, aggregate_customs, combine_aggregates
from hsmap.reconcile.categories import CategoryTree
from hsmap.reconcile.cells import fill_defaults, special_report_rows, sum_customs_cells, sum_report_cells
from hsmap.reconcile.explain import Explainer
from hsmap.reconcile.levels import capped_categories, comparison_levels
from hsmap.reconcile.money import convert_customs, normalise_rates, target_currency
from hsmap.reconcile.options import ReconcileOptions
from hsmap.reconcile.prepare import prepare_partials, prepare_report
from hsmap.reconcile.result import Reconciliation
from hsmap.reconcile.statuses import assign_statuses
from hsmap.reconcile.tables import (
    accounting_table,
    comparison_table,
    customs_unmatched_table,
    not_att_table,
    partners_table,
    report_unmatched_table,
)
from hsmap.report import read_report
from hsmap.review_list import exclude_reviewed, no_review, read_review_list


def reconcile(
    customs: CustomsAggregate,
    report: pd.DataFrame,
    kb: Knowledge,
    options: ReconcileOptions | None = None,
) -> Reconciliation:
    """Compare aggregated customs data with an ATT report (the frame of :func:`hsmap.report.read_report`)."""
    options = options or ReconcileOptions()
    tree = CategoryTree(kb)
    rates = normalise_rates(options.rates)
    rep = prepare_report(report, tree)
    parts = prepare_partials(customs.partials, rep, tree, options)
    target = target_currency(options.currency, rep, parts)

    excluded = parts[parts["exclusion"] != ""].copy()
    usable = parts[parts["exclusion"] == ""]
    not_att = usable[usable["category"] == ""].copy()
    cells_in = usable[usable["category"] != ""].copy()
    compare_rows = rep[rep["role"] == "compare"].copy()

    on = ["year", "flow", "partner_key"]
    cells_in["capped"] = capped_categories(cells_in, rep, tree)
    compare_rows["undecided"] = ""
    members = pd.concat(
        [
            cells_in[[*on, "capped", "undecided"]].rename(columns={"capped": "category"}).assign(side="customs"),
            compare_rows[[*on, "category", "undecided"]].assign(side="report"),
        ],
        ignore_index=True,
    )
    mapping = comparison_levels(members, on, tree).rename(columns={"category": "member"})
    level_keys = [*on, "member", "undecided"]
    cells_in = cells_in.merge(mapping, how="left", left_on=[*on, "capped", "undecided"], right_on=level_keys)
    compare_rows = compare_rows.merge(mapping, how="left", left_on=[*on, "category", "undecided"], right_on=level_keys)

    cells_in = convert_customs(cells_in, target, rates)
    customs_cells = sum_customs_cells(cells_in, kb)
    report_cells = sum_report_cells(compare_rows, target, rates)
    merged = customs_cells.merge(report_cells, how="outer", on=[*on, "cmp"])
    merged["kind"] = "cell"
    special = special_report_rows(rep[rep["role"] != "compare"], target, rates)
    table = fill_defaults(pd.concat([merged, special], ignore_index=True))
    table["top_category"] = table["cmp"].map(tree.top_of).fillna("").astype("str")
    table["cell_id"] = np.arange(len(table))
    table = assign_statuses(table, rep, options, tree)
    context = Explainer(tree, table, rep, not_att, excluded, target)
    explained = [context.explain(row) for row in table.itertuples(index=False)]
    table["explanation"] = [text for text, _ in explained]
    table["gaps"] = [gaps for _, gaps in explained]

    return Reconciliation(
        comparison=comparison_table(table, tree, target).drop(columns=["cell_id"]),
        customs_unmatched=customs_unmatched_table(cells_in, excluded, table),
        customs_not_att=not_att_table(not_att),
        report_unmatched=report_unmatched_table(rep, table),
        partners=partners_table(customs.partners, rep),
        problems=customs.problems.copy(),
        accounting=accounting_table(customs, excluded, not_att, cells_in, rep),
        top_order=tuple(sorted(set(table["top_category"]) - {""}, key=tree.position)),
        settings={
            "tolerance (items)": f"{options.tolerance:g}",
            "tolerance (value)": f"{options.value_tol:g}",
            "currency": target or "(none)",
            "re-exports": "compared with exports" if options.include_re_exports else "left out",
            "reporting state": ", ".join(sorted(set(rep["reporting_state_iso3"]) - {""})) or "(unknown)",
        },
    )


def reconcile_frames(
    customs: pd.DataFrame | Iterable[pd.DataFrame],
    report: pd.DataFrame,
    kb: Knowledge,
    options: ReconcileOptions | None = None,
) -> Reconciliation:
    """Reconcile canonical customs frames (:func:`hsmap.customs.customs_frame`) with a report frame."""
    chunks = [customs] if isinstance(customs, pd.DataFrame) else customs
    return reconcile(aggregate_customs(chunks), report, kb, options)


Aggregation = Callable[[Path | str, Knowledge, CustomsReading, pd.DataFrame], CustomsAggregate]
"""Sums the customs lines of a file, folder or glob: ``(source, kb, reading, review) → CustomsAggregate``, where
``reading`` says how to read them (:class:`hsmap.customs.CustomsReading`) and ``review`` lists the lines a
draft report left for review (:func:`hsmap.review_list.read_review_list`), which are excluded. The
reconciliation takes one in and never chooses an engine: :func:`streaming_aggregation` here,
:func:`hsmap.engines.dask_aggregation` on a Dask cluster."""


def streaming_aggregation(sheet: str | None = None, chunk_rows: int = CHUNK_ROWS) -> Aggregation:
    """Aggregate in this process, chunk by chunk; a dataset file by file, the parts combined in order."""

    def aggregate(source: Path | str, kb: Knowledge, reading: CustomsReading, review: pd.DataFrame) -> CustomsAggregate:
        if is_dataset(source):
            return combine_aggregates(
                aggregate_customs(
                    exclude_reviewed(
                        customs_chunks(iter_file(file, chunk_rows), str(file.path), reading, kb=kb),
                        str(file.relative),
                        review,
                    )
                )
                for file in resolve_dataset(source)
            )
        chunks = iter_customs(Path(source), reading, sheet=sheet, chunk_rows=chunk_rows, kb=kb)
        return aggregate_customs(exclude_reviewed(chunks, Path(source).name, review))

    return aggregate


def reconcile_files(
    customs: Path | str | pd.DataFrame,
    report: Path | str | pd.DataFrame,
    options: ReconcileOptions | None = None,
    *,
    kb: Knowledge | None = None,
    reading: CustomsReading | None = None,
    customs_sheet: str | None = None,
    report_sheet: str | None = None,
    report_defaults: dict[str, Any] | None = None,
    report_stated_by: Mapping[str, str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    aggregation: Aggregation | None = None,
) -> Reconciliation:
    """Read both sides and reconcile them: customs lines (classified on the fly when they carry no
    ``att_category``) as ``reading`` says, and an ATT report (:func:`hsmap.report.read_report`). Each side is a
    file or a DataFrame holding the file's table (the customs declaration lines or extract as read; the
    report's sheet, column names as its header). ``report_defaults`` fills report fields stated once for the
    file (reporting_state, year, flow, basis); ``report_stated_by`` names how the caller lets a user give
    them, for the message about a missing column.

    A customs path may be a folder or glob of files (:func:`hsmap.dataset.resolve_dataset`): each file is
    aggregated on its own, with its partition folders as columns (``year=2024``), and the partial aggregates
    are combined; rows are numbered across the files in sorted path order. ``aggregation`` sums the customs
    lines of a path elsewhere, e.g. on a Dask cluster (:func:`hsmap.engines.dask_aggregation`); by default they
    are streamed in this process (:func:`streaming_aggregation`, ``customs_sheet`` and ``chunk_rows``).

    A draft report (``hsmap draft-report``) names the customs lines it left for review
    (:func:`hsmap.review_list.read_review_list`): they are excluded with that reason, never compared."""
    kb = kb or load_knowledge()
    reading = reading or CustomsReading()
    stated = report_defaults or {}
    if isinstance(report, pd.DataFrame):
        report_table = read_report(report, known_categories=kb.categories, stated_by=report_stated_by, **stated)
        review = no_review()
    else:
        report_table = read_report(
            report, report_sheet, known_categories=kb.categories, stated_by=report_stated_by, **stated
        )
        review = read_review_list(report)
    if isinstance(customs, pd.DataFrame):
        aggregate = aggregate_customs(customs_chunks([customs], "customs", reading, kb=kb))
    else:
        aggregate = (aggregation or streaming_aggregation(customs_sheet, chunk_rows))(customs, kb, reading, review)
    result = reconcile(aggregate, report_table, kb, options)
    if len(review):
        result.settings["left for review in the draft"] = f"{len(review):,} customs lines"
    return result
