"""Entry point of the ``hsmap`` command: assembles the command modules into one typer app."""

from __future__ import annotations

from hsmap.cli import (  # noqa: F401  (they register their commands)
    classify_commands,
    knowledge_commands,
    proposal_commands,
    reconcile_commands,
    report_draft_commands,
    store_commands,
)
from hsmap.cli.app import app, run

app.add_typer(store_commands.store_app, name="store")

__all__ = ["app", "run"]

if __name__ == "__main__":
    run()
