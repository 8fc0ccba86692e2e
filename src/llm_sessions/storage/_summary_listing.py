"""Listings and totals of a store that keeps summary rows in its own tables (SQLite,
PostgreSQL): the recount of stale rows, and the hooks each store answers in its SQL."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..exceptions import CorruptSessionData
from ._event_log import EventLogStore
from ._fleet_query import SessionPage, SessionQuery, UsageQuery, UsageRow
from ._summaries import SessionSummary, summary_of

Q = TypeVar("Q")
R = TypeVar("R")

__all__ = ["SummaryListing"]

_RECOUNT_BATCH = 500
_RECOUNT_TRIES = 3


class SummaryListing(EventLogStore):
    """``find_sessions`` and ``usage`` answered from the summary rows every save keeps (see
    ``_summary_delta``). Rows a save marked stale are recounted from full loads first. An
    encrypted store keeps no summary rows and answers by full loads (the base way)."""

    _summary_rows = True

    @abstractmethod
    async def _summary_page(self, query: SessionQuery, if_fresh: bool) -> SessionPage | None:
        """The page ``query`` asks for, read from the summary rows; None when ``if_fresh``
        and some row awaits a recount (found in the same read: one trip in the usual case)."""

    @abstractmethod
    async def _summary_totals(self, query: UsageQuery, if_fresh: bool) -> list[UsageRow] | None:
        """The totals ``query`` asks for, added up from the summary rows; None when
        ``if_fresh`` and some row awaits a recount."""

    @abstractmethod
    async def _stale_summaries(self, limit: int) -> list[tuple[str, int]]:
        """Up to ``limit`` rows marked stale: (session id, revision)."""

    @abstractmethod
    async def _recount_summary(
        self, revision: int, summary: SessionSummary, root: str | None
    ) -> bool:
        """Write ``summary`` over a stale row still at ``revision``; True if written."""

    async def _find(self, query: SessionQuery) -> SessionPage:
        if not self._keeps_summary_rows():
            return await super()._find(query)
        self._ensure_open()
        return await self._after_recount(self._summary_page, query)

    async def _usage(self, query: UsageQuery) -> list[UsageRow]:
        if not self._keeps_summary_rows():
            return await super()._usage(query)
        self._ensure_open()
        return await self._after_recount(self._summary_totals, query)

    async def _after_recount(self, read: Callable[[Q, bool], Awaitable[R | None]], query: Q) -> R:
        # ``read(query, True)`` answers None when stale rows wait: recount them, read again.
        found = await read(query, True)
        if found is None:
            await self._recount_stale()
            found = await read(query, False)
        assert found is not None  # read without the check
        return found

    async def _recount_stale(self) -> None:
        """Recount the rows saves marked stale, each from a full load. A row saved again
        between the load and the write is tried again (a few times: a session rewritten
        without pause is listed with the counts it has)."""
        attempts: dict[str, int] = {}
        while True:
            found = await self._stale_summaries(_RECOUNT_BATCH + len(attempts))
            todo = [row for row in found if attempts.get(row[0], 0) < _RECOUNT_TRIES]
            if not todo:
                return
            for session_id, revision in todo:
                attempts[session_id] = attempts.get(session_id, 0) + 1
                try:
                    session = await self.get(session_id)
                except CorruptSessionData:
                    session = None
                if session is None:  # expired, deleted or unreadable: listed as it stands
                    attempts[session_id] = _RECOUNT_TRIES
                    continue
                summary = summary_of(session)
                await self._recount_summary(revision, summary, session.metadata.root_id)
