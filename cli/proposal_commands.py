"""Commands for HS amendment proposals: list the shipped ones, validate one, draft the documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hsmap.cli.app import EXIT_FLAGGED, command, console, err_console, fail
from hsmap.cli.output import Format, emit

FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table, csv or json.")]


@command("proposals")
def proposals_command(fmt: FormatOption = Format.table) -> None:
    """The HS amendment proposals shipped in mappings/proposals/ (use the name with `hsmap propose`)."""
    import pandas as pd

    from hsmap.knowledge import load_knowledge
    from hsmap.proposals import load_proposal, shipped_proposals

    kb = load_knowledge()
    rows = []
    for path in shipped_proposals(kb):
        proposal = load_proposal(path, kb)
        rows.append(
            {
                "name": path.stem,
                "status": proposal.status,
                "amends": f"HS {proposal.base_edition}",
                "amendments": len(proposal.amendments),
                "new_codes": len(proposal.subheadings),
                "title": proposal.title,
                "isolates": " ".join(proposal.isolates),
            }
        )
    table = pd.DataFrame(rows)
    if fmt is Format.table:
        table = table.drop(columns=["amendments", "isolates"])
    emit(table, fmt, title="HS amendment proposals")


@command("propose")
def propose_command(
    proposal_name: Annotated[
        str, typer.Argument(metavar="PROPOSAL", help="A shipped proposal (see `hsmap proposals`) or a .yaml file.")
    ] = "att_reference",
    output: Annotated[
        list[Path] | None,
        typer.Option("--output", "-o", help="Draft to write: .md, .docx or .xlsx (repeat for several)."),
    ] = None,
    evidence: Annotated[
        Path | None, typer.Option("--evidence", help="Declarations (.csv/.xlsx/.parquet), classified or not.")
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="Only validate the proposal; exit 1 on errors.")] = False,
    code_column: Annotated[str | None, typer.Option("--code-column", help="Evidence: tariff code column.")] = None,
    text_column: Annotated[str | None, typer.Option("--text-column", help="Evidence: goods text column.")] = None,
    quantity_column: Annotated[str | None, typer.Option("--quantity-column", help="Evidence: items column.")] = None,
    value_column: Annotated[str | None, typer.Option("--value-column", help="Evidence: value column.")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Evidence: sheet of an .xlsx file.")] = None,
) -> None:
    """Validate an HS amendment proposal and draft it for delegations (current beside proposed text,
    correlation, ATT categories, justification; with --evidence, counts from declaration data)."""
    from hsmap.io import read_table
    from hsmap.knowledge import load_knowledge
    from hsmap.outputs import refuse_overlap
    from hsmap.proposals import (
        compute_evidence,
        definition_checks,
        errors,
        load_proposal,
        problems_table,
        validate_proposal,
    )
    from hsmap.render import FORMATS, build_draft, write_draft
    from hsmap.render.draft import shown as shown_cell

    kb = load_knowledge()
    proposal = load_proposal(proposal_name, kb)
    problems = validate_proposal(proposal, kb)
    if check:
        if problems:
            emit(problems_table(problems), Format.table, title=f"{proposal.id}: problems")
        if errors(problems):
            raise typer.Exit(EXIT_FLAGGED)
        checks = list(definition_checks(proposal, kb).values())
        console.print(
            f"{proposal.id} amends HS {proposal.base_edition}: {len(proposal.amendments)} amendments, "
            f"{len(proposal.subheadings)} new subheadings, no errors ({len(problems)} warnings)"
        )
        if checks:
            console.print(
                f"definition check: {sum(c.items for c in checks):,} generated items in {len(checks)} amendments, "
                "each in exactly one new subheading of its Register category"
            )
        return
    if not output:
        raise fail("give -o OUT (.md, .docx or .xlsx) to draft, or --check to validate only")
    for path in output:
        if path.suffix.lower() not in FORMATS:
            raise fail(f"{path}: cannot write {path.suffix or 'a file without suffix'!r} (use .md, .docx or .xlsx)")
        refuse_overlap(path, [Path(proposal_name), evidence])
    if errors(problems):
        err_console.print(f"{proposal.id}: the proposal has errors; fix them before drafting")
        emit(problems_table(problems), Format.table, title=f"{proposal.id}: problems")
        raise typer.Exit(EXIT_FLAGGED)
    found = None
    if evidence is not None:
        found = compute_evidence(
            read_table(evidence, sheet=sheet),
            proposal,
            kb,
            code_column=code_column,
            text_column=text_column,
            quantity_column=quantity_column,
            value_column=value_column,
            source=evidence.name,
        )
        counts = found.table.loc[
            found.table["lines"] > 0, ["current", "proposed", "isolates", "lines", "items", "kg", "value"]
        ]
        title = f"Evidence: {found.in_scope:,} of {found.lines:,} lines under amended codes"
        emit(counts.map(shown_cell), Format.table, title=title)
    draft = build_draft(proposal, kb, evidence=found, problems=problems)
    for path in output:
        console.print(f"wrote {write_draft(draft, path)}")
