"""The store contract: four async methods every store has, and the base of our own stores."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from enum import Enum
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

from ..exceptions import InvalidSessionOperation
from ._erasure_api import ErasureMethods
from ._event_page import EventPage, page_of_events
from ._vectors_api import VectorIndexing

if TYPE_CHECKING:
    from ..models._session import Session
    from ..models._session_event import SessionEvent
    from ._fleet_query import SessionPage, SessionQuery, UsageQuery, UsageRow
    from ._search_models import SearchPage
    from ._search_query import SearchQuery
    from ._summaries import SessionSummary

__all__ = [
    "SessionStore",
    "SessionStoreInterface",
    "StoreState",
]


@runtime_checkable
class SessionStoreInterface(Protocol):
    """What any session store provides; a custom store needs only these four methods."""

    async def get(self, session_id: str) -> Session[Any] | None:
        """The session with this id, or None."""
        ...

    async def save(self, session: Session[Any]) -> None:
        """Persist the session (our stores write only what changed since the last save)."""
        ...

    async def delete(self, session_id: str) -> Any:
        """Remove the session; deleting a missing session is not an error."""
        ...

    async def list_sessions(self, prefix: str = "") -> list[str]:
        """Ids of the stored sessions that start with ``prefix``."""
        ...


class StoreState(Enum):
    """A store is open until closed; a closed store cannot be reopened."""

    OPEN = "open"
    CLOSED = "closed"


class SessionStore(VectorIndexing, ErasureMethods, ABC):
    """Base of llm_sessions' own stores: the contract plus expiry and an explicit lifecycle.

    Use a store as an async context manager, or call ``close()`` when done. Operations on a
    closed store raise ``InvalidSessionOperation``.
    """

    state: StoreState = StoreState.OPEN

    @abstractmethod
    async def get(self, session_id: str) -> Session[Any] | None:
        """The session with this id, or None (also when it expired)."""

    @abstractmethod
    async def save(self, session: Session[Any]) -> None:
        """Persist the session: its header changes and the events not yet written."""

    @abstractmethod
    async def delete(self, session_id: str) -> bool:
        """Remove the session and its events; True if it existed."""

    @abstractmethod
    async def list_sessions(self, prefix: str = "") -> list[str]:
        """Ids of the (unexpired) stored sessions that start with ``prefix``, sorted."""

    async def read_events(
        self,
        session_id: str,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[SessionEvent[Any]] | None:
        """A page of the session's events in store order, or None if the session is absent.

        ``after`` and ``before`` are event ids (exclusive bounds). ``limit`` caps the page:
        the oldest ``limit`` events in range, or with ``newest_first=True`` the newest ones,
        returned newest first (a page walking back from the end of the log). An id that is
        not an event of the session raises ``InvalidInputError``.

        This default loads the whole session; durable stores override it with a read of just
        the page.
        """
        page = EventPage.checked(after, before, limit, newest_first)
        session = await self.get(session_id)
        if session is None:
            return None
        return page_of_events(session.events, session_id, page)

    async def refresh(self, session: Session[Any]) -> Session[Any] | None:
        """The session as the store holds it now (None if it is gone), for a caller that
        already holds ``session``: what other writers added appears, in store order.

        This default loads the whole session; durable stores read only the events after the
        last one ``session`` has read, and the header.
        """
        return await self.get(session.id)

    async def session_for_append(self, session_id: str) -> Session[Any] | None:
        """The session with its stored header, to add events to and save (None if absent):
        the save appends just the events added.

        This default loads the whole session; durable stores read the header and where the
        log ends, and hold none of the earlier events, so appending costs the same at any
        length of the session.
        """
        return await self.get(session_id)

    def unread_session_for_append(self, session_id: str) -> Session[Any] | None:
        """A session object to add events to and save without reading the store first (one
        round trip per append), or None when this store must read the session first (then
        use ``session_for_append``).

        The object holds no header and no events; its save appends the events added and
        raises ``SessionNotFound`` when the store does not hold the session.

        Args:
            session_id: The session's id.

        Returns:
            The session object, or None (this default: every store reads first).
        """
        return None

    async def find_sessions(
        self,
        where: Mapping[str, Any] | None = None,
        model: str | None = None,
        since: Any = None,
        until: Any = None,
        order: str = "-updated_at",
        limit: int = 50,
        cursor: str | None = None,
        prefix: str = "",
        min_cost: float | str | None = None,
    ) -> SessionPage:
        """A page of session summaries, newest activity first by default.

        Args:
            where: equality on ``user_id``, ``root_id`` (every session of one chain of
                segments, forks and children) and top-level properties (JSON scalars).
            model: only sessions that used this model.
            since: only sessions updated at or after this time (datetime, date or ISO text).
            until: only sessions updated before this time.
            order: ``updated_at``, ``created_at``, ``cost`` or ``tokens``; ``-`` first for
                descending.
            limit: the page size, 1 to 1000.
            cursor: the previous page's ``next_cursor`` (same arguments), None for page 1.
            prefix: only sessions whose id starts with this (a tenant's namespace).
            min_cost: only sessions whose priced cost (USD) is at least this (a number or
                its text).

        Returns:
            A ``SessionPage``: ``items`` and ``next_cursor`` (None on the last page). Paging
            is keyset-based: a session whose sort value does not change while pages are read
            is returned exactly once.

        Raises:
            InvalidInputError: an argument is not valid (it is named, with the rule).
        """
        from ._fleet_query import SessionQuery

        query = SessionQuery.checked(
            where, model, since, until, order, limit, cursor, prefix, min_cost
        )
        return await self._find(query)

    async def usage(
        self,
        group_by: str | tuple[str, ...] | list[str] = ("user_id", "day"),
        where: Mapping[str, Any] | None = None,
        since: Any = None,
        until: Any = None,
        prefix: str = "",
    ) -> list[UsageRow]:
        """Sessions, events, tokens and cost, totalled by ``group_by``.

        Args:
            group_by: names among ``user_id``, ``model``, ``day``, ``month`` (UTC, of each
                session's ``updated_at``) and property names; ``()`` for one grand total.
            where: as for ``find_sessions``.
            since: as for ``find_sessions``.
            until: as for ``find_sessions``.
            prefix: as for ``find_sessions``.

        Returns:
            One ``UsageRow`` per group, sorted by key.

        Raises:
            InvalidInputError: an argument is not valid.
        """
        from ._fleet_query import UsageQuery

        query = UsageQuery.checked(group_by, where, since, until, prefix)
        return await self._usage(query)

    async def search(
        self,
        query: str,
        where: Mapping[str, Any] | None = None,
        since: Any = None,
        until: Any = None,
        types: Any = None,
        limit: int = 20,
        cursor: str | None = None,
        prefix: str = "",
        mode: str = "text",
    ) -> SearchPage:
        """Events whose text matches ``query``, best match first.

        What is searched is the text a prompt renders for each event: messages, summaries,
        tool names, arguments and results, and the text of custom-type events. Words match
        by their stem ("refunds" finds "refunded"); text in double quotes matches as a
        phrase; an event matches when it holds any word or phrase, and events holding more
        of them (and rarer ones) rank first. Removed events and deleted sessions never
        appear. SQLite and PostgreSQL answer from an index kept with every append; the
        memory, file and Redis stores read the events in scope.

        Args:
            query: words and ``"quoted phrases"``, at most 1,000 characters; other
                punctuation only separates words.
            where: as for ``find_sessions`` (``user_id``, ``root_id``, properties).
            since: only events at or after this time (datetime, date or ISO text).
            until: only events before this time.
            types: only events of these types (``EventType`` members or custom names).
            limit: the page size, 1 to 100.
            cursor: the previous page's ``next_cursor`` (same arguments), None for page 1.
            prefix: only sessions whose id starts with this (a tenant's namespace).
            mode: ``"text"`` (words), ``"semantic"`` (nearest vectors of the store's
                embedder, see ``use_embedder``) or ``"hybrid"`` (both, fused by rank).

        Returns:
            A ``SearchPage`` of ``SearchHit``: ``items`` and ``next_cursor`` (None on the
            last page).

        Raises:
            InvalidInputError: an argument is not valid (it is named, with the rule), or a
                store that reads events would read more than ``max_scan_events`` for a
                search without ``where``.
            InvalidSessionOperation: the store keeps no index (encrypted without
                ``search_index="plaintext"``, or ``"off"``), or no embedder for ``mode``.
        """
        from ._search_query import SearchQuery

        self._ensure_open()
        checked = SearchQuery.checked(
            query, where, since, until, types, limit, cursor, prefix, mode
        )
        refusal = self._search_refusal()
        if refusal is not None:
            raise InvalidSessionOperation("search", refusal)
        if checked.mode != "text":
            from ._vectors_search import vector_search

            return await vector_search(self, checked)
        return await self._search(checked)

    max_scan_events: int = 100_000
    """The most events a search without ``where`` reads, in stores that answer it by reading
    events (memory, file, Redis)."""

    def _search_refusal(self) -> str | None:
        """Why this store cannot search, or None when it can."""
        return None

    async def _search(self, query: SearchQuery) -> SearchPage:
        """The page ``query`` asks for; this default reads the events in scope (stores with a
        text index answer it there)."""
        from ._search_scan import scan_search

        return await scan_search(self, query, self.max_scan_events)

    async def _find(self, query: SessionQuery) -> SessionPage:
        """The page ``query`` asks for; this default reads every summary (stores with an index
        of their own answer it there)."""
        from ._fleet_query import find_in

        return find_in(await self.session_summaries(), query)

    async def _usage(self, query: UsageQuery) -> list[UsageRow]:
        """The totals ``query`` asks for; this default adds up every summary."""
        from ._fleet_query import usage_in

        return usage_in(await self.session_summaries(), query)

    async def session_summaries(self) -> list[SessionSummary]:
        """The summary of every stored session, what ``find_sessions`` and ``usage`` read.

        This default loads every session whole (slow: for stores that keep no summaries);
        stores that keep them read only those.
        """
        from ._summaries import summary_of, with_roots

        self._ensure_open()
        rows, loose = [], set()
        for session_id in await self.list_sessions():
            session = await self.get(session_id)
            if session is not None:  # deleted or expired since it was listed
                rows.append(summary_of(session))
                if session.metadata.root_id is None:
                    loose.add(session.id)
        return with_roots(rows, loose)

    async def set_expiration(self, session_id: str, seconds: float | None) -> bool:
        """Make the session expire ``seconds`` from now (None: never); True if it exists."""
        refusal = f"{type(self).__name__} does not support expiry"
        raise InvalidSessionOperation("set an expiration", refusal)

    async def clear_cache(self) -> None:
        """Forget what this store object cached; the next read goes to the store (most stores
        keep no cache: then it does nothing)."""
        self._ensure_open()

    async def close(self) -> None:
        """Release connections and files. Idempotent; the store cannot be used afterwards."""
        self.state = StoreState.CLOSED
        await self._stop_vectors()

    def _ensure_open(self) -> None:
        if self.state is StoreState.CLOSED:
            raise InvalidSessionOperation(
                f"use {type(self).__name__}", "the store is closed and cannot be reopened"
            )

    async def __aenter__(self) -> Self:
        self._ensure_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def refreshed(store: SessionStoreInterface, session: Session[Any]) -> Session[Any] | None:
    """``session`` as ``store`` holds it now (None if gone): ``store.refresh`` for our stores,
    which reads only what changed, a full ``get`` for any other store."""
    if isinstance(store, SessionStore):
        return await store.refresh(session)
    return await store.get(session.id)
