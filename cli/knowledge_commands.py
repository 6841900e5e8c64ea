"""Commands that query the knowledge base: categories, codes, lookup, correlate."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.app import command
from cli.output import Format, emit

FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table, csv or json.")]
EditionOption = Annotated[int, typer.Option("--edition", "-e", help="HS edition (year).")]


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


@command("codes")
def codes(
    category: Annotated[str, typer.Argument(help="Category ID, e.g. II, VII.b, VIII.SA.4.")],
    edition: EditionOption = 2022,
    fmt: FormatOption = Format.table,
) -> None:
    """The HS codes that can hold a category, with their relation and notes."""
    from hsmap.knowledge import load_knowledge
    from hsmap.lookup import codes_for_category, describe_code

    found = codes_for_category(category, edition)
    kb = load_knowledge()
    found.insert(1, "description", [describe_code(code, edition, kb) for code in found["code"]])
    emit(found.drop(columns=["source"]) if fmt is Format.table else found, fmt, title=f"HS {edition}")


@command("lookup")
def lookup(
    code_values: Annotated[list[str], typer.Argument(metavar="CODE...", help="Codes in any format.")],
    edition: EditionOption = 2022,
    fmt: FormatOption = Format.table,
) -> None:
    """What codes (chapter, heading, HS6 or national line, any format) mean for the ATT."""
    import pandas as pd

    from hsmap.codes import prefix_of
    from hsmap.knowledge import load_knowledge
    from hsmap.lookup import categories_for_code, describe_code

    kb = load_knowledge()
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
    from_edition: Annotated[int, typer.Option("--from", help="Edition the code belongs to.")] = 2017,
    to_edition: Annotated[int, typer.Option("--to", help="Edition to translate it into.")] = 2022,
    fmt: FormatOption = Format.table,
) -> None:
    """Where a subheading went between HS editions (1:1, 1:n, n:1, n:n)."""
    from hsmap.codes import prefix_of
    from hsmap.lookup import correlate

    found = correlate(code, from_edition, to_edition)
    if found.empty:
        from cli.app import fail

        raise fail(f"{prefix_of(code)} is not in the HS {from_edition} correlation table")
    emit(found, fmt, title=f"HS {from_edition} → HS {to_edition}")
