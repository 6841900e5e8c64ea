"""A searchable store of ATT annual reports and customs data in one embedded DuckDB file (no server to run).

The ATT working group on transparency and reporting asked for annual-report data "in a searchable database,
allowing queries and the extraction of data". :class:`Store` gives every reporting officer, researcher and
delegation that on their own machine: load reports (the schema of :mod:`hsmap.report`, many States and years
at once, nil reports kept as such) and customs files (classified on the way in, :mod:`hsmap.customs`), then
filter, total, extract and compare mirror reports. Every answer is a pandas DataFrame.

Loading is idempotent and all-or-nothing: each file is recorded with the SHA-256 of its bytes, so the same
content loaded twice (under any name) is skipped, and a file that fails validation is rejected whole, in one
transaction, with the reasons. Every value a user gives reaches DuckDB as a bound parameter; only column
names from fixed tables are written into the SQL text.

Totals never add authorized to actual figures nor values in different currencies: ``basis`` (reports) and
``currency`` are always among the grouping columns; given a rate table, totals and the mirror comparison
first convert values to one currency wherever a rate is known (:mod:`hsmap.reconcile.money`).
:meth:`Store.mirror` pairs each exporter's reported export with the importer's reported import; see its
docstring for the statuses.

Where things live: :class:`Store` in :mod:`~hsmap.store.database`, built from opening the file
(:mod:`~hsmap.store.connection`), loading (:mod:`~hsmap.store.load`, lines built by :mod:`~hsmap.store.lines`),
queries and totals (:mod:`~hsmap.store.query`, filters in :mod:`~hsmap.store.filters`) and the mirror comparison
(:mod:`~hsmap.store.mirror`, statuses shared with :mod:`~hsmap.reconcile.statuses`, words in
:mod:`~hsmap.store.mirror_explain`).
The tables, and how to query them in plain SQL: :mod:`~hsmap.store.schema`. Readable State names:
:mod:`~hsmap.store.names`; files written: :mod:`~hsmap.store.output`; the local web page: :mod:`~hsmap.store.web`.
"""

from hsmap.lazy import lazy_namespace

_HOMES = {  # public name → the module that defines it (imported on first use: DuckDB only when needed)
    "DATA": "hsmap.store.schema",
    "DIMENSIONS": "hsmap.store.schema",
    "MIRROR_COLUMNS": "hsmap.store.mirror",
    "MIRROR_STATUSES": "hsmap.store.schema",
    "QUERY_COLUMNS": "hsmap.store.query",
    "Data": "hsmap.store.schema",
    "Filters": "hsmap.store.filters",
    "Store": "hsmap.store.database",
    "StoreError": "hsmap.store.errors",
    "compare_measure": "hsmap.reconcile.statuses",
    "country_name": "hsmap.store.names",
    "default_db_path": "hsmap.store.connection",
    "parse_years": "hsmap.store.filters",
    "updating": "hsmap.store.connection",
    "write_table": "hsmap.store.output",
    "write_xlsx": "hsmap.store.output",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_namespace(__name__, _HOMES)
