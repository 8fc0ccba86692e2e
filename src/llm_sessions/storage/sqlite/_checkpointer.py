"""An erasure's checkpoints of the write-ahead log, on a connection and a thread of their own.

A checkpoint copies the log's pages into the database file and syncs both: mostly waiting for
the disk, and it needs no write lock. Run beside the erasure, it overlaps the deletes of the
next transaction instead of lengthening the pause before it; one at a time.
"""

from __future__ import annotations

import asyncio
import sqlite3

from .._worker_thread import WorkerThread

__all__ = ["Checkpointer"]


class Checkpointer:
    """``PRAGMA wal_checkpoint(PASSIVE)`` on a connection of its own, one at a time."""

    def __init__(self, path: str, synchronous: str, timeout: float) -> None:
        self._path, self._synchronous, self._timeout = path, synchronous, timeout
        self._worker = WorkerThread("llm-sessions-sqlite-checkpoint")
        self._connection: sqlite3.Connection | None = None
        self._running: asyncio.Future[int] | None = None
        self._used = False

    def start(self) -> bool:
        """Start a checkpoint unless one is running; whether one started."""
        if self._running is not None and not self._running.done():
            return False
        self._running = asyncio.ensure_future(self._worker.run(self._checkpoint_sync))
        self._used = True
        return True

    def finished(self) -> int | None:
        """How many pages the log held when the last checkpoint ran, once it is done (None
        before, or if SQLite could not tell); later calls return None until the next one."""
        if self._running is None or not self._running.done():
            return None
        running, self._running = self._running, None
        frames = running.result()
        return frames if frames >= 0 else None

    async def wait(self) -> int | None:
        """Wait for the running checkpoint, if any; then as ``finished``."""
        if self._running is not None:
            await asyncio.wait([self._running])
        return self.finished()

    async def close(self) -> None:
        """Wait for the running checkpoint, then close the connection and end the thread."""
        if not self._used:
            return
        try:
            if self._running is not None:
                await self._running
        finally:
            self._running = None
            await self._worker.run(self._close_sync)
            self._worker.stop()

    def _checkpoint_sync(self) -> int:
        if self._connection is None:
            connection = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None)
            # A checkpoint syncs the database file as the store's own connection would.
            connection.execute(f"PRAGMA synchronous = {self._synchronous}")
            self._connection = connection
        (_, frames, _) = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames)

    def _close_sync(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
