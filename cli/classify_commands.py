"""Commands for customs lines: classify a declaration file, evaluate the classifier on labelled lines."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hsmap.chunking import CHUNK_ROWS
from hsmap.cli.app import EXIT_FLAGGED, command, console, err_console, fail
from hsmap.cli.output import Format, emit
from hsmap.cli.stdio import OutputFormat, is_stdio, reader_stopped_early, staged_input, staged_output

if TYPE_CHECKING:
    from rich.console import Console

    from hsmap.classify.editions import EditionChoice
    from hsmap.classify.pipeline import ClassifySummary

CodeColumn = Annotated[str | None, typer.Option("--code-column", help="Column holding the tariff code.")]
TextColumn_ = Annotated[str | None, typer.Option("--text-column", help="Column holding the goods text.")]
EditionOption = Annotated[
    str,
    typer.Option(
        "--edition",
        "-e",
        help="HS edition of the codes: auto (each line the edition in force in its year, read from a year, period "
        "or date column; the newest when there is none) or an edition year such as 2017 (see 'hsmap editions').",
    ),
]
Sheet = Annotated[str | None, typer.Option("--sheet", help="Sheet of an .xlsx input (default: the first).")]


def edition_choice(value: str) -> EditionChoice:
    """The ``--edition`` value checked against the knowledge base's editions."""
    from hsmap.classify.editions import choose_edition
    from hsmap.knowledge import load_knowledge

    return choose_edition(value, load_knowledge())


def _show_summary(summary: ClassifySummary, seconds: float, to: Console) -> None:
    """Lines per category and per flag, with their share, and the speed of the run."""
    import pandas as pd

    from hsmap.knowledge import load_knowledge

    kb = load_knowledge()
    share = max(summary.rows, 1)
    categories = pd.DataFrame(
        [
            {
                "category": c,
                "label": kb.label(c) if c in kb.categories else "",
                "lines": f"{n:,}",
                "share": f"{n / share:.1%}",
            }
            for c, n in sorted(summary.categories.items(), key=lambda item: -item[1])
        ]
    )
    emit(categories, Format.table, title=f"{summary.rows:,} lines by ATT category", to=to)
    if summary.flags:
        flags = pd.DataFrame(
            [
                {"flag": f, "lines": f"{n:,}", "share": f"{n / share:.1%}"}
                for f, n in sorted(summary.flags.items(), key=lambda item: -item[1])
            ]
        )
        emit(flags, Format.table, title="Flags (a line may carry several)", to=to)
    to.print(f"{summary.rows:,} lines in {seconds:,.1f} s ({summary.rows / max(seconds, 1e-9):,.0f} lines/s)")


class Engine(StrEnum):
    pandas = "pandas"
    dask = "dask"


EngineOption = Annotated[
    Engine,
    typer.Option("--engine", help="pandas: stream on this machine; dask: a Dask cluster (pip install hsmap[dask])."),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler", help="Address of a running Dask scheduler (tcp://host:8786); default: a local cluster."
    ),
]
Workers = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Worker processes of the local Dask cluster (default: one per core)."),
]


@command("classify")
def classify_command(
    source: Annotated[
        Path,
        typer.Argument(
            help="Declarations: a .csv, .xlsx or .parquet file, or a folder or quoted glob of .csv/.parquet files "
            "(partition folders such as year=2024/month=01 are kept); - reads standard input."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Result: .csv, .xlsx or .parquet; for a folder or glob, a folder of Parquet files; - writes "
            "standard output (see --format).",
        ),
    ],
    output_format: Annotated[
        OutputFormat | None, typer.Option("--format", "-f", help="Format of -o - (standard output); default csv.")
    ] = None,
    code_column: CodeColumn = None,
    text_column: TextColumn_ = None,
    edition: EditionOption = "auto",
    sheet: Sheet = None,
    chunk_size: Annotated[int, typer.Option(help="Rows per chunk (bounds memory).", min=1)] = CHUNK_ROWS,
    fail_on_flags: Annotated[bool, typer.Option(help="Exit 1 when any line is flagged.")] = False,
    strict: Annotated[
        bool,
        typer.Option(
            help="Fail (exit 2, no output) when a line has an input problem: a bad code, number, unit, "
            "currency, date or partner. Without it such lines are kept and flagged."
        ),
    ] = False,
    engine: EngineOption = Engine.pandas,
    scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:
    """Tag every declaration line with the ATT category it may belong to, with flags and reasons."""
    from hsmap.classify.pipeline import classify_dataset, classify_file
    from hsmap.cli.progress import ReadProgress, input_bytes
    from hsmap.dataset import is_dataset, resolve_dataset

    chosen = edition_choice(edition)
    if scheduler is not None and engine is not Engine.dask:
        raise fail("--scheduler needs --engine dask")
    if is_stdio(output) and (is_dataset(source) or engine is Engine.dask):
        raise fail("a folder, a glob or --engine dask writes a folder of Parquet files: give -o FOLDER, not -o -")
    started = time.perf_counter()
    with staged_input(source) as source, staged_output(output, output_format) as target:
        if engine is Engine.dask:
            from hsmap.engines import classify_dataset_dask, dask_client

            with console.status("classifying on Dask …"), dask_client(scheduler, workers) as client:
                summary = classify_dataset_dask(
                    source, target, client, code_column, text_column, chosen, strict=strict
                )
        else:
            files = [file.path for file in resolve_dataset(source)] if is_dataset(source) else [source]
            with ReadProgress(err_console, input_bytes(files), "classifying") as progress:
                if is_dataset(source):
                    summary = classify_dataset(
                        source,
                        target,
                        code_column,
                        text_column,
                        chosen,
                        chunk_size,
                        on_chunk=progress.done,
                        strict=strict,
                        on_read=progress.read,
                    )
                else:
                    summary = classify_file(
                        source,
                        target,
                        code_column,
                        text_column,
                        chosen,
                        sheet,
                        chunk_size,
                        on_chunk=progress.done,
                        strict=strict,
                        on_read=progress.read,
                    )
    report = err_console if is_stdio(output) else console  # standard output holds the data
    _show_summary(summary, time.perf_counter() - started, report)
    if is_stdio(output) and reader_stopped_early():
        report.print(f"classified {summary.rows:,} lines; standard output was closed before all were written")
    else:
        report.print(f"wrote {summary.rows:,} lines to {'standard output' if is_stdio(output) else output}")
    if fail_on_flags and summary.flags:
        raise typer.Exit(EXIT_FLAGGED)


@command("evaluate")
def evaluate_command(
    labelled: Annotated[
        Path, typer.Argument(help="Labelled lines: code, description and true label; - reads standard input.")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write each line's prediction (.csv/.xlsx).")
    ] = None,
    label_column: Annotated[str, typer.Option(help="Column with the true category.")] = "label",
    code_column: CodeColumn = None,
    text_column: TextColumn_ = None,
    edition: EditionOption = "auto",
) -> None:
    """Precision, recall and F1 per top-level category and for "is an ATT item", and a confusion table."""
    from hsmap.classify.editions import EditionReader
    from hsmap.classify.evaluate import evaluate
    from hsmap.classify.pipeline import classify_declarations
    from hsmap.columns import detect_columns, find_column
    from hsmap.io import TableWriter, read_table
    from hsmap.knowledge import load_knowledge
    from hsmap.outputs import refuse_overlap

    if output is not None:
        refuse_overlap(output, [labelled])
    kb = load_knowledge()
    with staged_input(labelled) as staged:
        frame = read_table(staged)
    if frame.empty:
        raise fail(f"{labelled}: no labelled lines to evaluate (the file has only a header)")
    names = [str(c) for c in frame.columns]
    code, text = detect_columns(names, str(labelled), code_column, text_column)
    label = find_column(names, label_column, (), "label", str(labelled))
    result = classify_declarations(frame, code, text, EditionReader(kb, edition_choice(edition)), str(labelled))
    report = evaluate(result[label], result["att_category"], kb)
    emit(report.per_category.round(3), Format.table, title=f"{len(frame)} labelled lines, top level")
    emit(report.overall.round(3), Format.table, title="Overall")
    emit(report.confusion.reset_index(), Format.table, title="Confusion (rows: true, columns: predicted)")
    if output is not None:
        with TableWriter(output) as writer:
            writer.write(result)
        console.print(f"wrote the predictions to {output}")
