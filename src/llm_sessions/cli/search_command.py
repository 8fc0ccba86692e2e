"""``llm-sessions search "refund failed" --user alice``: events whose text matches, best
first, with the matched words marked (``store.search``)."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from ..storage import SearchHit, SearchPage, SessionStore
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

__all__ = ["search"]

_MARK = re.compile(r"\[([^\[\]]*)\]")


def search(
    query: Annotated[str, typer.Argument(help='Words, and "quoted phrases", to look for.')],
    store: StoreOption = DEFAULT_STORE,
    user: Annotated[
        str | None, typer.Option(help="Only this user's sessions.", show_default="every user")
    ] = None,
    where: WhereOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Show at most this many hits.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Search the text of every stored event: messages, replies, tool calls and summaries."""
    conditions = where_conditions(where)
    if user is not None:
        conditions["user_id"] = user

    async def work(opened: SessionStore) -> SearchPage:
        return await opened.search(
            query, where=conditions or None, since=since, until=until, limit=limit
        )

    page = run_on_store(store, work)
    if as_json:
        print_json([_row(hit) for hit in page.items])
        return
    if not page.items:
        console.print(f"no events match {query!r} in {store}")
        return
    table = Table(
        title=f"{plural(len(page.items), 'hit')} for {query!r} in {store}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    for column in ("session", "event", "type", "time (UTC)", "user", "text"):
        table.add_column(column, overflow="fold")
    for hit in page.items:
        table.add_row(
            hit.session_id,
            hit.event_id,
            hit.event_type,
            hit.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            hit.user_id or "",
            _marked(hit.snippet),
        )
    console.print(table)


def _marked(snippet: str) -> Text:
    """The snippet with its ``[matched]`` words in bold."""
    text = Text()
    for n, piece in enumerate(_MARK.split(snippet)):
        text.append(piece, style="bold" if n % 2 else "")
    return text


def _row(hit: SearchHit) -> dict[str, Any]:
    return hit.model_dump(mode="json")
