"""``hsmap store``: load ATT annual reports and customs data into an embedded database, query, compare mirror
reports and serve a local page, so each user has a searchable store on their own machine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hsmap.cli.app import EXIT_INPUT, HELP_OPTIONS, Stopped, console, err_console, fail, one_line_errors, summary_line
from hsmap.cli.classify_commands import EditionOption
from hsmap.cli.customs_options import customs_reading
from hsmap.cli.output import Format, emit
from hsmap.cli.reconcile_commands import Currency, Rates, Tolerance, ValueTolerance
from hsmap.store.schema import DIMENSIONS, MIRROR_STATUSES

if TYPE_CHECKING:
    import pandas as pd

    from hsmap.store import Filters, Store

store_app = typer.Typer(
    name="store",
    help="A searchable store of ATT annual reports and customs data (one DuckDB file, no server).",
    no_args_is_help=True,
    rich_markup_mode=None,  # as the main app: help shown as written
    context_settings=HELP_OPTIONS,
)

OUTPUTS = (".csv", ".xlsx", ".parquet")
_LINE_COLUMNS = {
    "report": [
        "year",
        "reporter_iso3",
        "flow",
        "basis",
        "category",
        "partner_key",
        "items",
        "value",
        "currency",
        "description",
        "withheld",
        "nil_report",
    ],
    "customs": [
        "year",
        "month",
        "reporter_iso3",
        "flow",
        "category",
        "hs6",
        "partner_key",
        "unit",
        "items",
        "kg",
        "value",
        "currency",
        "description",
    ],
}
_MIRROR_SHOWN = ["status", "side", "year", "exporter", "importer", "category", "export_items", "import_items", "gaps"]

Db = Annotated[
    Path | None,
    typer.Option("--db", help="Store file (default: $HSMAP_STORE, else the user's data directory)."),
]
Reporter = Annotated[str | None, typer.Option("--reporter", help="Reporting State(s), any spelling; comma-separated.")]
Partner = Annotated[str | None, typer.Option("--partner", help="Partner State(s), any spelling; comma-separated.")]
Category = Annotated[
    str | None, typer.Option("--category", help="ATT category ID(s), sub-categories included: I, VII.b, VIII.SA.")
]
Year = Annotated[str | None, typer.Option("--year", help="A year, a range or a list: 2019-2024, 2022,2024.")]
Flow = Annotated[str | None, typer.Option("--flow", help="export, import (customs also re-export, re-import).")]
Basis = Annotated[str | None, typer.Option("--basis", help="authorized or actual (reports only).")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write the result: .csv, .xlsx or .parquet.")]
Fmt = Annotated[Format, typer.Option("--format", "-f", help="Terminal output: table, csv or json.")]


def store_command(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``store_app.command`` with :func:`hsmap.cli.app.one_line_errors`."""
    return lambda function: store_app.command(name, short_help=summary_line(function))(one_line_errors(function))


def _check_output(output: Path | None, db: Path | None, rates: Path | None = None) -> None:
    """A writable --output suffix, in an existing folder, that is neither the store nor the rates file."""
    if output is None:
        return
    if output.suffix.lower() not in OUTPUTS:
        raise fail(f"{output}: cannot write {output.suffix or 'a file without suffix'!r} (use {', '.join(OUTPUTS)})")
    if not output.parent.exists():
        raise fail(f"{output}: folder {output.parent} does not exist")
    from hsmap.outputs import refuse_overlap

    refuse_overlap(output, [_db(db), rates])


def _terminal(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as a person reads them: 9,500,000 not 9500000.0, +20.0 % for relative differences, blanks not NaN."""
    import pandas as pd

    shown = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_bool_dtype(values):
            text = values.map(lambda flag: "yes" if flag else "")
        elif name.endswith("rel_diff"):
            text = values.map(lambda number: "" if pd.isna(number) else f"{number:+.1%}")
        elif name in ("year", "month", "source_id", "source_row"):
            text = values.map(lambda number: "" if pd.isna(number) else str(int(number)))
        elif pd.api.types.is_numeric_dtype(values):
            whole = bool(values.dropna().map(lambda number: float(number).is_integer()).all())
            pattern = "{:,.0f}" if whole else "{:,.2f}"
            text = values.map(lambda number, p=pattern: "" if pd.isna(number) else p.format(number))
        else:
            text = _cell_texts(values)
        shown[name] = text.astype("object")
    return shown


def _cell_texts(values: pd.Series) -> pd.Series:
    """Cells as text: blank when missing, lists (DuckDB LIST columns arrive as arrays) as lists."""
    import numpy as np

    cells = values.astype("object")
    text = cells.map(lambda cell: str(cell.tolist() if isinstance(cell, np.ndarray) else cell))
    return text.where(cells.notna(), "")


def _show(frame: pd.DataFrame, fmt: Format, title: str) -> None:
    emit(_terminal(frame) if fmt is Format.table else frame, fmt, title=title)


def _db(db: Path | None) -> Path:
    from hsmap.store import default_db_path

    return db if db is not None else default_db_path()


def _waiting(target: Path) -> Callable[[], None]:
    def say() -> None:
        err_console.print(
            f"hsmap: waiting for another hsmap store load or remove on {target} to finish …", markup=False
        )

    return say


@store_command("load")
def load_command(
    reports: Annotated[list[Path] | None, typer.Argument(help="ATT annual reports (.csv, .xlsx), any number.")] = None,
    customs: Annotated[
        list[Path] | None, typer.Option("--customs", help="A customs file to classify and load (repeatable).")
    ] = None,
    db: Db = None,
    state: Annotated[str | None, typer.Option(help="Reporting State, for reports that state it once.")] = None,
    year: Annotated[int | None, typer.Option(help="Report year, for reports that state it once.")] = None,
    flow: Annotated[str | None, typer.Option(help="Report flow (export/import), when stated once.")] = None,
    basis: Annotated[str | None, typer.Option(help="Report basis (authorized/actual), when stated once.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Sheet of .xlsx reports (default: the first).")] = None,
    customs_reporter: Annotated[
        str | None, typer.Option(help="State whose customs recorded the lines, if the file has no reporter column.")
    ] = None,
    customs_year: Annotated[int | None, typer.Option(help="Year of every customs line, if no year or date.")] = None,
    customs_flow: Annotated[str | None, typer.Option(help="Flow of every customs line, if no flow column.")] = None,
    customs_currency: Annotated[str | None, typer.Option(help="Currency of customs values, if no column.")] = None,
    edition: EditionOption = "auto",
    code_column: Annotated[str | None, typer.Option(help="Customs column holding the tariff code.")] = None,
    text_column: Annotated[str | None, typer.Option(help="Customs column holding the goods description.")] = None,
    partner_column: Annotated[str | None, typer.Option(help="Customs column holding the partner.")] = None,
) -> None:
    """Load ATT annual reports (and customs files) into the store: each file whole or not at all, never twice."""
    import pandas as pd

    from hsmap.store import Store, updating

    if not reports and not customs:
        raise fail("give report files to load, or --customs FILE")
    target = _db(db)
    report_options = {
        "reporting_state": state,
        "year": year,
        "flow": flow,
        "basis": basis,
        "sheet": sheet,
        "stated_by": {"reporting_state": "--state", "year": "--year", "flow": "--flow", "basis": "--basis"},
    }
    reading = customs_reading(
        code_column, text_column, partner_column, edition, customs_currency, customs_flow, customs_year
    )
    customs_options = {"reporter": customs_reporter, "reading": reading}
    with updating(target, on_wait=_waiting(target)) as side, Store(side) as store, console.status("loading …"):
        results = store.load(
            reports or [], customs or [], report_options=report_options, customs_options=customs_options
        )
    table = pd.DataFrame(
        [
            {
                "file": result.file,
                "kind": result.kind,
                "status": result.status,
                "rows": result.rows,
                "source": "" if result.source_id is None else result.source_id,
                "sha256": result.sha256[:12],
                "note": result.message,
            }
            for result in results
        ]
    )
    _show(table, Format.table, title=f"Loaded into {target}")
    for result in results:
        for overlap in result.overlaps:
            err_console.print(
                f"hsmap: warning: {result.file}: {overlap}; if one replaces the other, remove it with "
                "'hsmap store remove SOURCE'",
                markup=False,
            )
    rejected = [result for result in results if result.status == "rejected"]
    for result in rejected:
        err_console.print(f"hsmap: error: {result.file}: {result.message}", markup=False)
        for problem in result.problems:
            err_console.print(f"  {result.file}, {problem}", markup=False)
    if rejected:
        raise typer.Exit(EXIT_INPUT)


@store_command("sources")
def sources_command(db: Db = None, fmt: Fmt = Format.table) -> None:
    """List what the store holds: one row per file × State × year × flow, with its hash and load time."""
    from hsmap.store import Store

    with Store(_db(db), read_only=True) as store:
        sources = store.sources()
    sources["loaded_at"] = sources["loaded_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt is Format.table:
        sources["sha256"] = sources["sha256"].str.slice(0, 12)
    _show(sources, fmt, title=f"{sources['source_id'].nunique()} files in {_db(db)}")


def _write_lines(store: Store, filters: Filters, data: str, output: Path, sort: str | None, desc: bool) -> int:
    from hsmap.io import TableWriter
    from hsmap.store import write_table

    if output.suffix.lower() == ".xlsx":
        frame = store.query(filters, data=data, order_by=sort, descending=desc)  # type: ignore[arg-type]
        write_table(frame, output, sheet=f"{data} lines")
        return len(frame)
    rows = 0
    with TableWriter(output) as writer:
        for batch in store.query_batches(filters, data=data, order_by=sort, descending=desc):  # type: ignore[arg-type]
            writer.write(batch)
            rows += len(batch)
        if rows == 0:
            writer.write(store.query(filters, data=data, limit=0))  # type: ignore[arg-type]
    return rows


@store_command("query")
def query_command(
    reporter: Reporter = None,
    partner: Partner = None,
    category: Category = None,
    year: Year = None,
    flow: Flow = None,
    basis: Basis = None,
    text: Annotated[str | None, typer.Option("--text", help="Words in the description or comments.")] = None,
    data: Annotated[str, typer.Option("--data", help="report (ATT annual reports) or customs.")] = "report",
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help=f"Totals by these dimensions, e.g. category,year ({', '.join(DIMENSIONS['report'])})."
        ),
    ] = None,
    sort: Annotated[str | None, typer.Option("--sort", help="Sort lines by these columns, e.g. value,year.")] = None,
    desc: Annotated[bool, typer.Option("--desc", help="Sort in descending order.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="Lines shown on the terminal (all go to --output).")] = 50,
    currency: Currency = None,
    rates: Rates = None,
    output: Output = None,
    fmt: Fmt = Format.table,
    db: Db = None,
) -> None:
    """Find report (or customs) lines by reporter, partner, category, year, flow and basis; or total them
    (with --rates, values converted to one currency)."""
    from hsmap.reconcile import read_rates
    from hsmap.store import Filters, Store, write_table

    if data not in ("report", "customs"):
        raise fail(f"--data {data!r}: use report or customs")
    if (rates is not None or currency) and not by:
        raise fail("--rates and --currency convert totals: add --by (lines keep the currency they were reported in)")
    _check_output(output, db, rates)
    rate_table = read_rates(rates) if rates is not None else None
    with Store(_db(db), read_only=True) as store:
        filters = Filters.parse(
            kb=store.kb,
            reporter=reporter,
            partner=partner,
            category=category,
            year=year,
            flow=flow,
            basis=basis,
            text=text,
        )
        if by:
            frame = store.totals(filters, by=by, data=data, rates=rate_table, currency=currency)  # type: ignore[arg-type]
            if output is not None:
                write_table(frame, output, sheet="totals")
                console.print(f"wrote {len(frame):,} total rows to {output}")
                return
            _show(frame, fmt, title=f"Totals by {by} ({data} lines; basis and currency are never added together)")
            return
        if output is not None:
            rows = _write_lines(store, filters, data, output, sort, desc)
            console.print(f"wrote {rows:,} {data} lines to {output}")
            return
        total = store.count(filters, data=data)  # type: ignore[arg-type]
        frame = store.query(filters, data=data, order_by=sort, descending=desc, limit=limit)  # type: ignore[arg-type]
    if fmt is Format.table:
        frame = frame[_LINE_COLUMNS[data]]
    shown = f"{len(frame):,} of {total:,}" if total > len(frame) else f"{total:,}"
    _show(frame, fmt, title=f"{shown} {data} lines" + (" (write all with --output)" if total > len(frame) else ""))


@store_command("mirror")
def mirror_command(
    exporter: Annotated[str | None, typer.Option("--exporter", help="Exporting State(s), any spelling.")] = None,
    importer: Annotated[str | None, typer.Option("--importer", help="Importing State(s), any spelling.")] = None,
    category: Category = None,
    year: Year = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"Keep these statuses ({', '.join(MIRROR_STATUSES)}).")
    ] = None,
    tolerance: Tolerance = 0.0,
    value_tolerance: ValueTolerance = None,
    currency: Currency = None,
    rates: Rates = None,
    output: Output = None,
    fmt: Fmt = Format.table,
    db: Db = None,
) -> None:
    """Pair each exporter's reported export with the importer's reported import, and list agreements and
    discrepancies with their explanation (with --rates, values in different currencies are compared too)."""
    from hsmap.reconcile import read_rates
    from hsmap.store import Store, write_table

    _check_output(output, db, rates)
    rate_table = read_rates(rates) if rates is not None else None
    with Store(_db(db), read_only=True) as store:
        table = store.mirror(
            exporter=exporter,
            importer=importer,
            category=category,
            year=year,
            status=status,
            tolerance=tolerance,
            value_tolerance=value_tolerance,
            rates=rate_table,
            currency=currency,
        )
    if output is not None:
        write_table(table, output, sheet="mirror")
        console.print(f"wrote {len(table):,} mirror rows to {output}")
    counts = table.groupby(["status", "side"]).size().rename("rows").reset_index()
    if output is None:
        shown = table[[*_MIRROR_SHOWN, "explanation"]] if fmt is Format.table else table
        _show(shown, fmt, title="Mirror comparison: exporters' reports against importers' reports")
    if fmt is Format.table:
        _show(counts, Format.table, title="Rows by status")


@store_command("serve")
def serve_command(
    db: Db = None,
    host: Annotated[str, typer.Option(help="Address to listen on; keep 127.0.0.1 unless you mean to share.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0 picks a free one).")] = 8765,
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open the page in a browser.")] = False,
) -> None:
    """Serve a local page to filter, sort, chart and download the store's lines (Ctrl+C stops it)."""
    from hsmap.store import StoreError
    from hsmap.store.web import make_server

    try:
        server = make_server(_db(db), host, port, log=None)
    except OSError as error:
        raise StoreError(f"cannot listen on {host}:{port} ({error.strerror or error})") from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(
            f"hsmap: warning: listening on {host}: anyone who can reach this machine can read the store (no login)",
            markup=False,
        )
    console.print(f"serving {_db(db)} at {server.url} (Ctrl+C stops)")
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, Stopped):
        pass
    finally:
        server.server_close()


@store_command("remove")
def remove_command(
    sources: Annotated[list[int], typer.Argument(help="Source numbers to remove (see 'hsmap store sources').")],
    db: Db = None,
) -> None:
    """Remove loaded files and their lines, e.g. a report that a corrected one replaces."""
    from hsmap.store import Store, updating

    target = _db(db)
    with updating(target, on_wait=_waiting(target)) as side, Store(side) as store:
        for source in sources:
            lines = store.remove(source)
            console.print(f"removed source {source} ({lines:,} lines)")


@store_command("sql")
def sql_command(
    statement: Annotated[str, typer.Argument(help='A SQL query, e.g. "SELECT year, count(*) FROM report_lines …".')],
    db: Db = None,
    fmt: Fmt = Format.table,
) -> None:
    """Run a read-only SQL query on the store: tables sources, report_lines and customs_lines ('DESCRIBE
    report_lines' lists the columns). It reads the store only: no files, network or extensions."""
    from hsmap.store import Store

    with Store(_db(db), read_only=True, sandboxed=True) as store:
        frame = store.sql(statement)
    _show(frame, fmt, title="")
