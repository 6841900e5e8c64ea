"""Commands that query the knowledge base: categories, editions, codes, lookup, correlate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hsmap.cli.app import command
from hsmap.cli.output import Format, emit

if TYPE_CHECKING:
    import pandas as pd

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


NotesOption = Annotated[
    bool, typer.Option("--notes", help="Show each link's legal note in the table (csv and json always have it).")
]


def _table_columns(found: pd.DataFrame, fmt: Format, notes: bool) -> pd.DataFrame:
    """Everything in csv and json; in the terminal table the notes only when asked, and never the sources."""
    if fmt is not Format.table:
        return found
    return found.drop(columns=["source"] if notes else ["source", "note"])


@command("codes")
def codes(
    category: Annotated[str, typer.Argument(help="Category ID, e.g. II, VII.b, VIII.SA.4.")],
    edition: EditionOption = None,
    fmt: FormatOption = Format.table,
    notes: NotesOption = False,
) -> None:
    """The HS codes that can hold a category, with their relation (and legal notes with --notes)."""
    from hsmap.knowledge import load_knowledge
    from hsmap.lookup import codes_for_category, describe_codes, known_edition

    kb = load_knowledge()
    edition = known_edition(kb, edition)
    found = codes_for_category(category, edition, kb)
    found.insert(1, "description", describe_codes(found["code"], edition, kb))
    emit(_table_columns(found, fmt, notes), fmt, title=f"HS {edition}")


@command("lookup")
def lookup(
    code_values: Annotated[list[str], typer.Argument(metavar="CODE...", help="Codes in any format.")],
    edition: EditionOption = None,
    fmt: FormatOption = Format.table,
    notes: NotesOption = False,
) -> None:
    """What codes (chapter, heading, HS6 or national line, any format) mean for the ATT."""
    from hsmap.knowledge import load_knowledge
    from hsmap.lookup import known_edition, lookup_table

    kb = load_knowledge()
    edition = known_edition(kb, edition)
    emit(_table_columns(lookup_table(code_values, edition, kb), fmt, notes), fmt, title=f"HS {edition}")


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
        from hsmap.cli.app import fail

        raise fail(f"{prefix_of(code)} is not in the HS {from_edition} correlation table")
    emit(found, fmt, title=f"HS {from_edition} → HS {to_edition}")
