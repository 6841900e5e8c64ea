"""Options of the commands that read customs lines the way the reconciliation does (``reconcile``,
``draft-report``, ``store load``): one definition each, and one way to turn them into the library's settings,
so every command reads a file alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hsmap.cli.classify_commands import edition_choice

if TYPE_CHECKING:
    from hsmap.customs import CustomsReading

CustomsSheet = Annotated[str | None, typer.Option(help="Sheet of an .xlsx customs file.")]
CodeColumn = Annotated[str | None, typer.Option(help="Customs column holding the tariff code.")]
TextColumn = Annotated[str | None, typer.Option(help="Customs column holding the goods description.")]
PartnerColumn = Annotated[str | None, typer.Option(help="Customs column holding the partner country.")]
CustomsCurrency = Annotated[
    str | None, typer.Option(help="Currency of customs values when the file has no currency column.")
]
CustomsFlow = Annotated[str | None, typer.Option(help="Flow of every customs line when the file has no flow column.")]
CustomsYear = Annotated[int | None, typer.Option(help="Year of every customs line when the file has no year or date.")]
ChunkSize = Annotated[int, typer.Option(help="Customs rows per chunk (bounds memory).", min=1)]


def customs_reading(
    code_column: str | None,
    text_column: str | None,
    partner_column: str | None,
    edition: str,
    customs_currency: str | None,
    customs_flow: str | None,
    customs_year: int | None,
) -> CustomsReading:
    """The customs options of a command (named as above) as the one settings value the library takes."""
    from hsmap.customs import CustomsReading  # imported here: the command line starts without pandas

    return CustomsReading(
        code=code_column,
        text=text_column,
        partner=partner_column,
        edition=edition_choice(edition),
        currency=customs_currency,
        flow=customs_flow,
        year=customs_year,
    )
