"""The file store's summary index file: appended to under a shared flock, read incrementally,
compacted under an exclusive one. What its rows hold is in ``_index_rows``.

Writers hold the file's flock shared while they append (``appending``), so appends from many
processes interleave as whole lines; a compaction holds it exclusively, writes the newest row
of each session to a new file and replaces the old one (a writer that waited on the old file
notices the new one and appends there). This object keeps what it has read of the file (the
newest row per session) and reads only what was appended since.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ...exceptions import StorageError
from .._summaries import SessionSummary
from ._index_rows import COMPLETE_LINE, VERSION_LINE, row_line, summary_of_row
from ._io import flock_until, unlink, write_atomically

__all__ = ["INDEX_NAME", "Appender", "IndexState", "SummaryIndex"]

logger = logging.getLogger("llm_sessions.storage")

INDEX_NAME = "summaries.jsonl"
_MIN_COMPACT_BYTES = 1 << 20
"""An index is compacted once it is this large and over twice the size of its newest rows."""
_COMPACT_WAIT = 0.05
"""Seconds a compaction waits for appenders to let go; it is skipped (tried later) if not."""
_VERSION = json.loads(VERSION_LINE)


class IndexState:
    """What a read found of the index file."""

    MISSING = "missing"
    UNREADABLE = "unreadable"
    INCOMPLETE = "incomplete"
    READY = "ready"


class SummaryIndex:
    """The index file of one store folder, and what this store object has read of it. Its
    methods do file work: call them in worker threads (they may run in several at once)."""

    def __init__(self, folder: str, timeout: float) -> None:
        self.path = os.path.join(folder, INDEX_NAME)
        self.timeout = timeout
        self._mutex = threading.Lock()
        self._built: dict[str, tuple[bytes, SessionSummary, bool]] = {}
        self._version = 0
        """Counts the changes of what was read: a listing of an unchanged index is reused."""
        self._listed: tuple[int, float, list[tuple[SessionSummary, bool]], list[str]] | None = None
        self._forget(-1)

    def _forget(self, inode: int) -> None:
        self._version += 1
        self._inode = inode
        self._offset = 0
        self._lines: dict[str, bytes] = {}
        self._rows: dict[str, dict[str, Any]] = {}
        self._live = 0
        self._readable = True
        self._complete = False
        self._versioned = False

    # -- reading -------------------------------------------------------------------------------

    def state(self) -> str:
        """Read what was appended since the last look; the index's state."""
        with self._mutex:
            if not self._read_on():
                return IndexState.MISSING
            if not self._readable:
                return IndexState.UNREADABLE
            return IndexState.READY if self._complete else IndexState.INCOMPLETE

    def _read_on(self) -> bool:
        """Catch up with the file (the mutex is held); False if there is none."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self._forget(-1)
            return False
        try:
            self._catch_up(fd)
        finally:
            os.close(fd)
        return True

    def summaries(self, now: float) -> tuple[list[tuple[SessionSummary, bool]], list[str]]:
        """The summary of each session whose newest row is full (and whether it names no
        root), and the ids of those to recount. Expired and deleted sessions are left out.
        While the index is unchanged and no listed session expires, the same list is
        returned."""
        with self._mutex:
            self._read_on()
            listed = self._listed
            if listed is not None and listed[0] == self._version and now < listed[1]:
                return listed[2], listed[3]
            found, stale, next_expiry = self._summaries(now)
            self._listed = (self._version, next_expiry, found, stale)
            return found, stale

    def _summaries(self, now: float) -> tuple[list[tuple[SessionSummary, bool]], list[str], float]:
        found: list[tuple[SessionSummary, bool]] = []
        stale: list[str] = []
        next_expiry = float("inf")
        built = {}
        for session_id, row in self._rows.items():
            if "gone" in row:
                continue
            expires = row.get("expires_at")
            if expires is not None:
                if expires <= now:
                    continue
                next_expiry = min(next_expiry, expires)
            line = self._lines[session_id]
            known = self._built.get(session_id)
            if known is None or known[0] is not line:
                try:
                    summary, loose = summary_of_row(row)
                except (KeyError, TypeError, ValueError):
                    stale.append(session_id)  # a stale row, or one we cannot read
                    continue
                known = (line, summary, loose)
            built[session_id] = known
            found.append(known[1:])
        self._built = built
        return found, stale, next_expiry

    def _catch_up(self, fd: int) -> None:
        """Read the lines appended to ``fd`` since the last look (the mutex is held)."""
        seen = os.fstat(fd)
        if seen.st_ino != self._inode or seen.st_size < self._offset:
            self._forget(seen.st_ino)
        if seen.st_size == self._offset:
            return
        data = os.pread(fd, seen.st_size - self._offset, self._offset)
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines(keepends=True):
            self._consume(line)
        self._offset += end

    def _consume(self, line: bytes) -> None:
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if not self._versioned:
            self._versioned = True
            self._readable = row == _VERSION
        if not isinstance(row, dict):
            return  # torn by a crash: the rows around it tell what to recount
        session_id = row.get("id")
        if isinstance(session_id, str):
            self._keep(session_id, row, line)
        elif row.get("complete") == 1:
            self._complete = True

    def _keep(self, session_id: str, row: dict[str, Any], line: bytes) -> None:
        old = self._lines.get(session_id)
        if old is not None and "gone" not in self._rows[session_id]:
            self._live -= len(old)
        self._version += 1
        self._rows[session_id] = row
        self._lines[session_id] = line
        if "gone" not in row:
            self._live += len(line)

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def appending(self) -> Iterator[Appender | None]:
        """Hold the index for appends (None: there is no index, nothing to keep)."""
        opened = self._open_locked(fcntl.LOCK_SH, self.timeout)
        if opened is None:
            yield None
            return
        fd, inode = opened
        appender = Appender(self, fd, inode)
        try:
            yield appender
        finally:
            os.close(fd)
        if appender.end > max(_MIN_COMPACT_BYTES, 2 * self._live):
            self.compact()

    def _open_locked(self, operation: int, timeout: float) -> tuple[int, int] | None:
        """The index file opened for appends and flock'ed, and its inode; None if there is
        no index."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
            except FileNotFoundError:
                return None
            try:
                flock_until(fd, operation, deadline, self.path, timeout)
                inode = os.fstat(fd).st_ino
                if inode == os.stat(self.path).st_ino:
                    return fd, inode
            except FileNotFoundError:
                pass
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # replaced by a compaction meanwhile: append to the new file

    def create(self) -> None:
        """Create an index with no rows, unless there is one."""
        temporary = f"{self.path}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temporary, "xb") as handle:
                handle.write(VERSION_LINE)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, self.path)
        except FileExistsError:
            pass
        finally:
            unlink(temporary)

    def remove(self, quarantine: str | None = None) -> None:
        """Take the index away (to ``quarantine`` if given) once no writer appends to it."""
        opened = self._open_locked(fcntl.LOCK_EX, self.timeout)
        if opened is None:
            return
        try:
            if quarantine is None:
                unlink(self.path)
            else:
                os.replace(self.path, quarantine)
                logger.warning("Unreadable summary index moved to %s", quarantine)
        finally:
            os.close(opened[0])
        with self._mutex:
            self._forget(-1)

    def compact(self, force: bool = False) -> None:
        """Rewrite the index with the newest row of each session (skipped if appenders keep
        it busy: the next append tries again). Without ``force`` only once it has grown to
        twice its live rows; with it always, so that deleted sessions' rows leave the file."""
        try:
            opened = self._open_locked(fcntl.LOCK_EX, _COMPACT_WAIT)
        except StorageError:
            return
        if opened is None:
            return
        fd = opened[0]
        try:
            with self._mutex:
                self._catch_up(fd)
                small = self._offset <= max(_MIN_COMPACT_BYTES, 2 * self._live)
                if not self._readable or (small and not force):
                    return
                kept = [line for sid, line in self._lines.items() if "gone" not in self._rows[sid]]
                head = VERSION_LINE + (COMPLETE_LINE if self._complete else b"")
                data = head + b"".join(kept)
                write_atomically(self.path, data)
                self._rows = {sid: row for sid, row in self._rows.items() if "gone" not in row}
                self._lines = {sid: self._lines[sid] for sid in self._rows}
                self._inode = os.stat(self.path).st_ino
                self._offset = len(data)
        finally:
            os.close(fd)


class Appender:
    """Appends to the index while its flock is held (see ``SummaryIndex.appending``)."""

    def __init__(self, index: SummaryIndex, fd: int, inode: int) -> None:
        self._index = index
        self._fd = fd
        self._inode = inode
        self.end = 0
        """Where the file ended after this object's last append."""

    def newest(self, session_id: str) -> dict[str, Any] | None:
        """The session's newest row in the file."""
        index = self._index
        with index._mutex:
            index._catch_up(self._fd)
            return index._rows.get(session_id)

    def add(self, row: dict[str, Any]) -> None:
        """Append ``row``."""
        self.add_line(row_line(row), row)

    def add_line(self, line: bytes, row: dict[str, Any] | None = None) -> None:
        """Append one line (whole, in one write); ``row`` is what it holds, if known."""
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view) :]
        self.end = os.lseek(self._fd, 0, os.SEEK_CUR)
        index = self._index
        with index._mutex:
            if index._inode == self._inode and index._offset == self.end - len(line):
                if row is None:
                    index._consume(line)
                else:
                    index._keep(row["id"], row, line)
                index._offset = self.end
