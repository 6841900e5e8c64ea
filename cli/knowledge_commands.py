"""Commands that query the knowledge base: categories, editions, codes, lookup, correlate."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.app import command
from cli.output import Format, emit

FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table, csv or json.")]
EditionOption = Annotated[int | None, typer.Option("--edition", "-e", help="HS edition (year); default: the newest.")]


@command("categories")
def categories(fmt: FormatOption = Format.table) -> None:
    """The ATT category tree: Art. 2(1) categories I–VIII with sub-categories, ART3 and ART4."""
    import pandas as pd

    from hsmap.knowledge import load_knowledge

    kb = load_knowledge()
    rows = []
    for category in kb.categories.values():
        depth = len(kb.ancestors(category.id)) - 1
        rows.append(
            {
                "id": category.id,
                "name": ("  " * depth if fmt is Format.table else "") + category.name,
                "article": category.article,
                "ml": " ".join(category.ml),
                "parent": category.parent or "",
            }
        )
    emit(pd.DataFrame(rows), fmt, title="ATT categories")


@command("editions")
def editions(fmt: FormatOption = Format.table) -> None:
    """The HS editions in the knowledge base and when each entered into force: a customs line is read under
    the edition in force in its year (--edition auto)."""
    from hsmap.knowledge import load_knowledge

    kb = load_knowledge()
    table = kb.in_force.assign(
        in_force_until=[f"{start.year - 1}-12-31" for start in kb.in_force["in_force_from"].iloc[1:]] + [""],
        codes=[int((kb.hs[edition]["level"] == 6).sum()) for edition in kb.in_force["edition"]],
        links=[int((kb.links["edition"] == edition).sum()) for edition in kb.in_force["edition"]],
    )
    columns = ["edition", "in_force_from", "in_force_until", "codes", "links", "note", "source"]
    shown = table[columns].astype("str")
    emit(shown.drop(columns=["note", "source"]) if fmt is Format.table else shown, fmt, title="HS editions")


@command("codes")
def codes(
    category: Annotated[str, typer.Argument(help="Category ID, e.g. II, VII.b, VIII.SA.4.")],
    edition: EditionOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """The HS codes that can hold a category, with their relation and notes."""
    from hsmap.knowledge import load_knowledge
    from hsmap.lookup import codes_for_category, describe_code, known_edition

    kb = load_knowledge()
    edition = known_edition(kb, edition)
    found = codes_for_category(category, edition, kb)
    found.insert(1, "description", [describe_code(code, edition, kb) for code in found["code"]])
    emit(found.drop(columns=["source"]) if fmt is Format.table else found, fmt, title=f"HS {edition}")


@command("lookup")
def lookup(
    code_values: Annotated[list[str], typer.Argument(metavar="CODE...", help="Codes in any format.")],
    edition: EditionOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """What codes (chapter, heading, HS6 or national line, any format) mean for the ATT."""
    import pandas as pd

    from hsmap.codes import prefix_of
    from hsmap.knowledge import load_knowledge
    from hsmap.lookup import categories_for_code, describe_code, known_edition

    kb = load_knowledge()
    edition = known_edition(kb, edition)
    frames = []
    for value in code_values:
        prefix = prefix_of(value)
        links = categories_for_code(value, edition, kb)
        head = {"input": value, "code": prefix, "description": describe_code(prefix, edition, kb)}
        if links.empty:
            links = pd.DataFrame([{"category": "", "relation": "", "note": "no ATT category"}])
        frames.append(links.rename(columns={"code": "link_code"}).assign(**head))
    table = pd.concat(frames, ignore_index=True)
    columns = ["input", "code", "description", "link_code", "category", "label", "relation", "weight", "note"]
    emit(table.reindex(columns=columns).astype("object").fillna(""), fmt, title=f"HS {edition}")


@command("correlate")
def correlate_command(
    code: Annotated[str, typer.Argument(help="A subheading in any format.")],
    from_edition: Annotated[
        int | None, typer.Option("--from", help="Edition the code belongs to; default: the one before --to.")
    ] = None,
    to_edition: Annotated[
        int | None, typer.Option("--to", help="Edition to translate it into; default: the newest.")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Where a subheading went between HS editions, through every edition between them (1:1, 1:n, n:1, n:n;
    from_ex/to_ex are UNSD's "ex" marks: only part of the code corresponds)."""
    from hsmap.codes import prefix_of
    from hsmap.knowledge import load_knowledge
    from hsmap.lookup import correlate, known_edition

    kb = load_knowledge()
    to_edition = known_edition(kb, to_edition)
    if from_edition is None:
        older = [edition for edition in kb.editions if edition < to_edition]
        from_edition = older[-1] if older else to_edition
    found = correlate(code, from_edition, to_edition, kb)
    if found.empty:
        from cli.app import fail

        raise fail(f"{prefix_of(code)} is not in the HS {from_edition} correlation table")
    emit(found, fmt, title=f"HS {from_edition} → HS {to_edition}")
