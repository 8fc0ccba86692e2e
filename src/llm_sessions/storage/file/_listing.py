"""The file store's listings and totals, read from its summary index (see ``_index_rows``):
kept by every write under the session's lock, recounted where a row is stale, rebuilt from
the sessions when the index is missing (a folder written by an older version), unreadable or
left incomplete, and by ``vacuum()``."""

from __future__ import annotations

import json
import os
import time
from abc import abstractmethod
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter

from ...exceptions import CorruptSessionData, EncryptionKeyError, InvalidSessionId
from .._event_log import EventLogStore
from .._fleet_query import SessionPage, SessionQuery, UsageQuery, UsageRow, usage_in
from .._records import build_session
from .._summaries import SessionSummary, summary_of, with_roots
from .._summary_delta import SummaryDelta
from .._sync import WriteBatch
from ._blob_refs import log_refs
from ._format import Log, expired, read_header, stored, updated_at
from ._index import INDEX_NAME, IndexState, SummaryIndex
from ._index_rows import (
    COMPLETE_LINE,
    SummaryUpkeep,
    counts_of_summary,
    full_row,
    gone_row,
    stale_row,
    summary_of_row,
)
from ._io import Files, file_stem, header_files, locked, write_atomically
from ._vacuum import drop_quarantined, quarantine_files, quarantine_path, vacuum_events

__all__ = ["FileSummaries"]

_T = TypeVar("_T")


def _by_update(row: SessionSummary) -> tuple[datetime, str]:
    return row.updated_at, row.id


class FileSummaries(EventLogStore):
    """``session_summaries`` (what ``find_sessions`` and ``usage`` read) from the index, the
    index's upkeep by writes, and ``vacuum``'s file work. An encrypted store writes stale rows
    only and answers by full loads (the base way); a store without the key refuses a listing
    of sealed sessions (their recount cannot open them)."""

    _summary_rows = True
    directory: Path
    _folder: str
    _pending: dict[str, list[WriteBatch]]
    _index: SummaryIndex
    _index_started = False
    _rooted: tuple[list[tuple[SessionSummary, bool]], list[SessionSummary]] | None = None
    _orders: dict[str, list[SessionSummary]]
    """Every summary sorted by each order asked for since the index last changed."""
    _user_orders: dict[str, dict[str, list[SessionSummary]]]
    """The same, split by user (for the orders a query by user asked for)."""

    @abstractmethod
    async def _run(self, work: Callable[..., _T], *args: Any) -> _T:
        """Run ``work(*args)`` in a worker thread."""

    @abstractmethod
    def _files(self, session_id: str) -> Files:
        """The session's paths."""

    async def _blob_refs(self, session_ids: Sequence[str] | None) -> set[str] | None:
        # The logs' lines, as text (see ``SessionStore._blob_refs``); sealed ones need a key.
        if self._cipher.current_id is not None:
            return None
        stems = None if session_ids is None else [file_stem(sid) for sid in session_ids]
        return await self._run(log_refs, self._folder, stems)

    @abstractmethod
    def _refresh(self, files: Files, generation: str, log: Log | None, repair: bool) -> Log:
        """The event log read through its last complete line."""

    async def session_summaries(self) -> list[SessionSummary]:
        """The summary of every stored session, read from the summary index.

        Returns:
            One ``SessionSummary`` per stored session.
        """
        if not self._keeps_summary_rows():
            return await super().session_summaries()
        self._ensure_open()
        found, stale = await self._run(self._indexed)
        if stale:
            found = await self._with_recounts(stale)
        if not self._pending and self._rooted is not None and self._rooted[0] is found:
            return list(self._rooted[1])  # nothing changed since the last listing
        self._orders = {}
        self._user_orders = {}
        rows = [pair for pair in found if pair[0].id not in self._pending]
        for session_id in list(self._pending):  # saves buffered by auto_save=False
            session = await self.get(session_id)
            if session is not None:
                rows.append((summary_of(session), session.metadata.root_id is None))
        rooted = with_roots([row for row, _ in rows], {row.id for row, loose in rows if loose})
        self._rooted = None if self._pending else (found, rooted)
        return list(rooted)

    async def _with_recounts(self, stale: list[str]) -> list[tuple[SessionSummary, bool]]:
        """The summaries once the ``stale`` sessions are recounted. A session another
        process writes meanwhile may be stale again in the second read: its recount (made
        under its lock, so a whole write's worth) stands in for it rather than leaving it out."""
        counted = {}
        for session_id in stale:
            counted[session_id] = await self._run(self._recount, session_id)
        found, still = await self._run(self._index.summaries, time.time())
        if not still:
            return found
        found = list(found)
        for session_id in still:
            row = counted.get(session_id) or await self._run(self._recount, session_id)
            try:
                found.append(summary_of_row(row or {}))
            except (KeyError, TypeError, ValueError):
                continue  # gone, unreadable or kept encrypted: not listed
        return found

    async def _find(self, query: SessionQuery) -> SessionPage:
        """The page, walked from the cursor's place in the summaries sorted by the query's
        order (sorted once per change of the index, not per page), or in the user's own
        sessions so sorted when the query names a user."""
        ordered = await self._ordered(query.key)
        if ordered is None:
            return await super()._find(query)
        user = query.filter.where.get("user_id")
        if isinstance(user, str):
            ordered = self._by_user(query.key, ordered).get(user, [])
        keyset = query.keyset
        if query.descending:
            end = (
                len(ordered)
                if query.after is None
                else bisect_left(ordered, query.after, key=keyset)
            )
            walk: Iterable[SessionSummary] = (ordered[n] for n in range(end - 1, -1, -1))
        else:
            start = 0 if query.after is None else bisect_right(ordered, query.after, key=keyset)
            walk = (ordered[n] for n in range(start, len(ordered)))
        matching = (row for row in walk if query.filter.matches(row))
        return query.page(list(islice(matching, query.limit + 1)))

    async def _usage(self, query: UsageQuery) -> list[UsageRow]:
        """The totals, added up over the summaries updated in the query's time range only."""
        ordered = await self._ordered("updated_at")
        if ordered is None:
            return await super()._usage(query)
        user = query.filter.where.get("user_id")
        if isinstance(user, str):
            ordered = self._by_user("updated_at", ordered).get(user, [])
        since, until = query.filter.since, query.filter.until
        start = 0 if since is None else bisect_left(ordered, (since, ""), key=_by_update)
        end = len(ordered) if until is None else bisect_left(ordered, (until, ""), key=_by_update)
        return usage_in(ordered[start:end], query)

    def _by_user(self, key: str, ordered: list[SessionSummary]) -> dict[str, list[SessionSummary]]:
        """Each user's summaries in ``ordered``'s order (split once per change of the index)."""
        split = self._user_orders.get(key)
        if split is None:
            split = self._user_orders[key] = {}
            for row in ordered:
                if row.user_id is not None:
                    split.setdefault(row.user_id, []).append(row)
        return split

    async def _ordered(self, key: str) -> list[SessionSummary] | None:
        """Every summary in ascending ``key`` order (then id); None when saves are buffered
        (the base way then reads them)."""
        if not self._keeps_summary_rows():
            return None
        rows = await self.session_summaries()
        if self._pending:
            return None
        ordered = self._orders.get(key)
        if ordered is None:
            ordered = self._orders[key] = sorted(rows, key=SessionQuery.checked(order=key).keyset)
        return ordered

    # -- work done in threads ------------------------------------------------------------------

    def _indexed(self) -> tuple[list[tuple[SessionSummary, bool]], list[str]]:
        state = self._index.state()
        if state == IndexState.MISSING and not os.path.isdir(self._folder):
            return [], []  # nothing stored yet
        if state != IndexState.READY:
            self._rebuild_index(state, strict=True)
        return self._index.summaries(time.time())

    def _rebuild_index(self, state: str, strict: bool) -> None:
        """Count every session into a new index, then mark it complete. Writes meanwhile add
        their rows (the index exists before the first session is counted)."""
        if state == IndexState.UNREADABLE:
            self._index.remove(str(quarantine_path(self.directory, INDEX_NAME)))
        self._index.create()
        for _, stem in list(header_files(self._folder)):
            self._recount_files(Files.at(self._folder, stem), None, strict)
        self._mark_complete()

    def _recount(self, session_id: str) -> dict[str, Any] | None:
        try:
            files = self._files(session_id)
        except InvalidSessionId:
            return None  # not a row we wrote
        return self._recount_files(files, session_id, strict=True)

    def _recount_files(
        self, files: Files, session_id: str | None, strict: bool
    ) -> dict[str, Any] | None:
        """Count one session from its files into the index, under its lock (shared), so no
        write lands between the count and the row. ``strict``: a session this store cannot
        open raises ``EncryptionKeyError`` (else it keeps a stale row). Returns the row
        added, if any."""
        if not os.path.exists(files.header):
            self._add_rows(*([] if session_id is None else [gone_row(session_id)]))
            return None
        with locked(files.lock, exclusive=False, timeout=self.timeout):
            try:
                doc = read_header(files.header)
            except CorruptSessionData:
                return None  # vacuum() moves it aside; counted once readable
            if doc is None or expired(doc, time.time()):
                self._add_rows(*([] if session_id is None else [gone_row(session_id)]))
                return None
            row = self._counted_row(files, doc, strict)
            if row is not None:
                self._add_rows(row)
            return row

    def _counted_row(
        self, files: Files, doc: dict[str, Any], strict: bool
    ) -> dict[str, Any] | None:
        """The row of a session counted from a full load: stale if the store keeps no
        summaries, or cannot open it and ``strict`` is off; None if it is unreadable
        (``vacuum()`` moves it aside; it is counted once readable)."""
        if not self._keeps_summary_rows():
            return stale_row(doc["id"])  # nothing in clear
        log = self._refresh(files, doc["generation"], None, repair=False)
        try:
            found = self._cipher.open_session(stored(doc, log, files.header))
            session = build_session(self.session_class, doc["id"], found, self)
        except CorruptSessionData:
            return None
        except EncryptionKeyError:
            if strict:
                raise
            return stale_row(doc["id"])
        return full_row(doc["id"], doc, log, counts_of_summary(summary_of(session)))

    def _add_rows(self, *rows: dict[str, Any]) -> None:
        if not rows:
            return
        with self._index.appending() as index:
            if index is not None:
                for row in rows:
                    index.add(row)

    # -- the index's upkeep by writes (called in threads, under the session's lock) -------------

    @contextmanager
    def _summary_upkeep(
        self, session_id: str, delta: SummaryDelta | None, fresh: bool
    ) -> Iterator[SummaryUpkeep]:
        """The index held for one write (see ``SummaryUpkeep``)."""
        if fresh and not self._index_started:
            self._start_index()
        with self._index.appending() as index:
            yield SummaryUpkeep.begin(index, session_id, delta, fresh)
        if index is None and os.path.exists(self._index.path):
            # Created while this write went on, maybe without counting it: recounted.
            self._add_rows(stale_row(session_id))

    def _start_index(self) -> None:
        """Start the index of a folder that holds no session yet (once per store object; a
        folder with sessions but no index is indexed by its first listing)."""
        self._index_started = True
        if os.path.exists(self._index.path):
            return
        self._index.create()  # first: a session written from now on adds its rows
        if next(header_files(self._folder), None) is None:
            self._mark_complete()

    def _mark_complete(self) -> None:
        with self._index.appending() as index:
            if index is not None:
                index.add_line(COMPLETE_LINE)

    @contextmanager
    def _summary_redone(self, session_id: str, gone: bool = False) -> Iterator[None]:
        """Mark the session for a recount before its files change; with ``gone``, record
        its deletion once they are removed."""
        with self._index.appending() as index:
            if index is not None:
                index.add(stale_row(session_id))
            yield
            if index is not None and gone:
                index.add(gone_row(session_id))

    async def compact(self) -> None:
        """Rewrite the summary index without the rows of deleted sessions, and delete the
        unreadable copies of it that were quarantined (derived data, rebuilt since), so an
        erased session's id and properties are not in the folder's bytes (its files, in the
        quarantine too, are already removed by the erasure)."""
        self._ensure_open()
        await self._run(self._index.compact, True)
        await self._run(drop_quarantined, self.directory, (), (INDEX_NAME,))

    async def _erase_sessions(self, session_ids: Sequence[str]) -> int:
        erased = await super()._erase_sessions(session_ids)
        stems = [file_stem(session_id) for session_id in session_ids]
        await self._run(drop_quarantined, self.directory, stems)
        return erased

    # -- vacuum --------------------------------------------------------------------------------

    def _vacuum_files(self) -> int:
        self._index.remove()  # rebuilt below, from what vacuum leaves
        moved = 0
        event_list: Any = self.session_class.model_fields["events"].annotation
        adapter: TypeAdapter[list[Any]] = TypeAdapter(event_list)
        for _, stem in list(header_files(self._folder)):
            files = Files.at(self._folder, stem)
            with locked(files.lock, exclusive=True, timeout=self.timeout):
                moved += self._vacuum_session(files, adapter)
        if os.path.isdir(self._folder):
            self._rebuild_index(IndexState.MISSING, strict=False)
        return moved

    def _vacuum_session(self, files: Files, adapter: TypeAdapter[list[Any]]) -> int:
        try:
            doc = read_header(files.header)
            if doc is None:
                return 0
            log = self._refresh(files, doc["generation"], None, repair=True)
            header_only = replace(stored(doc, log, str(files.header)), events=[])
            build_session(
                self.session_class, doc["id"], self._cipher.open_session(header_only), self
            )
        except CorruptSessionData:
            return quarantine_files(self.directory, (files.header, files.events))
        if not vacuum_events(self.directory, files.events, adapter):
            return 0
        # The log was rewritten: pin the time the reader derived from its old last line.
        doc["updated_at"] = updated_at(doc, log).isoformat()
        doc["log_offset"] = os.stat(files.events).st_size
        write_atomically(files.header, json.dumps(doc).encode())
        return 1
