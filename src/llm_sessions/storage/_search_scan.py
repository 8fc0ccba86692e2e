"""``search`` by reading events: the memory, file and Redis stores.

The sessions in scope are those ``find_sessions`` gives for ``where`` (and the tenant
``prefix``), or every session of the prefix when there is no ``where``. Their events are read
and ranked by ``rank`` (BM25 over the scanned events). A search without ``where`` reads at most
``max_scan_events`` events: past that it raises ``InvalidInputError`` suggesting a scope, so an
unscoped search over a large store fails fast instead of reading all of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..exceptions import InvalidInputError
from ..models._event_text import search_text
from ._search_models import SearchHit, SearchPage
from ._search_rank import Document, rank

if TYPE_CHECKING:
    from ..models._session import Session
    from ..models._session_event import SessionEvent
    from ._fleet_query import SessionPage
    from ._search_query import SearchQuery, TieKey

__all__ = ["Scannable", "page_of_hits", "scan_search", "scope_ids"]


class Scannable(Protocol):
    """What a scan reads of a store."""

    async def get(self, session_id: str) -> Session[Any] | None: ...

    async def list_sessions(self, prefix: str = "") -> list[str]: ...

    async def find_sessions(
        self,
        where: Mapping[str, Any] | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
        prefix: str = "",
    ) -> SessionPage: ...


async def _scope(store: Scannable, query: SearchQuery) -> AsyncIterator[tuple[str, str | None]]:
    """(session id, user id or None when not known yet) of each session in scope."""
    if not query.scoped:
        for session_id in await store.list_sessions(query.prefix):
            yield session_id, None
        return
    cursor = None
    while True:
        page = await store.find_sessions(
            where=query.where, limit=1000, cursor=cursor, prefix=query.prefix
        )
        for summary in page.items:
            yield summary.id, summary.user_id
        cursor = page.next_cursor
        if cursor is None:
            return


def _wanted(event: SessionEvent[Any], query: SearchQuery) -> bool:
    kind = event.type.value if hasattr(event.type, "value") else str(event.type)
    if query.types is not None and kind not in query.types:
        return False
    if query.since is not None and event.timestamp < query.since:
        return False
    return query.until is None or event.timestamp < query.until


async def scan_search(store: Scannable, query: SearchQuery, max_events: int) -> SearchPage:
    """The page ``query`` asks for, from the events of the sessions in scope.

    Args:
        store: the store to read.
        query: the checked query.
        max_events: the most events a search without ``where`` reads.

    Returns:
        The ``SearchPage``.

    Raises:
        InvalidInputError: the search has no ``where`` and the store holds more events than
            ``max_events``.
    """
    documents: list[Document] = []
    facts: dict[tuple[str, str], tuple[SessionEvent[Any], str | None]] = {}
    scanned = 0
    async for session_id, user_id in _scope(store, query):
        session = await store.get(session_id)
        if session is None:  # deleted or expired since it was listed
            continue
        scanned += len(session.events)
        if not query.scoped and scanned > max_events:
            raise InvalidInputError(
                "where",
                None,
                f"a search without where= reads at most {max_events:,} events "
                "(max_scan_events) and this store holds more; narrow it, e.g. "
                "where={'user_id': ...}, or open the store with a larger max_scan_events",
            )
        owner = user_id if query.scoped else session.metadata.user_id
        for event in session.events:
            if _wanted(event, query):
                text = search_text(event)
                if text:
                    documents.append(Document((session_id, event.id), text))
                    facts[(session_id, event.id)] = (event, owner)
    return _page(rank(documents, query.clauses), facts, query)


def _page(
    ranked: list[Any],
    facts: dict[tuple[str, str], tuple[SessionEvent[Any], str | None]],
    query: SearchQuery,
) -> SearchPage:
    ranked = [r for r in ranked if query.follows(r.score, *r.document.key)]
    ranked.sort(key=lambda r: (-r.score, *r.document.key))
    items = []
    for found in ranked[: query.limit]:
        event, user_id = facts[found.document.key]
        kind = event.type.value if hasattr(event.type, "value") else str(event.type)
        items.append(
            SearchHit(
                session_id=found.document.key[0],
                event_id=event.id,
                event_type=kind,
                created_at=event.timestamp,
                user_id=user_id,
                score=found.score,
                snippet=found.snippet,
            )
        )
    next_cursor = None
    if len(ranked) > query.limit:
        last = ranked[query.limit - 1]
        next_cursor = query.cursor_after(last.score, *last.document.key)
    return SearchPage(items=items, next_cursor=next_cursor)


async def scope_ids(store: Scannable, query: SearchQuery) -> list[str] | None:
    """The ids of the sessions ``where`` selects (in the query's prefix), or None when the
    query has no ``where`` (stores with an index then search every session of the prefix)."""
    if not query.scoped:
        return None
    return [session_id async for session_id, _ in _scope(store, query)]


def page_of_hits(
    query: SearchQuery, hits: list[SearchHit], keys: list[TieKey] | None = None
) -> SearchPage:
    """The page of ``hits`` (best first, after the cursor, ``limit`` + 1 at most): a next
    cursor only when a hit is left over. ``keys`` are the hits' tie keys when they are not
    (session id, event id)."""
    if len(hits) <= query.limit:
        return SearchPage(items=hits)
    items = hits[: query.limit]
    last = items[-1]
    key = (last.session_id, last.event_id) if keys is None else keys[query.limit - 1]
    return SearchPage(items=items, next_cursor=query.cursor_after(last.score, *key))
