"""Options of the commands that read customs lines the way the reconciliation does (``reconcile``,
``draft-report``): one definition each, so both commands read a file alike."""

from __future__ import annotations

from typing import Annotated

import typer

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
