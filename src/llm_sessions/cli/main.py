"""The ``llm-sessions`` command: run the demo, and list, show, export or delete sessions."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ..exceptions import SessionManagerError, SessionNotFound
from ..models.session import Session
from ..session_prompt_builder import PromptStrategy, build_prompt_from_session
from ..storage import SessionStore, open_store
from .demo import run_demo
from .render import event_tree, usage_table

__all__ = ["app"]

DEFAULT_STORE = "sqlite:///llm-sessions.db"
T = TypeVar("T")

app = typer.Typer(
    help="Record, inspect and export LLM sessions.", no_args_is_help=True, add_completion=False
)
console = Console()
errors = Console(stderr=True)

StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="LLM_SESSIONS_STORE",
        help="Store URL: sqlite:///path.db, file:///dir, memory://, redis://..., postgresql://...",
    ),
]
SessionIdArgument = Annotated[str, typer.Argument(help="The session's id.")]


def _run(work: Callable[[SessionStore], Awaitable[T]], store_url: str) -> T:
    """Open the store, run ``work`` on it, close it; failures exit 1 with a clear message."""

    async def main() -> T:
        store = open_store(store_url)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except SessionNotFound as exc:
        errors.print(f"[red]error:[/] {exc} in {store_url}")
    except (SessionManagerError, ImportError, OSError) as exc:
        errors.print(f"[red]error:[/] {type(exc).__name__}: {exc}")
    raise typer.Exit(1)


async def _load(store: SessionStore, session_id: str) -> Session[Any]:
    session = await store.get(session_id)
    if session is None:
        raise SessionNotFound(session_id)
    return session


@app.command()
def demo(store: StoreOption = DEFAULT_STORE) -> None:
    """Run a scripted, offline agent conversation and show what was recorded.

    The model's replies are scripted (no network, no API key); token counts come from the real
    tokenizer and prices from genai-prices.
    """
    console.print(
        "[bold]llm-sessions demo[/] — a scripted agent (offline: the model's replies are "
        "scripted; tokens and prices are real)"
    )
    result = _run(run_demo, store)
    for index, segment in enumerate(result.segments, start=1):
        console.print(event_tree(segment, f"[bold]segment {index}[/] [dim]{segment.id}[/]"))
    console.print(usage_table(result.segments))
    stats = result.stats
    console.print(
        f"{stats['session_segments']} segments, {stats['total_events']} events, "
        f"{stats['user_messages']} user messages, {stats['ai_messages']} replies, "
        f"{stats['tool_calls']} tool calls; stored in {store}"
    )
    console.print(f"show it again with: llm-sessions show {result.segments[-1].id}")


@app.command("list")
def list_sessions(
    store: StoreOption = DEFAULT_STORE,
    prefix: Annotated[str, typer.Option(help="Only ids that start with this.")] = "",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON, one object per session.")
    ] = False,
) -> None:
    """List the stored sessions with their size, tokens and cost."""

    async def work(opened: SessionStore) -> list[Session[Any]]:
        ids = await opened.list_sessions(prefix)
        return [s for sid in ids if (s := await opened.get(sid)) is not None]

    sessions = _run(work, store)
    if as_json:
        rows = [
            {
                "id": session.id,
                "events": len(session.events),
                "parent_id": session.parent_id,
                "updated": session.last_update_time.isoformat(),
                "total_tokens": session.total_tokens,
                "total_cost_usd": session.total_cost,
            }
            for session in sessions
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(title=f"{len(sessions)} sessions in {store}")
    for column in ("id", "events", "parent", "updated", "tokens", "cost (USD)"):
        table.add_column(column)
    for session in sessions:
        table.add_row(
            session.id,
            str(len(session.events)),
            session.parent_id or "",
            session.last_update_time.isoformat(timespec="seconds"),
            f"{session.total_tokens:,}",
            f"{session.total_cost:.6f}",
        )
    console.print(table)


@app.command()
def show(session_id: SessionIdArgument, store: StoreOption = DEFAULT_STORE) -> None:
    """Show a session's event tree and its tokens and cost by model."""
    session = _run(lambda opened: _load(opened, session_id), store)
    console.print(event_tree(session, f"[bold]session[/] {session.id}"))
    console.print(usage_table([session]))


@app.command()
def export(
    session_id: SessionIdArgument,
    store: StoreOption = DEFAULT_STORE,
    format: Annotated[
        str, typer.Option(help="jsonl: one event per line; openai: chat messages")
    ] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Export a session as JSON Lines events or as OpenAI chat messages."""
    if format not in ("jsonl", "openai"):
        errors.print(f"[red]error:[/] --format {format!r} is not one of jsonl, openai")
        raise typer.Exit(1)

    async def work(opened: SessionStore) -> str:
        session = await _load(opened, session_id)
        if format == "jsonl":
            return "".join(event.model_dump_json() + "\n" for event in session.events)
        messages = await build_prompt_from_session(session, PromptStrategy.CONVERSATION)
        return json.dumps(messages, indent=2, ensure_ascii=False) + "\n"

    text = _run(work, store)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@app.command()
def delete(session_id: SessionIdArgument, store: StoreOption = DEFAULT_STORE) -> None:
    """Delete a session and its events."""
    existed = _run(lambda opened: opened.delete(session_id), store)
    if not existed:
        errors.print(f"[red]error:[/] session {session_id!r} not found in {store}")
        raise typer.Exit(1)
    console.print(f"deleted {session_id}")
