"""What every ``llm-sessions`` command shares: the consoles, the ``--store`` and ``--json``
options, one-line errors, opening a store (without creating it when only reading), session
ids by unique prefix, and JSON output.

A command module defines plain functions and ``cli/main.py`` registers them; an exception a
command lets escape becomes one ``error: ...`` line and exit code 1 (see ``GuardedGroup``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from ..exceptions import SessionNotFound
from ..models import Session
from ..storage import FileSessionStore, SessionStore, SQLiteSessionStore, open_store
from ..storage._url import DEFAULT_STORE

__all__ = [
    "DEFAULT_STORE",
    "CliError",
    "GuardedGroup",
    "JsonOption",
    "SessionIdArgument",
    "StoreOption",
    "TerminalCommand",
    "console",
    "errors",
    "load_session",
    "plural",
    "print_error",
    "print_json",
    "resolve_session_id",
    "run_on_store",
    "terminal_help",
]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
T = TypeVar("T")
logger = logging.getLogger(__name__)

console = Console()
errors = Console(stderr=True, soft_wrap=True)

StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="LLM_SESSIONS_STORE",
        help="Store URL: sqlite:///path.db, file:///dir, memory://, redis://..., postgresql://...",
    ),
]
SessionIdArgument = Annotated[
    str, typer.Argument(help="The session's id, or a prefix of it that only one id has.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON array instead of a table.")]


class CliError(Exception):
    """A failure the user can act on: printed as ``error: <message>``, exit code 1."""


def print_error(message: str) -> None:
    """One ``error: ...`` line on stderr (a message of several lines is joined into one)."""
    one_line = " ".join(str(message).split())
    errors.print(f"[bold red]error:[/] {escape(one_line)}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, CliError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def terminal_help(text: str | None) -> str | None:
    """A docstring as help for a terminal: each paragraph on one line (the terminal wraps it
    to its width), and no reStructuredText double backticks.

    Args:
        text: A command's docstring, or None.

    Returns:
        The help text, or None for None.
    """
    if text is None:
        return None
    paragraphs = inspect.cleandoc(text).replace("``", "").split("\n\n")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


def _flags_without_value(params: list[Any]) -> list[Any]:
    """On/off flags take no value: no ``<bool>`` beside them in the help."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class TerminalCommand(TyperCommand):
    """A command whose help reads well on a terminal (see ``terminal_help``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = terminal_help(self.help)

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_value(super().get_params(ctx))


class GuardedGroup(TyperGroup):
    """The command group: whatever a command raises (other than typer's own exits and usage
    errors) is printed as one ``error:`` line, never as a traceback. Its help reads as
    ``TerminalCommand``'s does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = terminal_help(self.help)

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_value(super().get_params(ctx))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except KeyboardInterrupt:
            print_error("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            print_error(_describe(exc))
            raise typer.Exit(EXIT_ERROR) from None


def plural(count: int, noun: str) -> str:
    """``1 session``, ``2 sessions``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _missing_location(store: SessionStore) -> str | None:
    """What a read would have to create first: a SQLite file or a store folder."""
    if isinstance(store, SQLiteSessionStore) and store.path != ":memory:":
        return None if Path(store.path).is_file() else f"no database at {store.path}"
    if isinstance(store, FileSessionStore):
        return None if store.directory.is_dir() else f"no store folder at {store.directory}"
    return None


def run_on_store(
    store_url: str, work: Callable[[SessionStore], Awaitable[T]], *, create: bool = False
) -> T:
    """Open the store, run ``work`` on it and close it.

    Unless ``create`` is set, a SQLite file or store folder that does not exist is an error
    rather than something to create: a read command never leaves an empty store behind.
    """

    async def main() -> T:
        store = open_store(store_url)
        logger.debug("opened %s as %s", store_url, type(store).__name__)
        try:
            missing = None if create else _missing_location(store)
            if missing is not None:
                raise CliError(f"{missing} (store {store_url}): nothing to read")
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except SessionNotFound as exc:
        raise CliError(f"session {exc.session_id!r} not found in {store_url}") from exc


async def resolve_session_id(store: SessionStore, id_or_prefix: str) -> str:
    """The id ``id_or_prefix`` names: itself if stored, else the one id that starts with it.

    Several ids with that prefix is an error that lists them.
    """
    if await store.get(id_or_prefix) is not None:
        return id_or_prefix
    matches = sorted(await store.list_sessions(id_or_prefix))
    if not matches:
        raise SessionNotFound(id_or_prefix)
    if len(matches) > 1:
        listed = ", ".join(matches[:10]) + (", ..." if len(matches) > 10 else "")
        raise CliError(
            f"{id_or_prefix!r} is the start of {len(matches)} session ids ({listed}); "
            "give more characters"
        )
    return matches[0]


async def load_session(store: SessionStore, id_or_prefix: str) -> Session[Any]:
    """The session an id or unique id prefix names."""
    session_id = await resolve_session_id(store, id_or_prefix)
    session = await store.get(session_id)
    if session is None:
        raise SessionNotFound(session_id)
    return session
