"""``llm-sessions export``: a session as JSON Lines events or as OpenAI chat messages."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..models.session import Session
from ..session_prompt_builder import PromptStrategy, build_prompt_from_session
from ..storage import SessionStore
from .common import (
    DEFAULT_STORE,
    CliError,
    SessionIdArgument,
    StoreOption,
    load_session,
    run_on_store,
)

__all__ = ["ExportFormat", "export"]


class ExportFormat(StrEnum):
    """What ``export`` writes."""

    JSONL = "jsonl"
    OPENAI = "openai"


def export(
    session_id: SessionIdArgument,
    store: StoreOption = DEFAULT_STORE,
    format: Annotated[
        ExportFormat, typer.Option(help="jsonl: one event per line; openai: chat messages")
    ] = ExportFormat.JSONL,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Export a session as JSON Lines events or as OpenAI chat messages."""
    if output is not None:
        _check_writable(output)

    async def work(opened: SessionStore) -> str:
        return await _render(await load_session(opened, session_id), format)

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


async def _render(session: Session[Any], format: ExportFormat) -> str:
    if format is ExportFormat.JSONL:
        return "".join(event.model_dump_json() + "\n" for event in session.events)
    messages = await build_prompt_from_session(session, PromptStrategy.CONVERSATION)
    return json.dumps(messages, indent=2, ensure_ascii=False) + "\n"
