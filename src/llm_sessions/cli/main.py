"""The ``llm-sessions`` command: options every command has, and the commands themselves.

Each command lives in its own module and is registered here with one line. Shared helpers
(one-line errors, opening stores, id prefixes, JSON output) are in ``cli/common.py``.
Exit codes: 0 success, 1 an error (one ``error: ...`` line on stderr), 2 a usage error.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from .common import GuardedGroup, TerminalCommand, console
from .delete_command import delete
from .demo_command import demo
from .erase_command import audit, erase
from .export_command import export
from .interop_commands import copy, import_file, keygen
from .list_command import list_sessions
from .notes import show_library_logs, stop_library_logs
from .prune_command import prune
from .search_command import search
from .serve_command import serve
from .show_command import show
from .usage_command import usage

__all__ = ["app", "main"]

app = typer.Typer(
    cls=GuardedGroup,
    help="Record, inspect and export LLM sessions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _package_version() -> str:
    try:
        return version("llm-sessions")
    except PackageNotFoundError:
        return "unknown"


def _print_version(requested: bool) -> None:
    if requested:
        console.print(f"llm-sessions {_package_version()}")
        raise typer.Exit()


@app.callback()
def options(
    ctx: typer.Context,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Print the library's log messages (show --verbose, after the command, "
            "shows tool tracebacks).",
        ),
    ] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Record, inspect and export LLM sessions."""
    handler = show_library_logs(verbose)
    ctx.call_on_close(lambda: stop_library_logs(handler))


app.command(cls=TerminalCommand)(demo)
app.command("list", cls=TerminalCommand)(list_sessions)
app.command(cls=TerminalCommand)(show)
app.command(cls=TerminalCommand)(usage)
app.command(cls=TerminalCommand)(search)
app.command(cls=TerminalCommand)(export)
app.command(cls=TerminalCommand)(delete)
app.command(cls=TerminalCommand)(erase)
app.command(cls=TerminalCommand)(audit)
app.command(cls=TerminalCommand)(prune)
app.command(cls=TerminalCommand)(serve)
app.command("import", cls=TerminalCommand)(import_file)
app.command(cls=TerminalCommand)(copy)
app.command(cls=TerminalCommand)(keygen)


def main() -> None:
    """The console script's entry point."""
    app(prog_name="llm-sessions")
