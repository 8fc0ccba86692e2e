"""The SQLite store's listings and totals, read from its summary rows."""

from __future__ import annotations

import sqlite3
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from .._fleet_query import SessionPage, SessionQuery, UsageQuery, UsageRow
from .._search_models import SearchHit, SearchPage
from .._search_query import SearchQuery
from .._search_scan import page_of_hits, scope_ids
from .._summaries import SessionSummary
from .._summary_listing import SummaryListing
from ._fleet import find_page, usage_rows
from ._rows import _transaction
from ._search import flush_index, has_pending, search_rows
from ._summary import stale_rows, write_recount

__all__ = ["SQLiteListing"]

_T = TypeVar("_T")


class SQLiteListing(SummaryListing):
    """``SummaryListing``'s reads and recounts on the SQLite store's connection, and
    ``search`` from its FTS5 index."""

    _text_index = True

    @abstractmethod
    async def _run(self, work: Callable[..., _T], *args: Any) -> _T:
        """Run ``work(*args)`` on the connection's thread."""

    @abstractmethod
    def _conn(self) -> sqlite3.Connection:
        """The connection (on its thread)."""

    async def _summary_page(self, query: SessionQuery, if_fresh: bool) -> SessionPage | None:
        def read() -> SessionPage | None:
            conn, now = self._conn(), time.time()
            if if_fresh and stale_rows(conn, 1, now):
                return None
            return find_page(conn, query, now)

        return await self._run(read)

    async def _summary_totals(self, query: UsageQuery, if_fresh: bool) -> list[UsageRow] | None:
        def read() -> list[UsageRow] | None:
            conn, now = self._conn(), time.time()
            if if_fresh and stale_rows(conn, 1, now):
                return None
            return usage_rows(conn, query, now)

        return await self._run(read)

    async def _stale_summaries(self, limit: int) -> list[tuple[str, int]]:
        return await self._run(lambda: stale_rows(self._conn(), limit, time.time()))

    async def _recount_summary(
        self, revision: int, summary: SessionSummary, root: str | None
    ) -> bool:
        def recount() -> bool:
            conn = self._conn()
            with _transaction(conn, "BEGIN IMMEDIATE"):
                return write_recount(conn, revision, summary, root)

        return await self._run(recount)

    async def _search(self, query: SearchQuery) -> SearchPage:
        scope = await scope_ids(self, query)
        if scope == []:
            return SearchPage()
        now = time.time()
        hits = await self._run(lambda: self._search_sync(query, scope, now))
        return page_of_hits(query, hits)

    def _search_sync(
        self, query: SearchQuery, scope: list[str] | None, now: float
    ) -> list[SearchHit]:
        conn = self._conn()
        if has_pending(conn):  # what saves wrote since the last batch, into FTS5 first
            with _transaction(conn, "BEGIN IMMEDIATE"):
                flush_index(conn)
        return search_rows(conn, query, scope, now)
