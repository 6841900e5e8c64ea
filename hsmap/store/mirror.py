"""Mirror comparison: each exporter's reported export paired with the importer's reported import, with statuses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from hsmap.knowledge import Knowledge
from hsmap.reconcile.categories import CategoryTree
from hsmap.reconcile.levels import comparison_levels
from hsmap.reconcile.money import conversion_factors, normalise_rates
from hsmap.reconcile.statuses import EPSILON, EXACT_VALUE, compare_measure
from hsmap.store.connection import StoreConnection
from hsmap.store.errors import StoreError
from hsmap.store.filters import category_ids, parse_years, split_values, state_key
from hsmap.store.mirror_explain import MirrorExplanations
from hsmap.store.names import country_name
from hsmap.store.schema import MIRROR_STATUSES

# Report lines summed per reporter × year × flow × basis × category × partner × currency × withheld (no nil rows).
_MIRROR_LINES_SQL = """
SELECT r.reporter_iso3 AS reporter, r.year, r.flow, r.basis, coalesce(r.category, '') AS category,
       r.partner_key, r.partner_status, coalesce(r.currency, '') AS currency, r.withheld,
       count(*) AS rows, count(r.items) AS item_rows, sum(r.items)::DOUBLE AS items,
       count(r.value) AS value_rows, sum(r.value) AS value,
       min(coalesce(r.partner, '')) AS partner_text, min(coalesce(r.partner_note, '')) AS partner_note,
       array_to_string(list(s.file || ' row ' || r.source_row ORDER BY s.file, r.source_row)[1:6], ', ')
           || CASE WHEN count(*) > 6 THEN ', …' ELSE '' END AS refs,
       array_to_string(list_distinct(list(r.description))[1:3], '; ') AS descriptions
FROM report_lines r JOIN sources s USING (source_id)
WHERE NOT r.nil_report AND r.flow IN ('export', 'import') AND {where}
GROUP BY ALL
"""

MIRROR_COLUMNS = (
    "status",
    "side",
    "year",
    "exporter",
    "exporter_name",
    "importer",
    "importer_name",
    "category",
    "category_name",
    "export_rows",
    "export_items",
    "export_value",
    "export_currency",
    "export_basis",
    "export_categories",
    "import_rows",
    "import_items",
    "import_value",
    "import_currency",
    "import_basis",
    "import_categories",
    "items_status",
    "items_diff",
    "items_rel_diff",
    "value_status",
    "value_diff",
    "value_rel_diff",
    "export_source_rows",
    "import_source_rows",
    "gaps",
    "explanation",
)
_SIDE_COLUMNS = {
    "year": "int64",
    "exporter": "str",
    "importer": "str",
    "category": "str",
    "rows": "int64",
    "item_rows": "int64",
    "items": "float64",
    "value_rows": "int64",
    "value": "float64",
    "withheld_rows": "int64",
    "currency": "str",
    "basis": "str",
    "categories": "str",
    "source_rows": "str",
    "given_currencies": "str",
    "present": "bool",
}
_STATUS_ORDER = {"mismatch": 0, "only-report": 1, "not-comparable": 2, "within-tolerance": 3, "match": 4}
_RANK = {"": 0, "not-comparable": 0, "match": 1, "within-tolerance": 2, "mismatch": 3}
_OF_RANK = {0: "not-comparable", 1: "match", 2: "within-tolerance", 3: "mismatch"}


_AGGREGATE_SQL = """
SELECT {keys},
       sum(rows)::BIGINT AS rows,
       sum(item_rows)::BIGINT AS item_rows,
       sum(items) FILTER (WHERE item_rows > 0) AS items,
       sum(value_rows)::BIGINT AS value_rows,
       sum(value) FILTER (WHERE value_rows > 0) AS value,
       sum(CASE WHEN withheld THEN rows ELSE 0 END)::BIGINT AS withheld_rows,
       coalesce(array_to_string(list_sort(list_distinct(
           list(currency) FILTER (WHERE value_rows > 0 AND currency <> ''))), ','), '') AS currency,
       array_to_string(list_sort(list_distinct(list(basis))), ',') AS basis,
       array_to_string(list_sort(list_distinct(list(category))), ',') AS categories,
       array_to_string(list(refs ORDER BY refs), '; ') AS source_rows,
       coalesce(array_to_string(list_sort(list_distinct(
           list(given_currency) FILTER (WHERE value_rows > 0 AND given_currency <> ''))), ','), '') AS given_currencies,
       min(partner_text) AS partner_text,
       min(partner_note) AS partner_note,
       coalesce(array_to_string(list_distinct(list(descriptions) FILTER (WHERE descriptions <> '')), '; '), '')
           AS descriptions
FROM cells GROUP BY {keys}
"""


def _aggregate(cells: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Sum summed report lines again per ``keys`` (in DuckDB: string lists per group cost nothing there).

    Values in more than one currency are not added: ``value`` is left empty and ``currency`` lists them.
    """
    with duckdb.connect() as local:
        local.register("cells", cells)
        names = ", ".join(keys)  # column names chosen by this module, never user text
        out = local.execute(_AGGREGATE_SQL.format(keys=names)).df()
    text = ("currency", "basis", "categories", "source_rows", "given_currencies", "partner_text", "partner_note")
    for name in (*text, "descriptions"):
        out[name] = out[name].fillna("").astype("str")
    out["value"] = out["value"].where(~out["currency"].str.contains(",", regex=False))
    return out


def _converted(cells: pd.DataFrame, rates: pd.DataFrame, currency: str | None) -> pd.DataFrame:
    """Values converted to one currency where ``rates`` know a rate for their year: ``currency`` (default: the
    currency most rows with a value are in). ``given_currency`` keeps the currency each report used."""
    valued = cells[(cells["value_rows"] > 0) & cells["currency"].ne("")]
    if valued.empty:
        return cells
    target = (currency or str(valued.groupby("currency")["value_rows"].sum().idxmax())).strip().upper()
    factor = conversion_factors(cells, target, rates)
    known = factor.notna() & cells["currency"].ne("")
    return cells.assign(
        value=(cells["value"] * factor).where(known, cells["value"]),
        currency=cells["currency"].where(~known, target),
    )


class Mirroring(StoreConnection):
    """The mirror comparison of :class:`hsmap.store.Store`."""

    def mirror(
        self,
        *,
        exporter: str | Iterable[str] | None = None,
        importer: str | Iterable[str] | None = None,
        category: str | Iterable[str] | None = None,
        year: str | int | Iterable[str | int] | None = None,
        status: str | Iterable[str] | None = None,
        tolerance: float = 0.0,
        value_tolerance: float | None = None,
        rates: pd.DataFrame | None = None,
        currency: str | None = None,
    ) -> pd.DataFrame:
        """Pair each exporter's reported export with the importer's reported import and say how they agree.

        A pair is (year, exporter, importer, category), compared at the level the reconciliation uses
        (:func:`hsmap.reconcile.levels.comparison_levels`): the coarsest category either report uses for that
        pair within a category tree (an importer's ``VIII.SA`` absorbs an exporter's ``VIII.SA.2`` and
        ``VIII.SA.4``), and the lowest category holding both where each report has categories the other lacks
        (an exporter's ``VII.b`` against the importer's ``VII.a`` are compared at ``VII``, and the explanation
        says so). Values are compared in one currency: with ``rates`` (columns ``from``, ``to``, ``rate``,
        optional ``year``: :func:`hsmap.reconcile.read_rates`) every value is converted to ``currency`` (default:
        the currency most values are in) where a rate is known; values in different currencies without a rate
        are not compared. Statuses use the reconciliation's words: ``match``, ``within-tolerance``,
        ``mismatch`` (numbers differ; differences are export minus import, relative to the importer's
        figure), ``only-report`` (only one State reported the transfer; ``side`` says which: ``exporter`` or
        ``importer``) and ``not-comparable`` (a withheld partner, a partner hsmap cannot identify, rows of
        the other basis, or no number both sides give). ``gaps`` tags the known reasons — ``category-differs``
        (both States report the pair in that year, under different categories), ``nil-report``,
        ``no-counterpart-report`` (the other State's report for that year and flow is not loaded),
        ``aggregated``, ``authorised-vs-actual``, ``currency``, ``withheld``, ``unresolved-partner``,
        ``calendar-year`` — and ``explanation`` says it in words. Each State reports on one basis per year and
        flow: ``actual`` when it reports any actual transfers, else ``authorized``. Filters are those of
        ``hsmap store mirror``: States in any spelling, categories with their sub-categories, years and ranges.
        """
        if tolerance < 0 or (value_tolerance is not None and value_tolerance < 0):
            raise StoreError("a tolerance is a relative difference of 0 or more (0.1 = 10 %)")
        selection = MirrorSelection.of(self.kb, exporter, importer, category, year, status)
        years = selection.years

        where, params = "TRUE", []
        if years:  # neighbouring years too, for the calendar-year hints
            where = "(" + " OR ".join("r.year BETWEEN ? AND ?" for _ in years) + ")"
            params = [bound for first, last in years for bound in (first - 1, last + 1)]
        cells = self.con.execute(_MIRROR_LINES_SQL.format(where=where), params).df()
        cells["given_currency"] = cells["currency"].fillna("").astype("str")
        if rates is not None or currency:
            cells = _converted(cells, normalise_rates(rates), currency)
        coverage = self.con.execute(
            f"SELECT DISTINCT reporter_iso3, year, flow, nil_report FROM report_lines r WHERE {where}", params
        ).fetchall()
        table = _Mirror(self.kb, cells, coverage, tolerance, tolerance if value_tolerance is None else value_tolerance)
        return selection.rows_of(table.run())


@dataclass(frozen=True)
class MirrorSelection:
    """The filters of :meth:`Mirroring.mirror`, checked and read: a pair's row does not depend on pairs of
    other States or years (only on its own States' reports of its year and the years beside it), so the rows a
    selection keeps from the whole comparison are the rows it would compute itself — the store's page
    computes the whole comparison once per version of the store and selects from it. (Not so with ``rates``
    and no ``currency``: the currency values are converted to is then the one most compared rows use.)"""

    kb: Knowledge
    years: tuple[tuple[int, int], ...]
    exporters: frozenset[str]
    importers: frozenset[str]
    categories: frozenset[str]  # the categories named and every category below them
    statuses: tuple[str, ...]

    @classmethod
    def of(
        cls,
        kb: Knowledge,
        exporter: str | Iterable[str] | None = None,
        importer: str | Iterable[str] | None = None,
        category: str | Iterable[str] | None = None,
        year: str | int | Iterable[str | int] | None = None,
        status: str | Iterable[str] | None = None,
    ) -> MirrorSelection:
        """The selection of ``hsmap store mirror``'s filters; a StoreError for a status it does not know."""
        statuses = tuple(split_values(status))
        bad = [value for value in statuses if value not in MIRROR_STATUSES]
        if bad:
            raise StoreError(f"status {bad[0]!r} is not one of {', '.join(MIRROR_STATUSES)}")
        roots = category_ids(category, kb) if category else ()
        return cls(
            kb,
            parse_years(year),
            frozenset(state_key(value) for value in split_values(exporter)),
            frozenset(state_key(value) for value in split_values(importer)),
            frozenset(cid for root in roots for cid in kb.descendants(root)),
            statuses,
        )

    def rows_of(self, result: pd.DataFrame) -> pd.DataFrame:
        """The rows of a mirror comparison this selection keeps."""
        keep = pd.Series(True, index=result.index)
        if self.years:
            keep &= np.logical_or.reduce([result["year"].between(first, last) for first, last in self.years])
        if self.exporters:
            keep &= result["exporter"].isin(self.exporters)
        if self.importers:
            keep &= result["importer"].isin(self.importers)
        if self.categories:
            wanted = self.categories
            reported = (result["export_categories"] + "," + result["import_categories"]).str.split(",")
            keep &= result["category"].isin(wanted) | reported.map(lambda cats: bool(wanted.intersection(cats)))
        if self.statuses:
            keep &= result["status"].isin(self.statuses)
        return result[keep].reset_index(drop=True)


class _Mirror(MirrorExplanations):
    """Builds the mirror table from report lines summed per cell (see :meth:`Store.mirror`)."""

    def __init__(
        self,
        kb: Knowledge,
        cells: pd.DataFrame,
        coverage: list[tuple[Any, ...]],
        tolerance: float,
        value_tolerance: float,
    ) -> None:
        self.kb, self.tolerance, self.value_tolerance = kb, tolerance, value_tolerance
        self.tree = CategoryTree(kb)
        self.top = self.tree.top
        self.lineage = {cid: set(kb.ancestors(cid)) for cid in kb.categories}
        self.covered = {(state, int(year), flow) for state, year, flow, _ in coverage}
        self.nil = {(state, int(year), flow) for state, year, flow, nil in coverage if nil}
        for name in ("reporter", "flow", "basis", "category", "partner_key", "partner_status", "currency"):
            cells[name] = cells[name].fillna("").astype("str")
        for name in ("partner_text", "partner_note", "refs", "descriptions"):
            cells[name] = cells[name].fillna("").astype("str")
        cells["year"] = cells["year"].astype("int64")
        self.cells = cells

    # roles -----------------------------------------------------------------------------------------------
    def _roles(self) -> pd.DataFrame:
        cells = self.cells
        actual = cells[cells["basis"] == "actual"][["reporter", "year", "flow"]].drop_duplicates()
        actual["chosen"] = "actual"
        cells = cells.merge(actual, on=["reporter", "year", "flow"], how="left")
        cells["chosen"] = cells["chosen"].fillna("authorized").astype("str")
        resolved = cells["partner_status"] == "ok"
        cells["role"] = np.select(
            [
                cells["withheld"].to_numpy() & (~resolved | (cells["category"] == "")).to_numpy(),
                (~resolved).to_numpy(),
                (cells["category"] == "").to_numpy(),
                (cells["basis"] != cells["chosen"]).to_numpy(),
            ],
            ["withheld", "unresolved", "withheld", "other-basis"],
            default="pair",
        )
        return cells

    def _levels(self, pairs: pd.DataFrame) -> pd.Series:
        """The category each row is compared at (:func:`~hsmap.reconcile.levels.comparison_levels`, the two
        flows as the two sides)."""
        keys = ["year", "exporter", "importer"]
        members = pairs[[*keys, "category"]].assign(side=pairs["flow"], undecided="")
        levels = comparison_levels(members, keys, self.tree).drop(columns="undecided")
        return pairs[[*keys, "category"]].merge(levels, on=[*keys, "category"], how="left")["cmp"].set_axis(pairs.index)

    # the table -------------------------------------------------------------------------------------------
    def run(self) -> pd.DataFrame:
        if self.cells.empty:
            return pd.DataFrame({name: pd.Series(dtype="object") for name in MIRROR_COLUMNS})
        cells = self._roles()
        export = cells["flow"] == "export"
        cells["exporter"] = np.where(export, cells["reporter"], cells["partner_key"])
        cells["importer"] = np.where(export, cells["partner_key"], cells["reporter"])
        pairs = cells[cells["role"] == "pair"].copy()
        pairs["level"] = self._levels(pairs) if len(pairs) else pd.Series(dtype="str")
        sides = {flow: self._side(pairs[pairs["flow"] == flow]) for flow in ("export", "import")}
        keys = ["year", "exporter", "importer", "category"]
        table = sides["export"].add_prefix("export_").rename(columns={f"export_{k}": k for k in keys})
        table = table.merge(
            sides["import"].add_prefix("import_").rename(columns={f"import_{k}": k for k in keys}),
            on=keys,
            how="outer",
        )
        table = self._statuses(table)
        others = self._unpaired(cells[cells["role"] != "pair"])
        table = pd.concat([table, others], ignore_index=True) if len(others) else table
        table = self._fill(table)
        self._explain(table)
        table["category_name"] = table["category"].map(
            lambda cid: self.kb.label(cid) if cid in self.kb.categories else ""
        )
        table["exporter_name"] = table["exporter"].map(country_name).astype("str")
        table["importer_name"] = table["importer"].map(country_name).astype("str")
        table["order"] = table["status"].map(_STATUS_ORDER)
        table = table.sort_values(["order", "year", "exporter", "importer", "category", "side"], kind="stable")
        return table[list(MIRROR_COLUMNS)].reset_index(drop=True)

    def _side(self, rows: pd.DataFrame) -> pd.DataFrame:
        """One flow's rows summed per (year, exporter, importer, comparison category)."""
        if rows.empty:
            return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in _SIDE_COLUMNS.items()})
        out = _aggregate(rows, ["year", "exporter", "importer", "level"])
        out["present"] = True
        return out.rename(columns={"level": "category"})[list(_SIDE_COLUMNS)]

    def _statuses(self, table: pd.DataFrame) -> pd.DataFrame:
        has_e = table["export_present"].eq(True)
        has_i = table["import_present"].eq(True)
        both = has_e & has_i
        for prefix in ("export_", "import_"):
            for name in ("rows", "item_rows", "value_rows", "withheld_rows"):
                table[prefix + name] = table[prefix + name].fillna(0).astype("int64")
            for name in ("currency", "basis", "categories", "source_rows", "given_currencies"):
                table[prefix + name] = table[prefix + name].fillna("").astype("str")
        items_comparable = (
            both
            & (table["export_item_rows"] == table["export_rows"])
            & (table["import_item_rows"] == table["import_rows"])
        )
        items_informative = both & ((table["export_item_rows"] > 0) | (table["import_item_rows"] > 0))
        table["items_status"], table["items_diff"], table["items_rel_diff"] = compare_measure(
            table["export_items"], table["import_items"], items_comparable, items_informative, self.tolerance, EPSILON
        )
        single = ~table["export_currency"].str.contains(",", regex=False)
        value_comparable = (
            both
            & (table["export_value_rows"] == table["export_rows"])
            & (table["import_value_rows"] == table["import_rows"])
            & single
            & (table["export_currency"] == table["import_currency"])
        )
        value_informative = both & ((table["export_value_rows"] > 0) | (table["import_value_rows"] > 0))
        table["value_status"], table["value_diff"], table["value_rel_diff"] = compare_measure(
            table["export_value"],
            table["import_value"],
            value_comparable,
            value_informative,
            self.value_tolerance,
            EXACT_VALUE,
        )
        rank = np.maximum(table["items_status"].map(_RANK), table["value_status"].map(_RANK))
        table["status"] = np.where(both, rank.map(_OF_RANK), "only-report")
        table["side"] = np.select([both, has_e], ["both", "exporter"], default="importer")
        table["kind"] = "pair"
        return table

    def _unpaired(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Withheld, unresolved and other-basis rows: one not-comparable row each, on their reporter's side."""
        if rows.empty:
            return pd.DataFrame()
        keys = ["role", "flow", "year", "exporter", "importer", "category", "basis", "chosen"]
        out = _aggregate(rows, keys)
        table = pd.DataFrame(
            {
                "year": out["year"],
                "exporter": out["exporter"],
                "importer": out["importer"],
                "category": out["category"],
                "status": "not-comparable",
                "side": np.where(out["flow"] == "export", "exporter", "importer"),
                "kind": out["role"],
                "chosen": out["chosen"],
                "partner_text": out["partner_text"],
                "partner_note": out["partner_note"],
                "descriptions": out["descriptions"],
            }
        )
        for flow in ("export", "import"):
            mine = out["flow"] == flow
            table[f"{flow}_rows"] = out["rows"].where(mine, 0)
            table[f"{flow}_items"] = out["items"].where(mine)
            table[f"{flow}_value"] = out["value"].where(mine)
            table[f"{flow}_currency"] = out["currency"].where(mine, "")
            table[f"{flow}_basis"] = out["basis"].where(mine, "")
            table[f"{flow}_categories"] = out["categories"].where(mine, "")
            table[f"{flow}_source_rows"] = out["source_rows"].where(mine, "")
            table[f"{flow}_given_currencies"] = out["given_currencies"].where(mine, "")
        return table

    @staticmethod
    def _fill(table: pd.DataFrame) -> pd.DataFrame:
        for name in ("items_status", "value_status", "partner_text", "partner_note", "descriptions", "chosen"):
            table[name] = table[name].fillna("").astype("str") if name in table else ""
        for prefix in ("export_", "import_"):
            for name in ("rows", "withheld_rows"):
                column = prefix + name
                table[column] = table[column].fillna(0).astype("int64") if column in table else 0
            for name in ("currency", "basis", "categories", "source_rows", "given_currencies"):
                table[prefix + name] = table[prefix + name].fillna("").astype("str")
        for name in ("items_diff", "items_rel_diff", "value_diff", "value_rel_diff"):
            table[name] = table[name].astype("float64") if name in table else np.nan
        for name in ("exporter", "importer", "category", "status", "side", "kind"):
            table[name] = table[name].fillna("").astype("str")
        table["year"] = table["year"].astype("int64")
        return table.reset_index(drop=True)
