"""Entry point of the ``hsmap`` command: assembles the command modules into one typer app."""

from __future__ import annotations

from cli import knowledge_commands  # noqa: F401  (registers its commands)
from cli.app import app

__all__ = ["app"]

if __name__ == "__main__":
    app()
