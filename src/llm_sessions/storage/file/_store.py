"""Sessions kept as files: a small JSON header and an append-only JSON-lines event log each.

Per session, in the store's folder (``<name>`` is the id itself, or ``~`` and the id's SHA-256
when the id is too long for a file name or starts with ``~``)::

    <name>.json          the header; replaced atomically (temporary file, fsync, os.replace)
    <name>.events.jsonl  one event JSON per line, appended; a later line whose id is already
                         in the file is an edit, applied at the first line's position
    <name>.lock          flock'ed: exclusively by writers, shared by readers
    quarantine/          unreadable data moved aside by ``vacuum()`` or a writer

File work runs in worker threads, never on the event loop. Ids are compared byte for byte, so
on a case-insensitive file system ids that differ only in case would share files. What the files
hold is in ``file_format``; locks, atomic writes and appends are in ``file_io``.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, Unpack

from ...exceptions import (
    CorruptSessionData,
    SessionAlreadyExists,
    SessionNotFound,
    StorageError,
)
from ...models._session import Session
from ...validation import validate_id, validate_seconds
from .._base import StoreState
from .._event_page import EventPage
from .._options import StoreOptionArgs, StoreOptions
from .._prefix import check_prefix
from .._records import StoredPage, StoredSession
from .._reseal import SealedSwap, swap_into
from .._sync import WriteBatch
from ._format import (
    Log,
    ReadHeader,
    apply_in_memory,
    expired,
    merge_header,
    new_header,
    read_header,
    read_header_file,
    stored,
    updated_at,
)
from ._index import SummaryIndex
from ._index_rows import SummaryUpkeep
from ._io import Files, append, file_stem, header_files, locked, unlink, write_atomically
from ._listing import FileSummaries
from ._vacuum import quarantine_path

__all__ = ["FileSessionStore", "create_file_session_store"]

logger = logging.getLogger("llm_sessions.storage")

_T = TypeVar("_T")


class FileSessionStore(FileSummaries):
    """Sessions as files in ``directory``: appends never rewrite a session, several processes
    can write one session at once, and a retried save never duplicates an event.

    With ``auto_save=False`` saves are kept in memory (``get`` sees them) until ``flush()``
    or ``close()``. ``fsync`` (default True) makes every acknowledged append survive a power
    loss; without it an append survives a crash of the process but not of the machine.
    ``timeout`` bounds how long an operation waits for another process's lock.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        session_class: type[Session[Any]] = Session,
        auto_save: bool = True,
        expiration_seconds: float | None = None,
        *,
        fsync: bool = True,
        cache_size: int = 32,
        **options: Unpack[StoreOptionArgs],
    ) -> None:
        if os.name != "posix":
            raise StorageError("FileSessionStore needs a POSIX system (fcntl.flock)")
        super().__init__(StoreOptions(session_class, expiration_seconds, **options))
        self.directory = Path(directory)
        self._folder = os.fspath(directory)
        self.auto_save = auto_save
        self.fsync = fsync
        self._cache_size = cache_size
        self._logs: OrderedDict[str, Log] = OrderedDict()
        self._pending: dict[str, list[WriteBatch]] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._index = SummaryIndex(self._folder, self.timeout)
        self._orders = {}
        self._user_orders = {}

    # -- public API ----------------------------------------------------------------------------

    async def delete(self, session_id: str) -> bool:
        validate_id(session_id)
        self._ensure_open()
        dropped = self._pending.pop(session_id, None) is not None
        async with self._lock_for(session_id):
            self._logs.pop(session_id, None)
            return await self._run(self._delete_files, session_id) or dropped

    async def list_sessions(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        self._ensure_open()
        found = set(await self._run(self._list_files, prefix))
        found.update(sid for sid in self._pending if sid.startswith(prefix))
        return sorted(found)

    async def set_expiration(self, session_id: str, seconds: float | None) -> bool:
        validate_id(session_id)
        self._ensure_open()
        seconds = validate_seconds(seconds, "seconds")
        await self._flush_session(session_id)
        async with self._lock_for(session_id):
            return await self._run(self._set_expiry, session_id, seconds)

    async def flush(self) -> None:
        """Write the saves buffered by ``auto_save=False``, oldest first."""
        self._ensure_open()
        for session_id in list(self._pending):
            await self._flush_session(session_id)

    async def clear_cache(self) -> None:
        """Forget what was read of the event files (they are re-read on next use)."""
        self._ensure_open()
        self._logs.clear()

    async def vacuum(self) -> int:
        """Move unreadable data into ``quarantine/``; returns how many files were affected.

        A session whose header cannot be read has its header and event file moved; unreadable
        lines of an event file are moved to a ``.bad`` file and the log keeps the rest.
        """
        self._ensure_open()
        await self.flush()
        await self.clear_cache()
        return await self._run(self._vacuum_files)

    async def close(self) -> None:
        """Write any buffered saves, then close the store (idempotent)."""
        if self._pending and self.state is StoreState.OPEN:
            await self.flush()
        await super().close()

    # -- EventLogStore -------------------------------------------------------------------------

    async def _read(self, session_id: str) -> StoredSession | None:
        found = await self._read_log(session_id)
        return None if found is None else stored(found[0], found[1], self._location(session_id))

    async def _read_since(
        self, session_id: str, after: str | None, header_tag: str | None = None
    ) -> StoredSession | None:
        found = await self._read_log(session_id)
        if found is None:
            return None
        doc, log = found
        start, _ = EventPage(after=after).bounds(log.index, len(log.lines), session_id)
        return stored(doc, log, self._location(session_id), start, known_tag=header_tag)

    async def _read_page(self, session_id: str, page: EventPage) -> StoredPage | None:
        found = await self._read_log(session_id)
        if found is None:
            return None
        log = found[1]
        start, end = page.bounds(log.index, len(log.lines), session_id)
        rows = log.lines[start:end]
        if page.newest_first:
            rows.reverse()
        return StoredPage(rows, self._location(session_id))

    async def _read_log(self, session_id: str) -> tuple[dict[str, Any], Log] | None:
        """The header document and the event log brought up to date (reading only what was
        appended since this store last looked), with buffered saves applied."""
        async with self._lock_for(session_id):  # a worker thread may update the cached log
            found = await self._run(self._read_files, session_id, self._logs.get(session_id))
            if found is not None:
                self._remember(session_id, found[1])
            pending = self._pending.get(session_id)
            if pending:
                doc, log = found if found is not None else (None, Log(""))
                working = log.copy()
                working.header = None  # the buffered saves change the header read
                found = apply_in_memory(session_id, copy.deepcopy(doc), working, pending)
            return found

    async def _write(self, batch: WriteBatch) -> None:
        validate_id(batch.session_id)
        if self.auto_save:
            await self._write_now(batch)
        else:
            self._pending.setdefault(batch.session_id, []).append(batch)

    async def _swap_sealed(self, session_id: str, swaps: list[SealedSwap]) -> None:
        await self._flush_session(session_id)  # saves not yet written go first
        async with self._lock_for(session_id):
            await self._run(self._swap_files, session_id, swaps)

    # -- plumbing ------------------------------------------------------------------------------

    async def _flush_session(self, session_id: str) -> None:
        batches = self._pending.get(session_id, [])
        while batches:
            await self._write_now(batches[0])
            batches.pop(0)  # only once written: a failed flush can be retried
        self._pending.pop(session_id, None)

    async def _write_now(self, batch: WriteBatch) -> None:
        async with self._lock_for(batch.session_id):
            log = await self._run(self._write_files, batch, self._logs.get(batch.session_id))
            self._remember(batch.session_id, log)

    async def _run(self, work: Callable[..., _T], *args: Any) -> _T:
        try:
            return await asyncio.to_thread(work, *args)
        except OSError as exc:
            raise StorageError(f"File store {self.directory}: {exc}") from exc

    def _lock_for(self, session_id: str) -> asyncio.Lock:
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = asyncio.Lock()
        return lock

    def _remember(self, session_id: str, log: Log) -> None:
        self._logs[session_id] = log
        self._logs.move_to_end(session_id)
        while len(self._logs) > self._cache_size:
            self._logs.popitem(last=False)

    def _location(self, session_id: str) -> str:
        return str(self._files(session_id).header)

    def _files(self, session_id: str) -> Files:
        validate_id(session_id)  # again here: no path is ever built from an unchecked id
        return Files.at(self._folder, file_stem(session_id))

    # -- work done in threads ------------------------------------------------------------------

    def _refresh(self, files: Files, generation: str, log: Log | None, repair: bool) -> Log:
        """Read the lines appended since ``log`` was last brought up to date."""
        if log is None or log.generation != generation:
            log = Log(generation)
        try:
            seen = os.stat(files.events)
            if seen.st_ino == log.inode and seen.st_size == log.offset:
                return log  # nothing new (the common case for this store's own writes)
            handle = open(files.events, "rb")
        except FileNotFoundError:
            return Log(generation)
        with handle:
            inode = os.fstat(handle.fileno()).st_ino
            if inode != log.inode:
                log = Log(generation, inode)
            handle.seek(log.offset)
            data = handle.read()
        end = data.rfind(b"\n") + 1
        if end:
            log.consume(data[:end].decode("utf-8", "surrogateescape").split("\n"))
            log.offset += end
        if repair and end < len(data):
            self._quarantine_torn_tail(files.events, log.offset, data[end:])
        return log

    def _quarantine_torn_tail(self, path: str, offset: int, tail: bytes) -> None:
        # Only called under the exclusive lock: no live writer can be mid-append.
        target = quarantine_path(self.directory, os.path.basename(path) + f".torn-{offset}")
        target.write_bytes(tail)
        os.truncate(path, offset)
        logger.warning(
            "Incomplete last line of %s (a crash mid-append?): %d bytes moved to %s",
            path,
            len(tail),
            target,
        )

    def _read_files(self, session_id: str, log: Log | None) -> tuple[dict[str, Any], Log] | None:
        files = self._files(session_id)
        if not os.path.exists(files.header):
            return None
        with locked(files.lock, exclusive=False, timeout=self.timeout):
            found = read_header_file(files.header, None if log is None else log.header)
            if found is None or expired(found.doc, time.time()):
                return None
            log = self._refresh(files, found.doc["generation"], log, repair=False)
            log.header = found
            return found.doc, log

    def _write_files(self, batch: WriteBatch, log: Log | None) -> Log:
        files = self._files(batch.session_id)
        with locked(files.lock, exclusive=True, timeout=self.timeout):
            found = read_header_file(files.header, None if log is None else log.header)
            if found is not None and expired(found.doc, time.time()):
                found = None
            if found is not None and batch.must_exist is False:
                raise SessionAlreadyExists(batch.session_id)  # a new object over a stored one
            if found is None and batch.must_exist:
                raise SessionNotFound(batch.session_id)  # deleted elsewhere: stays deleted
            with self._summary_upkeep(batch.session_id, batch.summary, found is None) as upkeep:
                return self._write_batch(files, batch, found, log, upkeep)

    def _write_batch(
        self,
        files: Files,
        batch: WriteBatch,
        found: ReadHeader | None,
        log: Log | None,
        upkeep: SummaryUpkeep,
    ) -> Log:
        if found is None:
            # Expired, or left behind by a delete that crashed: a new session starts empty.
            unlink(files.events)
            doc = new_header(batch.session_id, batch.header)
        else:
            # Reads of the same bytes share the parsed document: a change needs a copy.
            doc = found.doc if batch.header.unchanged() else found.private(files.header)
        log = self._refresh(files, doc["generation"], log, repair=True)
        upkeep.log_read(log)
        current = updated_at(doc, log)
        changed = merge_header(doc, batch.header) or found is None
        lines = log.plan(batch)
        if lines:
            data = "".join(line + "\n" for line in lines).encode()
            if data.count(b"\n") != len(lines):
                raise StorageError("an event's JSON must not contain a raw newline")
            log.inode = append(files.events, data, self.fsync)
            log.consume(lines)
            log.offset += len(data)
        # The header is rewritten only when it must be: an append whose event carries the
        # session's new updated_at leaves the header alone (the reader derives that time
        # from the last line), so a plain append costs one write, not two.
        target = max(current, batch.header.updated_at)
        if changed or self.expiration_seconds is not None or updated_at(doc, log) != target:
            if found is not None and doc is found.doc:
                doc = found.private(files.header)
            doc["updated_at"] = target.isoformat()
            doc["log_offset"] = log.offset
            if self.expiration_seconds is not None:
                doc["expires_at"] = time.time() + self.expiration_seconds
            raw = json.dumps(doc).encode()
            write_atomically(files.header, raw)
            log.header = ReadHeader(raw, doc, uuid.uuid4().hex)
        else:
            log.header = found
        upkeep.finish(doc, log, len(lines))
        return log

    def _swap_files(self, session_id: str, swaps: list[SealedSwap]) -> None:
        files = self._files(session_id)
        if not os.path.exists(files.header):
            return
        with locked(files.lock, exclusive=True, timeout=self.timeout):
            doc = read_header(files.header)
            if doc is None or expired(doc, time.time()):
                return
            applied = [swap_into(doc[swap.place], swap) for swap in swaps]  # every swap tried
            if any(applied):
                with self._summary_redone(session_id):
                    write_atomically(files.header, json.dumps(doc).encode())

    def _delete_files(self, session_id: str) -> bool:
        files = self._files(session_id)
        if not (os.path.exists(files.header) or os.path.exists(files.events)):
            return False
        with locked(files.lock, exclusive=True, timeout=self.timeout):
            try:
                doc = read_header(files.header)
                existed = doc is not None and not expired(doc, time.time())
            except CorruptSessionData:
                existed = True
            # The log first: a crash between the two leaves a header with no events, never
            # events that a new session of this id could inherit.
            with self._summary_redone(session_id, gone=True):
                removed = unlink(files.events, files.header)
            unlink(files.lock)  # waiters notice the unlinked lock file and retry
        return existed and removed

    def _set_expiry(self, session_id: str, seconds: float | None) -> bool:
        files = self._files(session_id)
        if not os.path.exists(files.header):
            return False
        with locked(files.lock, exclusive=True, timeout=self.timeout):
            doc = read_header(files.header)
            now = time.time()
            if doc is None or expired(doc, now):
                return False
            doc["expires_at"] = None if seconds is None else now + seconds
            with self._summary_redone(session_id):
                write_atomically(files.header, json.dumps(doc).encode())
        return True

    def _list_files(self, prefix: str) -> list[str]:
        found: list[str] = []
        now = time.time()
        for path, stem in header_files(self._folder):
            if not stem.startswith("~") and not stem.startswith(prefix):
                continue
            try:
                doc = read_header(path)
            except CorruptSessionData:
                if not stem.startswith("~"):
                    found.append(stem)  # still there, and ``delete`` can remove it
                continue
            if doc is None or expired(doc, now):
                continue
            session_id = stem if not stem.startswith("~") else str(doc.get("id", ""))
            if session_id.startswith(prefix):
                found.append(session_id)
        return found


async def create_file_session_store(
    directory: str | os.PathLike[str], **kwargs: Any
) -> FileSessionStore:
    """A ``FileSessionStore`` on ``directory`` (keyword arguments as for the class)."""
    return FileSessionStore(directory, **kwargs)
