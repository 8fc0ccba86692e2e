"""``llm-sessions export``: a conversation in one of the interop formats."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..interop import Format, export_session, export_user
from ..storage import SessionStore
from .common import (
    DEFAULT_STORE,
    CliError,
    StoreOption,
    load_session,
    run_on_store,
)

__all__ = ["ExportFormat", "export"]


ExportFormat = Format


def export(
    session_id: Annotated[
        str | None,
        typer.Argument(help="The session's id, or a prefix of it that only one id has."),
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    user: Annotated[
        str | None,
        typer.Option(
            "--user", help="Export every session of this user (and those derived from them)."
        ),
    ] = None,
    format: Annotated[
        ExportFormat,
        typer.Option(
            help="jsonl: a header line then one event per line (import reads it back); "
            "openai: chat messages; openai-responses: Responses API items"
        ),
    ] = ExportFormat.JSONL,
    output: Annotated[
        Path | None,
        typer.Option(help="Write here instead of stdout.", show_default="standard output"),
    ] = None,
) -> None:
    """Export a session (every segment of an infinite conversation) as JSON Lines, OpenAI chat
    messages or Responses items.

    With ``--user`` instead of an id: every session of that user (and every session derived
    from them) as JSON Lines, the answer to a data-access request."""
    if (session_id is None) == (user is None):
        raise CliError("give a session id or --user, not both or neither")
    if user is not None and format is not ExportFormat.JSONL:
        raise CliError(f"--user exports JSON Lines only, not --format {format.value}")
    if output is not None:
        _check_writable(output)

    async def work(opened: SessionStore) -> str:
        if user is not None:
            return await export_user(opened, user)
        session = await load_session(opened, str(session_id))
        return await export_session(opened, session.id, format.value)

    text = run_on_store(store, work)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def _check_writable(output: Path) -> None:
    if output.is_dir():
        raise CliError(f"--output {output} is a folder; give the path of a file")
    if not output.parent.is_dir():
        raise CliError(f"--output {output}: the folder {output.parent} does not exist")
