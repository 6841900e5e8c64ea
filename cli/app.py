"""The typer application, its consoles, and the one place where library errors become exit code 2."""

from __future__ import annotations

import atexit
import functools
import gc
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from hsmap.errors import HsmapError

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
# Help is shown as written: rich markup would swallow "[dask]" in "pip install hsmap[dask]", and typer's rich help
# renderer (with rich's markdown) would cost every start about 0.4 s.
app = typer.Typer(
    name="hsmap",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=HELP_OPTIONS,
)
console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK, EXIT_FLAGGED, EXIT_INPUT = 0, 1, 2


def _print_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version

        typer.echo(f"hsmap {version('hsmap')}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """ATT categories ↔ HS codes: look up, classify customs lines, reconcile ATT reports."""
    collect_as_one_batch()


def collect_as_one_batch() -> None:
    """A command is one short batch that builds tables living until it ends (the compiled lexicon, the
    decisions made, what the texts said). Python's default collector would walk them again every few hundred
    allocations (about a tenth of a classify run) and once more while the interpreter shuts down (a third of a
    second of a 10-line run): collect young objects in far larger batches, and freeze what the command built
    before the shutdown (outputs are closed and flushed as usual)."""
    gc.set_threshold(50_000, 20, 100)
    atexit.unregister(gc.freeze)  # once, however many commands a process runs (tests run many)
    atexit.register(gc.freeze)


def fail(message: str) -> typer.Exit:
    """Print one error line on stderr and return the exit to raise (code 2: usage or input error)."""
    err_console.print(f"hsmap: error: {message}", markup=False)
    return typer.Exit(EXIT_INPUT)


def one_line_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with hsmap's own errors (bad input, unknown code…) and file errors turned into one line on
    stderr and exit code 2, never a traceback."""

    @functools.wraps(function)
    def run(*call_args: Any, **call_kwargs: Any) -> Any:
        try:
            return function(*call_args, **call_kwargs)
        except HsmapError as error:
            raise fail(str(error)) from None
        except (OSError, UnicodeError) as error:
            raise fail(f"{getattr(error, 'filename', None) or ''} {error}".strip()) from None

    return run


def summary_line(function: Callable[..., Any]) -> str:
    """The first paragraph of a command's docstring: what the command list shows, whole (click would cut it
    at the first full stop, "Art." included)."""
    return " ".join(inspect.cleandoc(function.__doc__ or "").split("\n\n")[0].split())


def command(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``app.command`` with :func:`one_line_errors`."""
    return lambda function: app.command(*args, short_help=summary_line(function), **kwargs)(
        one_line_errors(function)
    )
