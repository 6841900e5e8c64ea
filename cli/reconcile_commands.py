"""Commands for the reporting officer: reconcile customs data with an ATT annual report, and write the
report template."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hsmap.chunking import CHUNK_ROWS
from hsmap.cli.app import EXIT_FLAGGED, command, console, fail
from hsmap.cli.classify_commands import EditionOption, Engine, EngineOption, Scheduler, Workers
from hsmap.cli.customs_options import (
    ChunkSize,
    CodeColumn,
    CustomsCurrency,
    CustomsFlow,
    CustomsSheet,
    CustomsYear,
    PartnerColumn,
    TextColumn,
    customs_reading,
)
from hsmap.cli.output import Format, emit

if TYPE_CHECKING:
    from hsmap.reconcile import Reconciliation

OUTPUTS = (".xlsx", ".html", ".csv", ".parquet")
# The options that state a report field once for the file, named when the report lacks its column.
REPORT_OPTIONS = {
    "reporting_state": "--report-state",
    "year": "--report-year",
    "flow": "--report-flow",
    "basis": "--report-basis",
}

Tolerance = Annotated[float, typer.Option(min=0.0, help="Relative difference still accepted, e.g. 0.1 for 10 %.")]
ValueTolerance = Annotated[
    float | None, typer.Option(min=0.0, help="Tolerance for values if different from --tolerance.")
]
Currency = Annotated[str | None, typer.Option(help="Currency values are compared in (default: the most common one).")]
Rates = Annotated[
    Path | None, typer.Option(help="Exchange rates: columns from, to, rate (1 from = rate to), optional year.")
]


@command("reconcile")
def reconcile_command(
    customs: Annotated[
        Path,
        typer.Option(
            "--customs",
            help="Customs lines or a Comtrade-shaped extract (.csv, .xlsx, .parquet), or a folder or quoted glob "
            "of .csv/.parquet files (partition folders such as year=2024 become columns).",
        ),
    ],
    report: Annotated[Path, typer.Option("--report", help="The ATT annual report as a tidy table (.csv, .xlsx).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Result: .xlsx (workbook), .html (page), .csv or .parquet (table).")
    ],
    tolerance: Tolerance = 0.0,
    value_tolerance: ValueTolerance = None,
    currency: Currency = None,
    rates: Rates = None,
    re_exports: Annotated[
        bool, typer.Option("--re-exports/--no-re-exports", help="Compare customs re-exports with report exports.")
    ] = True,
    customs_sheet: CustomsSheet = None,
    report_sheet: Annotated[str | None, typer.Option(help="Sheet of an .xlsx report (default: the first).")] = None,
    code_column: CodeColumn = None,
    text_column: TextColumn = None,
    partner_column: PartnerColumn = None,
    edition: EditionOption = "auto",
    customs_currency: CustomsCurrency = None,
    customs_flow: CustomsFlow = None,
    customs_year: CustomsYear = None,
    report_state: Annotated[
        str | None, typer.Option(help="Reporting State, when the report states it once for the file.")
    ] = None,
    report_year: Annotated[int | None, typer.Option(help="Report year, when stated once for the file.")] = None,
    report_flow: Annotated[str | None, typer.Option(help="Report flow (export/import), when stated once.")] = None,
    report_basis: Annotated[
        str | None, typer.Option(help="Report basis (authorized/actual), when stated once for the file.")
    ] = None,
    chunk_size: ChunkSize = CHUNK_ROWS,
    fail_on_mismatch: Annotated[
        bool, typer.Option(help="Exit 1 when any row is mismatch, only-customs or only-report.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            help="Fail (exit 2, no output) when customs cells cannot be read or partners cannot be identified; "
            "without it such lines are kept, counted and listed."
        ),
    ] = False,
    engine: EngineOption = Engine.pandas,
    scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:
    """Compare customs data with an ATT annual report per year, flow, partner and category, and explain why
    they differ."""
    from hsmap.dataset import FOLDER_SUFFIXES, input_paths
    from hsmap.io import TableWriter
    from hsmap.outputs import refuse_overlap
    from hsmap.reconcile import ReconcileOptions, read_rates, reconcile_files

    suffix = output.suffix.lower()
    if suffix not in OUTPUTS:
        raise fail(f"{output}: cannot write {suffix or 'a file without suffix'!r} (use {', '.join(OUTPUTS)})")
    if not output.parent.exists():
        raise fail(f"{output}: folder {output.parent} does not exist")
    refuse_overlap(output, [*input_paths(customs), report, rates], read_suffixes=FOLDER_SUFFIXES)
    options = ReconcileOptions(
        tolerance=tolerance,
        value_tolerance=value_tolerance,
        currency=currency,
        rates=read_rates(rates) if rates is not None else None,
        include_re_exports=re_exports,
    )
    if scheduler is not None and engine is not Engine.dask:
        raise fail("--scheduler needs --engine dask")
    defaults = {"reporting_state": report_state, "year": report_year, "flow": report_flow, "basis": report_basis}
    with ExitStack() as stack:
        aggregation = None
        if engine is Engine.dask:
            from hsmap.engines import dask_aggregation, dask_client

            aggregation = dask_aggregation(stack.enter_context(dask_client(scheduler, workers)))
        stack.enter_context(console.status("reconciling …"))
        result = reconcile_files(
            customs,
            report,
            options,
            reading=customs_reading(
                code_column, text_column, partner_column, edition, customs_currency, customs_flow, customs_year
            ),
            customs_sheet=customs_sheet,
            report_sheet=report_sheet,
            report_defaults={key: value for key, value in defaults.items() if value is not None},
            report_stated_by=REPORT_OPTIONS,
            chunk_rows=chunk_size,
            aggregation=aggregation,
        )
    if strict:
        _refuse_input_problems(result, customs)
    sources = {"customs file": customs.name, "report file": report.name}
    if suffix == ".xlsx":
        from hsmap.render.reconcile_xlsx import write_reconciliation_xlsx

        write_reconciliation_xlsx(result, output, sources)
    elif suffix == ".html":
        from hsmap.render.reconcile_html import write_reconciliation_html

        write_reconciliation_html(result, output, sources)
    else:
        with TableWriter(output) as writer:
            writer.write(result.comparison)
    emit(result.by_status(), Format.table, title="Comparison rows by status")
    emit(result.accounting, Format.table, title="Where every input line went")
    unresolved = result.partners[result.partners["partner_status"].isin(["unknown", "special"])]
    if len(unresolved):
        emit(unresolved, Format.table, title="Partners that are not a State hsmap can identify")
    console.print(f"wrote {len(result.comparison):,} comparison rows to {output}")
    problems = {"mismatch", "only-customs", "only-report"}
    if fail_on_mismatch and any(result.status_counts.get(status, 0) for status in problems):
        raise typer.Exit(EXIT_FLAGGED)


def _refuse_input_problems(result: Reconciliation, customs: Path) -> None:
    """``--strict``: one error line listing unreadable customs cells and unidentified partners."""
    listed = [
        f"{row.lines} line(s) with {row.problem} (first row {row.first_row})" for row in result.problems.itertuples()
    ]
    unknown = result.partners[result.partners["partner_status"] == "unknown"]
    listed += [f"{row.side} partner '{row.partner}' not identified" for row in unknown.itertuples()]
    if listed:
        shown = "; ".join(listed[:10]) + (f"; and {len(listed) - 10} more" if len(listed) > 10 else "")
        raise fail(f"{customs}: input problems: {shown}")


@command("report-template")
def report_template_command(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Template workbook to write (.xlsx).")] = None,
    schema: Annotated[bool, typer.Option("--schema", help="Print the report fields as a markdown table.")] = False,
) -> None:
    """Write the ATT annual report template (.xlsx with drop-down lists and a field guide) or print its fields."""
    from hsmap.knowledge import load_knowledge
    from hsmap.report import report_schema_markdown, write_report_template

    if output is None and not schema:
        raise fail("give --output FILE.xlsx to write the template, or --schema to print the fields")
    if schema:
        typer.echo(report_schema_markdown(), nl=False)
    if output is not None:
        if output.suffix.lower() != ".xlsx":
            raise fail(f"{output}: the template is a workbook; name it with .xlsx")
        if not output.parent.exists():
            raise fail(f"{output}: folder {output.parent} does not exist")
        kb = load_knowledge()
        write_report_template(output, {cid: kb.label(cid) for cid in kb.categories})
        console.print(f"wrote the ATT report template to {output}")
