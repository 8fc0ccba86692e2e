"""``find_sessions`` and ``usage`` on Redis, read from the summary hashes the write script
keeps (see ``redis_summary``): one pipelined read of three small hashes per session, never
the events. Hashes marked stale, unreadable or missing (a session stored by an older version)
are recounted from a full load and written back, so older databases upgrade in place."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable
from typing import Any, TypeVar

from ...exceptions import CorruptSessionData
from ...models._session_metadata import RESERVED_PROPERTIES
from .._event_log import EventLogStore
from .._summaries import SessionSummary, summary_of, with_roots
from ._client import _text
from ._summary import RECOUNT_SCRIPT, recount_args, stored_summary

__all__ = ["RedisSummaries"]

_T = TypeVar("_T")
_BATCH = 500
"""Sessions read per pipelined round trip."""
_PARTS = 3
"""Hashes read per session: meta, props and summary."""


class RedisSummaries(EventLogStore):
    """The Redis store's listings and totals, answered from its summary hashes (an encrypted
    store keeps none and answers by full loads, the base way)."""

    _summary_rows = True
    client: Any
    key_prefix: str

    @abstractmethod
    def _pipeline(self) -> Any:
        """A pipeline of the store's client."""

    @abstractmethod
    def _keys(self, session_id: str) -> list[str]:
        """The session's keys, in layout order."""

    @abstractmethod
    async def _call(self, action: str, subject: str, call: Awaitable[_T]) -> _T:
        """``call`` with the store's timeout and error wrapping."""

    async def session_summaries(self) -> list[SessionSummary]:
        """The summary of every stored session, read from the summary hashes.

        Returns:
            One ``SessionSummary`` per stored session.
        """
        if not self._keeps_summary_rows():
            return await super().session_summaries()
        self._ensure_open()
        ids = await self.list_sessions()
        rows: list[SessionSummary] = []
        loose: set[str] = set()
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            pipe = self._pipeline()
            for session_id in chunk:
                keys = self._keys(session_id)
                for key in (keys[0], keys[6], keys[10]):
                    pipe.hgetall(key)
            replies = await self._call("list summaries of", self.key_prefix, pipe.execute())
            for n, session_id in enumerate(chunk):
                meta, props, counts = (
                    {_text(k): _text(v) for k, v in reply.items()}
                    for reply in replies[n * _PARTS : (n + 1) * _PARTS]
                )
                if not meta:  # deleted or expired since it was listed
                    continue
                found = await self._summary_of(session_id, meta, props, counts)
                if found is not None:
                    rows.append(found[0])
                    if found[1]:
                        loose.add(session_id)
        return with_roots(rows, loose)

    async def _summary_of(
        self, session_id: str, meta: dict[str, str], props: dict[str, str], counts: dict[str, str]
    ) -> tuple[SessionSummary, bool] | None:
        """The session's summary and whether it names no root (None if it is gone), recounted
        from a full load when its hash is stale or unreadable."""
        revision = counts.get("rev", "")
        try:
            stored = stored_summary(session_id, meta, props, counts)
            if not stored.stale:
                return stored.summary, RESERVED_PROPERTIES["root_id"] not in props
        except (KeyError, ValueError):
            pass
        try:
            session = await self.get(session_id)
        except CorruptSessionData:
            return None  # vacuum() moves it aside; listed once readable
        if session is None:
            return None
        summary = summary_of(session)
        keys = self._keys(session_id)
        recount = self.client.register_script(RECOUNT_SCRIPT)
        call = recount(keys=[keys[0], keys[10]], args=recount_args(revision, summary))
        await self._call("recount the summary of", session_id, call)
        return summary, session.metadata.root_id is None
