"""The store's tables: the DuckDB DDL, the columns each load fills, and what plain SQL sees.

Plain SQL (``duckdb store.duckdb``, or :meth:`hsmap.store.Store.sql`) sees these tables:

``sources``
    one row per loaded file: ``source_id``, ``kind`` (``report``/``customs``), ``file``, ``path``,
    ``sha256``, ``bytes``, ``rows``, ``loaded_at`` (UTC), ``options`` (JSON of the defaults given at load).
``report_lines``
    one row per report line: ``source_id``, ``source_row`` (spreadsheet row, header = 1), ``reporter_iso3``,
    ``reporting_state`` (as written), ``year``, ``flow`` (export/import), ``basis`` (authorized/actual),
    ``category`` (ATT ID, NULL on nil and some withheld rows), ``top_category``, ``partner`` (as written),
    ``partner_key`` (ISO alpha-3; ``?name`` unknown, ``*name`` special area, ``''`` blank), ``partner_iso3``,
    ``partner_status`` (ok/special/unknown/blank), ``partner_note``, ``items``, ``value``, ``currency``,
    ``state_of_origin``, ``description``, ``comments``, ``nil_report``, ``withheld``.
``customs_lines``
    one row per customs line: ``source_id``, ``source_row``, ``reporter_iso3``, ``year``, ``month`` (0 when
    unknown), ``flow`` (export/import/re-export/re-import), the partner columns as above, ``hs6``,
    ``description``, ``category`` (NULL when the line is not an ATT item), ``top_category``, ``flags``,
    ``unit`` (items/kg/none/other:…), ``items``, ``kg``, ``value``, ``currency``.
``store_info``
    ``schema_version``.

Example: ``SELECT year, sum(items) FROM report_lines WHERE reporter_iso3 = 'CZE' AND flow = 'export'
AND NOT nil_report GROUP BY year ORDER BY year``.
"""

from __future__ import annotations

from typing import Literal

SCHEMA_VERSION = 1
Data = Literal["report", "customs"]
DATA: tuple[Data, ...] = ("report", "customs")
# Dimensions a total may be grouped by: the name shown → the stored column.
DIMENSIONS: dict[Data, dict[str, str]] = {
    "report": {
        "reporter": "reporter_iso3",
        "partner": "partner_key",
        "category": "category",
        "top_category": "top_category",
        "year": "year",
        "flow": "flow",
        "basis": "basis",
        "currency": "currency",
    },
    "customs": {
        "reporter": "reporter_iso3",
        "partner": "partner_key",
        "category": "category",
        "top_category": "top_category",
        "year": "year",
        "month": "month",
        "flow": "flow",
        "hs6": "hs6",
        "currency": "currency",
    },
}
# What a mirror comparison row can say (:mod:`hsmap.store.mirror`).
MIRROR_STATUSES = ("match", "within-tolerance", "mismatch", "only-report", "not-comparable")

DDL = (
    "CREATE TABLE IF NOT EXISTS store_info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    "CREATE SEQUENCE IF NOT EXISTS source_ids START 1",
    """CREATE TABLE IF NOT EXISTS sources (
        source_id INTEGER PRIMARY KEY,
        kind VARCHAR NOT NULL CHECK (kind IN ('report', 'customs')),
        file VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL UNIQUE,
        bytes BIGINT NOT NULL,
        rows BIGINT NOT NULL,
        loaded_at TIMESTAMP NOT NULL,
        options VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS report_lines (
        source_id INTEGER NOT NULL,
        source_row INTEGER NOT NULL,
        reporter_iso3 VARCHAR NOT NULL,
        reporting_state VARCHAR NOT NULL,
        year INTEGER NOT NULL,
        flow VARCHAR NOT NULL,
        basis VARCHAR NOT NULL,
        category VARCHAR,
        top_category VARCHAR,
        partner VARCHAR,
        partner_key VARCHAR NOT NULL,
        partner_iso3 VARCHAR,
        partner_status VARCHAR NOT NULL,
        partner_note VARCHAR,
        items BIGINT,
        value DOUBLE,
        currency VARCHAR,
        state_of_origin VARCHAR,
        description VARCHAR,
        comments VARCHAR,
        nil_report BOOLEAN NOT NULL,
        withheld BOOLEAN NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS customs_lines (
        source_id INTEGER NOT NULL,
        source_row BIGINT NOT NULL,
        reporter_iso3 VARCHAR NOT NULL,
        year INTEGER NOT NULL,
        month INTEGER NOT NULL,
        flow VARCHAR NOT NULL,
        partner VARCHAR,
        partner_key VARCHAR NOT NULL,
        partner_iso3 VARCHAR,
        partner_status VARCHAR NOT NULL,
        partner_note VARCHAR,
        hs6 VARCHAR,
        description VARCHAR,
        category VARCHAR,
        top_category VARCHAR,
        flags VARCHAR,
        unit VARCHAR NOT NULL,
        items DOUBLE,
        kg DOUBLE,
        value DOUBLE,
        currency VARCHAR
    )""",
)

REPORT_LINE_COLUMNS = (
    "source_id",
    "source_row",
    "reporter_iso3",
    "reporting_state",
    "year",
    "flow",
    "basis",
    "category",
    "top_category",
    "partner",
    "partner_key",
    "partner_iso3",
    "partner_status",
    "partner_note",
    "items",
    "value",
    "currency",
    "state_of_origin",
    "description",
    "comments",
    "nil_report",
    "withheld",
)
CUSTOMS_LINE_COLUMNS = (
    "source_id",
    "source_row",
    "reporter_iso3",
    "year",
    "month",
    "flow",
    "partner",
    "partner_key",
    "partner_iso3",
    "partner_status",
    "partner_note",
    "hs6",
    "description",
    "category",
    "top_category",
    "flags",
    "unit",
    "items",
    "kg",
    "value",
    "currency",
)
