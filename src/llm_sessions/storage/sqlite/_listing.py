"""The SQLite store's listings and totals, read from its summary rows."""

from __future__ import annotations

import sqlite3
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from ...exceptions import CorruptSessionData
from .._event_log import EventLogStore
from .._fleet_query import SessionPage, SessionQuery, UsageQuery, UsageRow
from .._summaries import SessionSummary, summary_of
from ._fleet import find_page, usage_rows
from ._rows import _transaction
from ._summary import stale_rows, write_recount

__all__ = ["SummaryListing"]

_T = TypeVar("_T")
_RECOUNT_BATCH = 500
_RECOUNT_TRIES = 3


class SummaryListing(EventLogStore):
    """``find_sessions`` and ``usage`` answered in SQL from the summary rows that every save
    keeps (see ``_summary``). Rows a save marked stale are recounted from full loads first.
    An encrypted store keeps no summary rows and answers by full loads (the base way)."""

    _summary_rows = True

    @abstractmethod
    async def _run(self, work: Callable[..., _T], *args: Any) -> _T:
        """Run ``work(*args)`` on the connection's thread."""

    @abstractmethod
    def _conn(self) -> sqlite3.Connection:
        """The connection (on its thread)."""

    async def _find(self, query: SessionQuery) -> SessionPage:
        if not self._keeps_summary_rows():
            return await super()._find(query)
        self._ensure_open()
        await self._recount_stale()
        return await self._run(lambda: find_page(self._conn(), query, time.time()))

    async def _usage(self, query: UsageQuery) -> list[UsageRow]:
        if not self._keeps_summary_rows():
            return await super()._usage(query)
        self._ensure_open()
        await self._recount_stale()
        return await self._run(lambda: usage_rows(self._conn(), query, time.time()))

    async def _recount_stale(self) -> None:
        """Recount the rows saves marked stale, each from a full load. A row saved again
        between the load and the write is tried again (a few times: a session rewritten
        without pause is listed with the counts it has)."""
        attempts: dict[str, int] = {}
        while True:
            found = await self._run(
                lambda: stale_rows(self._conn(), _RECOUNT_BATCH + len(attempts))
            )
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
                await self._run(
                    self._write_recount, revision, summary_of(session), session.metadata.root_id
                )

    def _write_recount(self, revision: int, summary: SessionSummary, root: str | None) -> bool:
        conn = self._conn()
        with _transaction(conn, "BEGIN IMMEDIATE"):
            return write_recount(conn, revision, summary, root)
