"""``llm-sessions list``: stored sessions from their summaries, filtered and sorted, with
full ids. No session is loaded: pages come from ``find_sessions``, the count from ``usage``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from ..storage import SessionStore
from ..storage._fleet_checks import MAX_LIMIT
from ..storage._summaries import SessionSummary
from .common import (
    DEFAULT_STORE,
    JsonOption,
    StoreOption,
    console,
    plural,
    print_json,
    run_on_store,
)
from .filters import SinceOption, UntilOption, WhereOption, where_conditions
from .render import cost_text

__all__ = ["list_sessions"]

PARENT_ID_CHARS = 8


@dataclass
class _Listing:
    rows: list[SessionSummary]
    total: int


def list_sessions(
    store: StoreOption = DEFAULT_STORE,
    prefix: Annotated[
        str, typer.Option(help="Only ids that start with this.", show_default="every session")
    ] = "",
    where: WhereOption = None,
    model: Annotated[
        str | None, typer.Option(help="Only sessions that used this model.", show_default="any")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    sort: Annotated[
        str,
        typer.Option(
            help="updated_at, created_at, cost or tokens; a leading - sorts descending.",
        ),
    ] = "-updated_at",
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="Show at most this many sessions.", show_default="no limit"),
    ] = None,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many (first) sessions.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """List the stored sessions, newest first, with their user, size, tokens and cost."""
    query: dict[str, Any] = {
        "where": where_conditions(where),
        "since": since,
        "until": until,
        "prefix": prefix,
    }

    async def work(opened: SessionStore) -> _Listing:
        rows = await _rows(opened, query, model, sort, offset + limit if limit else None)
        return _Listing(rows[offset:], await _count(opened, query, model))

    listing = run_on_store(store, work)
    page = listing.rows
    if as_json:
        print_json([_row(summary) for summary in page])
        return
    title = _title(len(page), listing.total, offset, store)
    table = _table(page, title)
    if (
        console.measure(table, options=console.options.update_width(10_000)).maximum
        <= console.width
    ):
        console.print(table)
    else:  # too narrow for a table whose ids stay whole: one block per session
        console.print(title)
        for summary in page:
            console.print(summary.id, style="bold", overflow="fold")
            console.print("  " + " · ".join(_details(summary)))


async def _rows(
    store: SessionStore, query: dict[str, Any], model: str | None, sort: str, wanted: int | None
) -> list[SessionSummary]:
    """The first ``wanted`` summaries (every one for None), page by page."""
    rows: list[SessionSummary] = []
    cursor = None
    while wanted is None or len(rows) < wanted:
        size = MAX_LIMIT if wanted is None else min(MAX_LIMIT, wanted - len(rows))
        page = await store.find_sessions(
            **query, model=model, order=sort, limit=size, cursor=cursor
        )
        rows.extend(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return rows


async def _count(store: SessionStore, query: dict[str, Any], model: str | None) -> int:
    """How many sessions match, from the store's totals."""
    if model is None:
        return sum(row.sessions for row in await store.usage(group_by=(), **query))
    rows = await store.usage(group_by="model", **query)
    return sum(row.sessions for row in rows if row.key["model"] == model)


def _title(shown: int, total: int, offset: int, store: str) -> str:
    if shown == total:
        return f"{plural(total, 'session')} in {store}"
    if not shown:
        return f"no sessions after the first {offset} of {total} in {store}"
    return f"sessions {offset + 1}–{offset + shown} of {total} in {store}"


def _row(summary: SessionSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "events": summary.event_count,
        "parent_id": summary.parent_id,
        "root_id": summary.root_id,
        "user_id": summary.user_id,
        "created": summary.created_at.isoformat(),
        "updated": summary.updated_at.isoformat(),
        "total_tokens": summary.total_tokens,
        "total_cost_usd": summary.total_cost_usd,
        "unpriced_models": list(summary.unpriced_models),
        "models": list(summary.models),
        "has_errors": summary.has_errors,
        "properties": summary.properties,
    }


def _cost(summary: SessionSummary) -> str:
    return cost_text(summary.total_cost_usd, summary.unpriced_models)


def _details(summary: SessionSummary) -> list[str]:
    """Every column but the id, as text."""
    details = [
        plural(summary.event_count, "event"),
        f"{summary.total_tokens:,} tokens",
        "$" + _cost(summary),
        summary.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
    ]
    if summary.user_id:
        details.append(f"user {summary.user_id}")
    if summary.parent_id:
        details.append(f"parent {summary.parent_id[:PARENT_ID_CHARS]}")
    return details


def _table(rows: list[SessionSummary], title: str) -> Table:
    """The table of sessions, as wide as it needs to be to keep every id whole."""
    id_width = max((len(summary.id) for summary in rows), default=2)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("id", no_wrap=True, min_width=id_width)
    for column in ("events", "tokens", "cost (USD)"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("updated (UTC)", no_wrap=True)
    users = any(summary.user_id for summary in rows)
    if users:
        table.add_column("user", no_wrap=True)
    table.add_column("parent", no_wrap=True)
    for summary in rows:
        cells = [
            summary.id,
            str(summary.event_count),
            f"{summary.total_tokens:,}",
            _cost(summary),
            summary.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        ]
        if users:
            cells.append(summary.user_id or "")
        cells.append((summary.parent_id or "")[:PARENT_ID_CHARS])
        table.add_row(*cells)
    return table
