"""``llm-sessions list``: the stored sessions, newest first, with full ids."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from ..models import Session
from ..storage import SessionStore
from .common import (
    DEFAULT_STORE,
    JsonOption,
    StoreOption,
    console,
    plural,
    print_json,
    run_on_store,
)
from .render import cost_text

__all__ = ["list_sessions"]

PARENT_ID_CHARS = 8


def list_sessions(
    store: StoreOption = DEFAULT_STORE,
    prefix: Annotated[
        str, typer.Option(help="Only ids that start with this.", show_default="every session")
    ] = "",
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="Show at most this many sessions.", show_default="no limit"),
    ] = None,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many (newest) sessions.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """List the stored sessions, newest first, with their size, tokens and cost."""

    async def work(opened: SessionStore) -> list[Session[Any]]:
        ids = await opened.list_sessions(prefix)
        return [s for sid in ids if (s := await opened.get(sid)) is not None]

    sessions = sorted(run_on_store(store, work), key=_newest_first)
    page = sessions[offset : None if limit is None else offset + limit]
    if as_json:
        print_json([_row(session) for session in page])
        return
    title = _title(len(page), len(sessions), offset, store)
    table = _table(page, title)
    if (
        console.measure(table, options=console.options.update_width(10_000)).maximum
        <= console.width
    ):
        console.print(table)
    else:  # too narrow for a table whose ids stay whole: one block per session
        console.print(title)
        for session in page:
            console.print(session.id, style="bold", overflow="fold")
            console.print("  " + " · ".join(_details(session)))


def _newest_first(session: Session[Any]) -> tuple[float, str]:
    return (-session.last_update_time.timestamp(), session.id)


def _title(shown: int, total: int, offset: int, store: str) -> str:
    if shown == total:
        return f"{plural(total, 'session')} in {store}"
    if not shown:
        return f"no sessions after the first {offset} of {total} in {store}"
    return f"sessions {offset + 1}–{offset + shown} of {total} in {store}"


def _row(session: Session[Any]) -> dict[str, Any]:
    summary = session.token_summary
    return {
        "id": session.id,
        "events": len(session.events),
        "parent_id": session.parent_id,
        "updated": session.last_update_time.isoformat(),
        "total_tokens": session.total_tokens,
        "total_cost_usd": summary.total_estimated_cost_usd,
        "unpriced_models": list(summary.unpriced_models),
    }


def _details(session: Session[Any]) -> list[str]:
    """Every column but the id, as text."""
    summary = session.token_summary
    details = [
        plural(len(session.events), "event"),
        f"{session.total_tokens:,} tokens",
        "$" + cost_text(summary.total_estimated_cost_usd, summary.unpriced_models),
        session.last_update_time.strftime("%Y-%m-%d %H:%M:%S"),
    ]
    if session.parent_id:
        details.append(f"parent {session.parent_id[:PARENT_ID_CHARS]}")
    return details


def _table(sessions: list[Session[Any]], title: str) -> Table:
    """The table of sessions, as wide as it needs to be to keep every id whole."""
    id_width = max((len(session.id) for session in sessions), default=2)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("id", no_wrap=True, min_width=id_width)
    for column in ("events", "tokens", "cost (USD)"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("updated (UTC)", no_wrap=True)
    table.add_column("parent", no_wrap=True)
    for session in sessions:
        summary = session.token_summary
        table.add_row(
            session.id,
            str(len(session.events)),
            f"{session.total_tokens:,}",
            cost_text(summary.total_estimated_cost_usd, summary.unpriced_models),
            session.last_update_time.strftime("%Y-%m-%d %H:%M:%S"),
            (session.parent_id or "")[:PARENT_ID_CHARS],
        )
    return table
