"""The typer application, its consoles, and the one place where library errors become exit code 2."""

from __future__ import annotations

import atexit
import contextlib
import copy
import functools
import gc
import inspect
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Annotated, Any, NoReturn

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
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(BaseException):
    """Raised in the main thread by SIGINT or SIGTERM: every ``with`` block on the way out removes its partial
    output (see :mod:`hsmap.outputs`), and the command exits with 128 + the signal's number."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


_STOPS_RECEIVED: list[int] = []  # the stop signal, once received


def _stop(number: int, frame: object) -> None:
    for stop_signal in STOP_SIGNALS:  # a second signal must not interrupt the cleanup of the first
        signal.signal(stop_signal, signal.SIG_IGN)
    _STOPS_RECEIVED.append(number)
    raise Stopped(number)


_PR_SET_THP_DISABLE = 41  # <linux/prctl.h>


def without_transparent_huge_pages() -> None:
    """No transparent huge pages for this process (Linux; elsewhere, or where the call is refused, nothing
    changes). Arrow's allocator asks for them on the 1 GiB arena it reserves, and a streamed run frees and
    reuses its chunks' memory, so each reuse zeroes a whole 2 MiB page or stalls while the kernel compacts
    memory to find one: a 1M-line ``classify`` spent 0.45 s more in the kernel with them, and varied by 0.5 s
    from run to run (README, "Whole processes")."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # no C library to load, or one without prctl
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0)


def run(prog_name: str | None = None) -> None:
    """The ``hsmap`` executable (and ``python -m hsmap``): the app, with SIGTERM handled as Ctrl+C is (clean
    up, then exit 143/130), and without transparent huge pages. A library may turn the :class:`Stopped` raised
    inside its own call into an error of its own (DuckDB's "Query interrupted"): once a stop signal has come,
    whatever ends the command ends it as stopped."""
    without_transparent_huge_pages()
    _STOPS_RECEIVED.clear()
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _stop)
    try:
        only_the_command_run(sys.argv[1:])(prog_name=prog_name)
    except BaseException as ended:
        if not _STOPS_RECEIVED:
            if isinstance(ended, SystemExit):
                exit_without_teardown(ended.code)
            raise
        name = signal.Signals(_STOPS_RECEIVED[0]).name
        err_console.print(f"hsmap: stopped by {name}; no partial output left", markup=False)
        exit_without_teardown(128 + _STOPS_RECEIVED[0])
    exit_without_teardown(EXIT_OK)


def exit_without_teardown(code: object) -> NoReturn:
    """Exit as Python does — exit handlers run, output flushed, the same exit code — but without its teardown,
    which frees every object the process made one by one (modules, the tables loaded from the cache folder:
    a tenth of a second of a 10-line run) where the system frees the whole process at once. A plain exit
    while another thread still runs (Python waits for it), for a message as exit code, or when the output
    cannot be flushed (Python reports it)."""
    others = [thread for thread in threading.enumerate() if thread is not threading.main_thread()]
    if not isinstance(code, int | None) or any(thread.is_alive() and not thread.daemon for thread in others):
        raise SystemExit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe, a closed stream
        raise SystemExit(code) from None
    os._exit(code or 0)


def only_the_command_run(args: list[str]) -> typer.Typer:
    """The app with only the command (or command group) that ``args`` name: typer reads the signature and
    type hints of every command it knows before it runs one (a tenth of a second for all of them). The whole
    app when ``args`` name none (``--help``, ``--version``) or one it does not know (click's error then lists
    the near names)."""
    name = next((arg for arg in args if not arg.startswith("-")), None)
    commands = [info for info in app.registered_commands if info.name == name]
    groups = [info for info in app.registered_groups if info.name == name]
    if not commands and not groups:
        return app
    only = copy.copy(app)
    only.registered_commands, only.registered_groups = commands, groups
    return only


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
    second of a 10-line run): collect young objects in far larger batches — of 500,000, more than a 10-line
    run makes, tables loaded from the cache folder included (the compiled lexicon alone is some 120,000), so a
    small run walks them not even once (at 250,000 it did once, 0.07 s) —, and freeze what the command built
    before the shutdown (outputs are closed and flushed as usual)."""
    gc.set_threshold(500_000, 20, 100)
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
