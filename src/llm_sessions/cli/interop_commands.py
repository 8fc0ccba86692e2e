"""``llm-sessions import``, ``copy`` and ``keygen``: sessions into a store, between stores, and a
key to encrypt them at rest."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ..exceptions import InvalidFileError, SessionAlreadyExists
from ..interop import Format, OnConflict, detect_format, import_session
from ..interop.copy import CopyOutcome, CopyReport, copy_sessions
from ..storage import SessionStore, open_store
from ..storage._encryption import ENCRYPTION_KEY_ENV_VAR, generate_key
from .common import DEFAULT_STORE, CliError, StoreOption, console, errors, plural, run_on_store

__all__ = ["copy", "import_file", "keygen"]


def import_file(
    file: Annotated[str, typer.Argument(help="The file to read, or - for standard input.")],
    store: StoreOption = DEFAULT_STORE,
    format: Annotated[
        Format | None,
        typer.Option(
            help="The file's format: jsonl (what export writes), openai (a JSON array of chat "
            "messages) or openai-responses (a JSON array of Responses items).",
            show_default="detected from the file",
        ),
    ] = None,
    on_conflict: Annotated[
        OnConflict,
        typer.Option(
            help="An id the store already holds: error (store nothing), replace it, "
            "or rename the imported sessions.",
        ),
    ] = OnConflict.ERROR,
) -> None:
    """Import a conversation that export wrote, or OpenAI chat messages or Responses items.

    All or nothing: a bad file, or an id the store already holds, stores nothing.
    """
    text = _read(file)
    chosen = format or detect_format(text) or Format.JSONL

    async def work(opened: SessionStore) -> list[str]:
        return await import_session(opened, text, chosen.value, on_conflict=on_conflict)

    try:
        ids = run_on_store(store, work, create=True)
    except SessionAlreadyExists as exc:
        raise CliError(
            f"session {exc.session_id!r} is already in {store}; nothing was imported. "
            "--on-conflict rename imports the file under new ids, --on-conflict replace "
            "overwrites the stored session"
        ) from exc
    except InvalidFileError as exc:
        looks_like = detect_format(text)
        if looks_like is None or looks_like == chosen:
            raise
        raise CliError(f"{exc}; read it with --format {looks_like.value}") from exc
    console.print(f"imported {plural(len(ids), 'session')}: {', '.join(ids)}")


def _read(file: str) -> str:
    if file == "-":
        return sys.stdin.read()
    path = Path(file)
    if not path.is_file():
        raise CliError(f"{file}: no such file")
    return path.read_text(encoding="utf-8")


def copy(
    source: Annotated[str, typer.Option("--from", help="The store URL to copy from.")],
    target: Annotated[str, typer.Option("--to", help="The store URL to copy into.")],
    prefix: Annotated[
        str,
        typer.Option(help="Only sessions whose id starts with this.", show_default="every session"),
    ] = "",
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace sessions the target holds that differ.")
    ] = False,
) -> None:
    """Copy sessions between stores. Run it again to resume: identical sessions are skipped."""
    report = asyncio.run(_copy(source, target, prefix, replace))
    console.print(
        f"copied {report.copied}, skipped {report.skipped}, failed {report.failed} "
        f"({plural(report.events, 'event')} written)"
    )
    for session_id, reason in report.errors.items():
        errors.print(f"failed {session_id}: {reason}", markup=False)
    if report.failed:
        raise typer.Exit(1)


async def _copy(source_url: str, target_url: str, prefix: str, replace: bool) -> CopyReport:
    source = open_store(source_url)
    target = open_store(target_url)
    try:
        ids = await source.list_sessions(prefix)
        with Progress(
            TextColumn("copying"), BarColumn(), MofNCompleteColumn(), console=errors
        ) as progress:
            task = progress.add_task("copy", total=len(ids))

            def advance(_: str, __: CopyOutcome) -> None:
                progress.advance(task)

            return await copy_sessions(
                source, target, replace=replace, on_progress=advance, session_ids=ids
            )
    finally:
        await source.close()
        await target.close()


def keygen() -> None:
    """Print a new encryption key (for encryption_key= or LLM_SESSIONS_ENCRYPTION_KEY)."""
    sys.stdout.write(generate_key() + "\n")
    errors.print(f"keep it secret; stores read it from {ENCRYPTION_KEY_ENV_VAR}", markup=False)
