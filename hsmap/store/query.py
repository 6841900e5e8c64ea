"""Queries over the stored lines: what is loaded, filtered lines, counts, totals and pick-list options."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd

from hsmap.reconcile.money import conversion_factors, normalise_rates
from hsmap.store.connection import StoreConnection
from hsmap.store.errors import StoreError
from hsmap.store.filters import Filters, split_values
from hsmap.store.names import country_name
from hsmap.store.schema import DATA, DIMENSIONS, Data

# What a query returns, in this order; every name is also a column a query may be sorted by.
QUERY_COLUMNS: dict[Data, tuple[str, ...]] = {
    "report": (
        "year",
        "reporter_iso3",
        "flow",
        "basis",
        "category",
        "partner_key",
        "partner",
        "items",
        "value",
        "currency",
        "description",
        "comments",
        "state_of_origin",
        "withheld",
        "nil_report",
        "partner_status",
        "reporting_state",
        "file",
        "source_row",
        "source_id",
    ),
    "customs": (
        "year",
        "month",
        "reporter_iso3",
        "flow",
        "category",
        "hs6",
        "partner_key",
        "partner",
        "unit",
        "items",
        "kg",
        "value",
        "currency",
        "description",
        "flags",
        "partner_status",
        "file",
        "source_row",
        "source_id",
    ),
}
_DEFAULT_ORDER = ("year", "reporter_iso3", "flow", "source_id", "source_row")


class Querying(StoreConnection):
    """The query half of :class:`hsmap.store.Store`."""

    def sources(self) -> pd.DataFrame:
        """One row per loaded file × State × year × flow: what the store holds and where it came from."""
        return self.con.execute(
            """SELECT s.source_id, s.kind, l.state, l.year, l.flow, l.basis, l.rows, l.nil_report,
                      s.file, s.sha256, s.loaded_at
               FROM sources s JOIN (
                   SELECT source_id, reporter_iso3 AS state, year, flow,
                          array_to_string(list_sort(list_distinct(list(basis))), ',') AS basis,
                          count(*) AS rows, bool_or(nil_report) AS nil_report
                   FROM report_lines GROUP BY source_id, reporter_iso3, year, flow
                   UNION ALL
                   SELECT source_id, reporter_iso3, year, flow, '', count(*), false
                   FROM customs_lines GROUP BY source_id, reporter_iso3, year, flow
               ) l USING (source_id)
               ORDER BY l.state, l.year, l.flow, s.source_id"""
        ).df()

    # queries -------------------------------------------------------------------------------------------
    def _filters(self, filters: Filters | None, criteria: dict[str, Any]) -> Filters:
        if filters is not None and criteria:
            raise StoreError("give either a Filters object or filter keywords, not both")
        return filters if filters is not None else Filters.parse(kb=self.kb, **criteria)

    def _where(self, filters: Filters, data: Data, alias: str = "") -> tuple[str, list[Any]]:
        """The WHERE clause (with ``?`` placeholders) and its parameters; user values are never in the text."""
        column = (lambda name: f"{alias}.{name}") if alias else (lambda name: name)
        clauses: list[str] = []
        params: list[Any] = []

        def among(name: str, values: Sequence[Any]) -> None:
            if values:
                clauses.append(f"{column(name)} IN ({', '.join('?' * len(values))})")
                params.extend(values)

        among("reporter_iso3", filters.reporter)
        among("partner_key", filters.partner)
        among("category", [cid for root in filters.category for cid in self.kb.descendants(root)])
        among("flow", filters.flow)
        if filters.basis:
            if data == "customs":
                raise StoreError("customs lines have no basis (authorized/actual); drop the basis filter")
            among("basis", filters.basis)
        if filters.year:
            clauses.append("(" + " OR ".join(f"{column('year')} BETWEEN ? AND ?" for _ in filters.year) + ")")
            params.extend(year for bounds in filters.year for year in bounds)
        if filters.text:
            searched = ("description", "comments") if data == "report" else ("description",)
            clauses.append("(" + " OR ".join(f"contains(lower(coalesce({column(n)}, '')), ?)" for n in searched) + ")")
            params.extend([filters.text.casefold()] * len(searched))
        return (" AND ".join(clauses) or "TRUE"), params

    @staticmethod
    def _table(data: Data) -> str:
        if data not in DATA:
            raise StoreError(f"data {data!r} is not one of {', '.join(DATA)}")
        return "report_lines" if data == "report" else "customs_lines"

    def count(self, filters: Filters | None = None, *, data: Data = "report", **criteria: Any) -> int:
        """How many lines a query would return."""
        where, params = self._where(self._filters(filters, criteria), data)
        row = self.con.execute(f"SELECT count(*) FROM {self._table(data)} WHERE {where}", params).fetchone()
        return int(row[0]) if row else 0

    def _query_sql(
        self,
        filters: Filters | None,
        data: Data,
        order_by: str | Sequence[str] | None,
        descending: bool,
        criteria: dict[str, Any],
    ) -> tuple[str, list[Any]]:
        table = self._table(data)
        where, params = self._where(self._filters(filters, criteria), data, alias="l")
        columns = QUERY_COLUMNS[data]
        order = split_values(order_by) or list(_DEFAULT_ORDER)
        unknown = [name for name in order if name not in columns]
        if unknown:
            raise StoreError(f"cannot sort by {', '.join(unknown)} (columns: {', '.join(columns)})")
        direction = " DESC" if descending else ""
        tail = [name for name in _DEFAULT_ORDER if name not in order]
        order_sql = ", ".join([f"{name}{direction} NULLS LAST" for name in order] + tail)
        selected = ", ".join("s.file" if name == "file" else f"l.{name}" for name in columns)
        statement = (
            f"SELECT {selected} FROM {table} l JOIN sources s USING (source_id) WHERE {where} ORDER BY {order_sql}"
        )
        return statement, params

    def query(
        self,
        filters: Filters | None = None,
        *,
        data: Data = "report",
        order_by: str | Sequence[str] | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        **criteria: Any,
    ) -> pd.DataFrame:
        """The lines that pass the filters (:data:`QUERY_COLUMNS`), sorted, optionally one page of them.

        Filters are a :class:`Filters` or keywords of :meth:`Filters.parse` (``reporter='Czechia',
        year='2019-2024'``). Nil-report rows are lines too: they pass filters on reporter, year, flow and basis.
        """
        statement, params = self._query_sql(filters, data, order_by, descending, criteria)
        if limit is not None:
            statement += " LIMIT ? OFFSET ?"
            params += [max(0, int(limit)), max(0, int(offset))]
        return self.con.execute(statement, params).df()

    def query_batches(
        self,
        filters: Filters | None = None,
        *,
        data: Data = "report",
        order_by: str | Sequence[str] | None = None,
        descending: bool = False,
        **criteria: Any,
    ) -> Iterator[pd.DataFrame]:
        """:meth:`query` in pieces of about 100,000 lines, for extracts larger than memory should hold."""
        statement, params = self._query_sql(filters, data, order_by, descending, criteria)
        cursor = self.con.cursor()
        try:
            cursor.execute(statement, params)
            while True:
                batch = cursor.fetch_df_chunk(50)  # 50 vectors of 2,048 rows
                if batch.empty:
                    break
                yield batch
        finally:
            cursor.close()

    def totals(
        self,
        filters: Filters | None = None,
        *,
        by: str | Sequence[str] = ("year",),
        data: Data = "report",
        rates: pd.DataFrame | None = None,
        currency: str | None = None,
        **criteria: Any,
    ) -> pd.DataFrame:
        """Totals of the transfer lines that pass the filters, grouped by ``by`` (see :data:`DIMENSIONS`).

        ``basis`` (reports) and ``currency`` are always added to the grouping: authorized and actual figures,
        and values in different currencies, are never added together. With ``rates`` (the reconciliation's
        rate table, :func:`hsmap.reconcile.read_rates`) values are first converted to ``currency`` (default:
        the currency most lines with a value are in) wherever a rate for their year is known; the others keep
        their own currency and total apart. Nil-report rows are not transfers and are left out. Columns: the
        dimensions (with ``*_name`` beside reporter, partner and category), then ``lines``, (reports)
        ``withheld_lines``, ``items``, ``lines_without_items``, (customs) ``kg``, ``value``,
        ``lines_without_value``.
        """
        table = self._table(data)
        dims = split_values(by)
        known = DIMENSIONS[data]
        unknown = [name for name in dims if name not in known]
        if unknown:
            raise StoreError(f"cannot total by {', '.join(unknown)} (dimensions: {', '.join(known)})")
        keys = list(dict.fromkeys([*dims, *(["basis"] if data == "report" else []), "currency"]))
        where, params = self._where(self._filters(filters, criteria), data)
        if data == "report":
            where = f"NOT nil_report AND {where}"
        lines, converting = self._converted_lines(table, where, params, rates, currency)
        selected = ", ".join(f"{known[name]} AS {name}" for name in keys)
        group = ", ".join(known[name] for name in keys)
        order = ", ".join(f"{name} NULLS FIRST" for name in keys)
        if data == "report":
            measures = """count(*) AS lines, count(*) FILTER (WHERE withheld) AS withheld_lines,
                          sum(items)::BIGINT AS items, count(*) - count(items) AS lines_without_items,
                          sum(value) AS value, count(*) - count(value) AS lines_without_value"""
        else:
            measures = """count(*) AS lines, sum(items) AS items, sum(kg) AS kg,
                          sum(value) AS value, count(*) - count(value) AS lines_without_value"""
        frame = self.con.execute(
            f"SELECT {selected}, {measures} FROM {lines} WHERE {where} GROUP BY {group} ORDER BY {order}",
            [*converting, *params],
        ).df()
        return self._named(frame)

    def _converted_lines(
        self, table: str, where: str, params: list[Any], rates: pd.DataFrame | None, currency: str | None
    ) -> tuple[str, list[Any]]:
        """The lines to total, as SQL (and its parameters): the table itself, or its lines with every value
        that has a rate in ``currency`` — factors from :func:`hsmap.reconcile.money.conversion_factors`."""
        if rates is None and not currency:
            return table, []
        pairs = self.con.execute(
            f"""SELECT year, currency, count(*) AS lines FROM {table}
                WHERE {where} AND value IS NOT NULL AND currency IS NOT NULL GROUP BY ALL""",
            params,
        ).df()
        if pairs.empty:
            return table, []
        target = (currency or str(pairs.groupby("currency")["lines"].sum().idxmax())).strip().upper()
        pairs["factor"] = conversion_factors(pairs, target, normalise_rates(rates))
        known = pairs.dropna(subset=["factor"])
        if known.empty:
            return table, []
        factors = ", ".join("(?, ?, ?)" for _ in range(len(known)))
        values = [
            cell
            for year, code, factor in known[["year", "currency", "factor"]].itertuples(index=False)
            for cell in (int(year), str(code), float(factor))
        ]
        sql = f"""(SELECT l.* REPLACE (l.value * coalesce(f.factor, 1) AS value,
                                      CASE WHEN f.factor IS NULL THEN l.currency ELSE ? END AS currency)
                   FROM {table} l LEFT JOIN (VALUES {factors}) f(year, currency, factor)
                   ON l.year = f.year AND l.currency = f.currency)"""
        return sql, [target, *values]

    def _named(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add readable names beside the reporter, partner and category codes."""
        for column, namer in (("reporter", country_name), ("partner", country_name), ("category", self._label)):
            if column in frame.columns:
                names = frame[column].map(lambda key, f=namer: f(key) if isinstance(key, str) else "")
                frame.insert(frame.columns.get_loc(column) + 1, f"{column}_name", names.astype("str"))
        return frame

    def _label(self, cid: str) -> str:
        return self.kb.label(cid) if cid in self.kb.categories else ""

    def options(self, data: Data = "report") -> dict[str, list[Any]]:
        """The distinct reporters, partners, categories, years and flows (and bases) present: for pick lists."""
        table = self._table(data)
        found: dict[str, list[Any]] = {}
        for name, column in (
            ("reporter", "reporter_iso3"),
            ("partner", "partner_key"),
            ("category", "category"),
            ("year", "year"),
            ("flow", "flow"),
            *((("basis", "basis"),) if data == "report" else ()),
        ):
            rows = self.con.execute(
                f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1"
            ).fetchall()
            found[name] = [row[0] for row in rows if row[0] != ""]
        order = {cid: position for position, cid in enumerate(self.kb.categories)}
        found["category"].sort(key=lambda cid: order.get(cid, len(order)))
        return found
