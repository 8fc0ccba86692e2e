"""The Redis store's summary rows: read from the summary hashes the write script keeps (see
``redis_summary``), one pipelined read of three small hashes per session, never the events,
and kept in the index of sorted sets (see ``redis_index``). Hashes marked stale, unreadable or
missing (a session stored by an older version) are recounted from a full load and written
back, and the session indexed again, so older databases upgrade in place."""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, TypeVar

from ...exceptions import CorruptSessionData
from ...models._session_metadata import RESERVED_PROPERTIES
from .._event_log import EventLogStore
from .._summaries import SessionSummary, root_ids, summary_of
from ._client import _text
from ._index import INDEX_SCRIPT, READ_SCRIPT, UNINDEX_SCRIPT, index_base, index_values
from ._summary import RECOUNT_SCRIPT, recount_args, stored_summary
from ._vacuum import quarantine_record

__all__ = ["RedisSummaries", "Rows"]

_T = TypeVar("_T")
_BATCH = 500
"""Sessions read per pipelined round trip."""
_PARTS = 3
"""Hashes read per session: meta, props and summary."""
_ROOT = RESERVED_PROPERTIES["root_id"]

Rows = dict[str, tuple[SessionSummary, str]]
"""Summaries read, by session id, each with the revision of its summary hash."""


class RedisSummaries(EventLogStore):
    """The Redis store's summary rows and the upkeep of its index (an encrypted store keeps
    neither and answers listings by full loads, the base way)."""

    _summary_rows = True
    client: Any
    key_prefix: str
    _cluster: bool

    @abstractmethod
    def _pipeline(self) -> Any:
        """A pipeline of the store's client."""

    @abstractmethod
    def _keys(self, session_id: str) -> list[str]:
        """The session's keys, in layout order."""

    @abstractmethod
    async def _call(self, action: str, subject: str, call: Awaitable[_T]) -> _T:
        """``call`` with the store's timeout and error wrapping."""

    def _index_key(self, name: str) -> str:
        return index_base(self.key_prefix) + name

    def _index_arg(self) -> str:
        """What the write script is told of the index (one server or Sentinel): its base when
        the script keeps it, "!" and the base when the session is sealed (it is only marked
        for a recount, which a listing without the key refuses), "" for nothing."""
        if self._cluster or not self._summary_rows:
            return ""
        base = index_base(self.key_prefix)
        return base if self._keeps_summary_rows() else "!" + base

    async def _after_write(self, session_id: str) -> None:
        """On a Cluster, index the session just written (the write script could not)."""
        if not self._cluster or not self._summary_rows:
            return
        if self._keeps_summary_rows():
            await self._read_rows([session_id], reindex=True)
        else:
            call = self.client.sadd(self._index_key("stale"), session_id)
            await self._call("index", session_id, call)

    async def _unindex(self, session_ids: list[str], pipe: Any = None) -> None:
        """Take ``session_ids`` out of the index: queued on ``pipe`` if given, else now."""
        script = self.client.register_script(UNINDEX_SCRIPT)
        call = script(keys=[self._index_key("entries")], args=session_ids, client=pipe)
        if pipe is not None:
            await call
        else:
            await self._call("unindex sessions under", self.key_prefix, call)

    async def _erase_sessions(self, session_ids: Sequence[str]) -> int:
        erased = await super()._erase_sessions(session_ids)
        for start in range(0, len(session_ids), _BATCH):
            await self._drop_quarantined(session_ids[start : start + _BATCH])
        return erased

    async def _drop_quarantined(self, session_ids: Sequence[str]) -> None:
        """Delete the keys ``vacuum`` moved the sessions' data to, as their records name
        them (so no scan of the keyspace), and the records."""
        records = [quarantine_record(self._keys(session_id)) for session_id in session_ids]
        reads = self.client.pipeline(transaction=False)
        for record in records:
            reads.smembers(record)
        named = await self._call("read the quarantine of", records[0], reads.execute())
        deletes = self.client.pipeline(transaction=False)
        for record, keys in zip(records, named, strict=True):
            deletes.delete(*keys, record)
        await self._call("erase the quarantine of", records[0], deletes.execute())

    async def _delete_session(self, session_id: str) -> bool:
        """Delete the session's keys and its index entries (in one transaction on one
        server; on a Cluster the entries are another slot's, taken out right after)."""
        keys = self._keys(session_id)
        pipe = self._pipeline()
        pipe.exists(keys[0])
        pipe.delete(*keys)
        if not self._cluster:  # a Cluster pipeline loads no scripts
            await self._unindex([session_id], pipe)
        existed, *_ = await self._call("delete", session_id, pipe.execute())
        if self._cluster:
            await self._unindex([session_id])
        return bool(existed)

    async def _index(self, entries: list[str]) -> None:
        """Write index entries (``index_values`` of each session, concatenated)."""
        if entries:
            script = self.client.register_script(INDEX_SCRIPT)
            call = script(keys=[self._index_key("entries")], args=entries)
            await self._call("index sessions under", self.key_prefix, call)

    async def session_summaries(self) -> list[SessionSummary]:
        """The summary of every stored session, read from the summary hashes.

        Returns:
            One ``SessionSummary`` per stored session.
        """
        if not self._keeps_summary_rows():
            return await super().session_summaries()
        self._ensure_open()
        rows = await self._read_rows(await self.list_sessions())
        return [row for row, _ in rows.values()]

    async def _read_rows(self, session_ids: Iterable[str], *, reindex: bool = False) -> Rows:
        """The summaries of the sessions still stored among ``session_ids``, with their roots;
        the others are taken out of the index. ``reindex`` writes every row's index entry
        (recounted rows are indexed again either way)."""
        ids = list(session_ids)
        rows: Rows = {}
        loose: set[str] = set()
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            hashes = await self._read_hashes(chunk)
            gone: list[str] = []
            entries: list[str] = []
            for session_id, (meta, props, counts) in zip(chunk, hashes, strict=True):
                found = await self._summary_of(session_id, meta, props, counts) if meta else None
                if found is None:  # deleted or expired since it was indexed
                    gone.append(session_id)
                    continue
                summary, revision, recounted = found
                rows[session_id] = (summary, revision)
                if _ROOT not in props:
                    loose.add(session_id)
                if reindex or recounted:
                    entries += index_values(summary, revision, stale=False)
            # A chunk at a time: a script over the whole database would block the server.
            await self._index(entries)
            if gone:
                await self._unindex(gone)
        await self._find_roots(rows, loose)
        return rows

    async def _read_hashes(self, chunk: list[str]) -> list[tuple[dict[str, str], ...]]:
        """The meta, props and summary hashes of each session of ``chunk`` (empty if gone):
        one script on one server, a pipeline on a Cluster (the sessions' slots differ)."""
        if self._cluster:
            pipe = self.client.pipeline(transaction=False)
            for session_id in chunk:
                keys = self._keys(session_id)
                for key in (keys[0], keys[6], keys[10]):
                    pipe.hgetall(key)
            flat = [
                list(reply.items())
                for reply in await self._call("list summaries of", self.key_prefix, pipe.execute())
            ]
        else:
            script = self.client.register_script(READ_SCRIPT)
            call = script(args=[self.key_prefix, *chunk])
            replies = await self._call("list summaries of", self.key_prefix, call)
            flat = [list(zip(reply[::2], reply[1::2], strict=True)) for reply in replies]
        hashes = [{_text(k): _text(v) for k, v in pairs} for pairs in flat]
        return [tuple(hashes[n : n + _PARTS]) for n in range(0, len(hashes), _PARTS)]

    async def _summary_of(
        self, session_id: str, meta: dict[str, str], props: dict[str, str], counts: dict[str, str]
    ) -> tuple[SessionSummary, str, bool] | None:
        """The session's summary, its revision and whether it was recounted (None if it is
        gone): recounted from a full load when its hash is stale or unreadable."""
        revision = counts.get("rev", "")
        try:
            stored = stored_summary(session_id, meta, props, counts)
            if not stored.stale:
                return stored.summary, revision, False
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
        return summary, revision or "0", True

    async def _find_roots(self, rows: Rows, loose: set[str]) -> None:
        """Give each of ``loose`` (sessions created without a root) the root found through its
        parents, read as far up as they go."""
        parents: dict[str, str | None] = {key: row.parent_id for key, (row, _) in rows.items()}
        known = {key: row.root_id for key, (row, _) in rows.items() if key not in loose}
        wanted = {
            row.parent_id
            for key, (row, _) in rows.items()
            if key in loose and row.parent_id is not None and row.parent_id not in parents
        }
        while wanted:
            pipe = self._pipeline()
            for session_id in wanted:
                keys = self._keys(session_id)
                pipe.hget(keys[0], "parent_id")
                pipe.exists(keys[0])
                pipe.hget(keys[6], _ROOT)
            replies = await self._call("read the parents under", self.key_prefix, pipe.execute())
            found: set[str] = set()
            for n, session_id in enumerate(wanted):
                parent, exists, root = replies[n * 3 : n * 3 + 3]
                if not exists:
                    continue
                parents[session_id] = None if parent is None else _text(parent)
                if root is not None:
                    known[session_id] = _root_of(_text(root), session_id)
                elif parent is not None:
                    found.add(_text(parent))
            wanted = {parent for parent in found if parent not in parents}
        roots = root_ids(parents, known)
        for session_id in loose:
            row, revision = rows[session_id]
            if row.root_id != roots[session_id]:
                rows[session_id] = (row.model_copy(update={"root_id": roots[session_id]}), revision)


def _root_of(stored: str, session_id: str) -> str:
    """The root a stored ``root_id`` property names (the session itself if it is unreadable)."""
    try:
        value = json.loads(stored)
    except ValueError:
        return session_id
    return value if isinstance(value, str) else session_id
