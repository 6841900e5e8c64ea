"""Entry point of the ``hsmap`` command: assembles the command modules into one typer app."""

from __future__ import annotations

import gc

from cli import (  # noqa: F401  (they register their commands)
    classify_commands,
    knowledge_commands,
    proposal_commands,
    reconcile_commands,
    report_draft_commands,
    store_commands,
)
from cli.app import app

app.add_typer(store_commands.store_app, name="store")

__all__ = ["app", "run"]


def run() -> None:
    """The ``hsmap`` command as a process of its own.

    A command is one short batch that builds tables living until it ends (the compiled lexicon, the decisions
    made, what the texts said). Python's default collector would walk them again every few hundred
    allocations, about a tenth of a classify run, and once more while the interpreter shuts down (a third of
    a second, for a 10-line file): the process collects young objects in far larger batches, and leaves
    what it built to the end of the process uncollected (outputs are closed and flushed as usual).
    """
    gc.set_threshold(50_000, 20, 100)
    try:
        app(prog_name="hsmap")
    finally:
        gc.freeze()


if __name__ == "__main__":
    run()
