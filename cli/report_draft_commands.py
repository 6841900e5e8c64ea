"""The reporting officer's other direction: start the ATT annual report from the customs data."""

from __future__ import annotations

from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import Annotated

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


class FlowChoice(StrEnum):
    export = "export"
    import_ = "import"


class BasisChoice(StrEnum):
    actual = "actual"
    authorized = "authorized"


@command("draft-report")
def draft_report_command(
    customs: Annotated[
        list[Path],
        typer.Option(
            "--customs",
            help="Customs lines (.csv, .xlsx, .parquet), or a folder or quoted glob of .csv/.parquet files; "
            "repeat for several. Lines without an att_category column are classified on the fly.",
        ),
    ],
    state: Annotated[str, typer.Option("--state", help="The reporting State (ISO code or name).")],
    year: Annotated[int, typer.Option("--year", help="The calendar year the report covers.")],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="The draft: .xlsx (report, about, for review, sources, voluntary), .csv (the report table, and "
            "the lines behind it as NAME.lines.csv) or .docx (a document to read).",
        ),
    ],
    flow: Annotated[FlowChoice, typer.Option("--flow", help="Which table: exports or imports.")] = FlowChoice.export,
    basis: Annotated[
        BasisChoice, typer.Option("--basis", help="Customs data give actual transfers; authorized is refused.")
    ] = BasisChoice.actual,
    include: Annotated[
        list[str] | None,
        typer.Option(
            "--include",
            help="Count the lines that raise this kind of question instead of leaving them for review: "
            "shared-civil, code-text-mismatch, low-confidence, no-subcategory, no-items, re-export (repeat for "
            "several). unknown-partner, no-category and unreadable lines are never counted.",
        ),
    ] = None,
    min_confidence: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Lines the classifier is less sure of than this are left for review."),
    ] = 0.6,
    values: Annotated[
        bool, typer.Option("--values/--no-values", help="Report the customs value and currency of each row.")
    ] = False,
    optional_rows: Annotated[
        bool,
        typer.Option(help="Keep the optional sub-categories (manned/unmanned IV.a, IV.b, V.a, V.b) as rows."),
    ] = False,
    public: Annotated[
        bool | None, typer.Option("--public/--not-public", help="Whether the report may be made public.")
    ] = None,
    customs_sheet: CustomsSheet = None,
    code_column: CodeColumn = None,
    text_column: TextColumn = None,
    partner_column: PartnerColumn = None,
    edition: EditionOption = "auto",
    customs_currency: CustomsCurrency = None,
    customs_flow: CustomsFlow = None,
    customs_year: CustomsYear = None,
    chunk_size: ChunkSize = CHUNK_ROWS,
    fail_on_review: Annotated[bool, typer.Option(help="Exit 1 when lines are left for review.")] = False,
    engine: EngineOption = Engine.pandas,
    scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:
    """Draft the ATT annual report (exports or imports table) from customs lines, every figure traceable to its
    declaration lines, and the lines that need a decision listed for review."""
    from hsmap.dataset import FOLDER_SUFFIXES, input_paths
    from hsmap.outputs import refuse_overlap
    from hsmap.render.report_draft import REPORT_DRAFT_FORMATS, write_report_draft
    from hsmap.report_draft import DraftOptions, draft_report_files
    from hsmap.review_list import lines_path

    suffix = output.suffix.lower()
    if suffix not in REPORT_DRAFT_FORMATS:
        shown = suffix or "a file without suffix"
        raise fail(f"{output}: cannot write {shown!r} (use {', '.join(REPORT_DRAFT_FORMATS)})")
    if not output.parent.exists():
        raise fail(f"{output}: folder {output.parent} does not exist")
    inputs = [path for source in customs for path in input_paths(source)]
    for written in [output, lines_path(output)] if suffix == ".csv" else [output]:
        refuse_overlap(written, inputs, read_suffixes=FOLDER_SUFFIXES)
    if scheduler is not None and engine is not Engine.dask:
        raise fail("--scheduler needs --engine dask")
    options = DraftOptions(
        state=state,
        year=year,
        flow=flow.value,  # type: ignore[arg-type]
        basis=basis.value,  # type: ignore[arg-type]
        include=frozenset(include or ()),
        min_confidence=min_confidence,
        values=values,
        optional_rows=optional_rows,
        public=public,
    )
    with ExitStack() as stack:
        client = None
        if engine is Engine.dask:
            from hsmap.engines import dask_client

            client = stack.enter_context(dask_client(scheduler, workers))
        stack.enter_context(console.status("drafting …"))
        reading = customs_reading(
            code_column, text_column, partner_column, edition, customs_currency, customs_flow, customs_year
        )
        draft = draft_report_files(customs, options, reading, client=client, sheet=customs_sheet, chunk_rows=chunk_size)
    written = write_report_draft(draft, output)
    if not draft.nil:
        rows = draft.report[["category", "partner", "items", "value", "currency", "description"]]
        rows = rows.dropna(axis=1, how="all")
        emit(rows.astype("object").where(rows.notna(), ""), Format.table, title="Report rows")
    emit(draft.accounting, Format.table, title="Where every declaration line went")
    if len(draft.review):
        emit(draft.review_by_kind(), Format.table, title="Lines left for review, by kind")
    shown = " and ".join(str(path) for path in written)
    counted = "a nil report" if draft.nil else f"{len(draft.report):,} report rows"
    console.print(f"wrote {counted}, {len(draft.review):,} lines left for review, to {shown}")
    if fail_on_review and len(draft.review):
        raise typer.Exit(EXIT_FLAGGED)
