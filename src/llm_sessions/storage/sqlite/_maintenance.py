"""The SQLite store's erasure and compaction: batched deletes and a vacuum that leaves no
erased bytes in the file or its write-ahead log."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Sequence

from .._blobs import BLOB_PREFIX, SEALED_MARK, refs_in_rows
from .._erasure import ChainRow
from ._checkpointer import Checkpointer
from ._corruption import drop_quarantined
from ._erase_pace import ErasePace
from ._listing import SQLiteListing
from ._rows import _transaction
from ._schema import _SESSION_TABLES
from ._search import delete_sessions_index
from ._write_lock import POLL

__all__ = ["SQLiteMaintenance"]

_MATCH_BATCH = 5000
"""Values matched per query by an erasure's reads (no lock: WAL readers wait for no one)."""
_IDS = "SELECT value FROM json_each(?)"
_SYNCED = ("full", "extra")
"""The ``synchronous`` settings that sync the log at every commit."""
_KEYS = ("user_id", "root_id")
"""The summary columns an erasure matches on (indexed)."""


class SQLiteMaintenance(SQLiteListing):
    """``erase`` in short transactions with pauses between them (see ``_erase_pace``), and
    ``compact``."""

    path: str
    synchronous: str
    timeout: float

    async def compact(self) -> None:
        """Rewrite the database without the space deletes freed (``VACUUM``, with
        ``secure_delete`` on) and empty the write-ahead log, so erased data is in neither."""
        self._ensure_open()
        await self._run(self._compact_sync)

    async def _erase_sessions(self, session_ids: Sequence[str]) -> int:
        erased, start, pace = 0, 0, ErasePace()
        checkpoints = Checkpointer(self.path, self.synchronous, self.timeout)
        try:
            while start < len(session_ids):
                chunk = list(session_ids[start : start + pace.size])
                live, held, version = await self._run(self._erase_sync, chunk)
                erased, start = erased + live, start + len(chunk)
                pace.deleted(held)
                if start < len(session_ids):
                    await self._pause(pace, checkpoints, version)
        finally:
            await checkpoints.close()
        await self._run(self._drop_quarantined_sync, set(session_ids))
        return erased

    async def _pause(self, pace: ErasePace, checkpoints: Checkpointer, version: int) -> None:
        """Leave the write lock free between two transactions (see ``_erase_pace``);
        ``version`` is the database's ``data_version`` when the last one committed."""
        released = last_commit = time.monotonic()
        if (frames := checkpoints.finished()) is not None:
            pace.log_held(frames)
        if pace.checkpoint_due() and checkpoints.start():
            pace.checkpoint_started()
        while not pace.pause_over(released, last_commit, began := time.monotonic()):
            await asyncio.sleep(POLL)
            pace.woke(time.monotonic() - began, POLL)
            seen = await self._run(self._version_sync)
            if seen != version:  # another connection committed
                version, last_commit = seen, time.monotonic()

    def _drop_quarantined_sync(self, session_ids: set[str]) -> None:
        # The rows ``vacuum`` moved aside go too (it appends them holding the write lock).
        quarantine = f"{self.path}.quarantine.jsonl"
        if os.path.exists(quarantine):
            conn = self._conn()
            with _transaction(conn, "BEGIN IMMEDIATE"):
                drop_quarantined(quarantine, session_ids)

    async def _blob_refs(self, session_ids: Sequence[str] | None) -> set[str] | None:
        if self._cipher.current_id is not None:
            return None
        if session_ids is None:
            return await self._run(self._blob_refs_sync, "", ())
        found: set[str] = set()
        for start in range(0, len(session_ids), _MATCH_BATCH):
            ids = json.dumps(list(session_ids[start : start + _MATCH_BATCH]))
            named = await self._run(self._blob_refs_sync, f" AND session_id IN ({_IDS})", (ids,))
            if named is None:
                return None
            found |= named
        return found

    def _blob_refs_sync(self, where: str, args: tuple[str, ...]) -> set[str] | None:
        rows = self._conn().execute(
            "SELECT body FROM events WHERE (instr(body, ?) > 0 OR instr(body, ?) > 0)" + where,
            (BLOB_PREFIX, SEALED_MARK, *args),
        )
        return refs_in_rows(body for (body,) in rows)

    async def _rows_where(self, key: str, values: Sequence[str], prefix: str) -> list[ChainRow]:
        if not self._keeps_summary_rows() or key not in _KEYS:
            return await super()._rows_where(key, values, prefix)
        found: list[ChainRow] = []
        for start in range(0, len(values), _MATCH_BATCH):
            chunk = json.dumps(list(values[start : start + _MATCH_BATCH]))
            found.extend(await self._run(self._rows_sync, key, chunk, prefix))
        return found

    def _rows_sync(self, key: str, values: str, prefix: str) -> list[ChainRow]:
        # A session ``vacuum`` set aside whole (its header unreadable) left its owner in
        # ``set_aside``: still its user's, and its quarantined rows go with it.
        rows = self._conn().execute(
            "SELECT id, parent_id, root_id, user_id, event_count FROM sessions"
            f" WHERE {key} IN ({_IDS}) AND substr(id, 1, ?) = ?"
            " AND (expires_at IS NULL OR expires_at > ?)"
            " UNION ALL SELECT id, parent_id, root_id, user_id, event_count FROM set_aside"
            f" WHERE {key} IN ({_IDS}) AND substr(id, 1, ?) = ?",
            (values, len(prefix), prefix, time.time(), values, len(prefix), prefix),
        )
        return [ChainRow(*row) for row in rows]

    def _erase_sync(self, session_ids: list[str]) -> tuple[int, float, int]:
        conn = self._conn()
        conn.execute("PRAGMA secure_delete = ON")
        # Without a sync of the log per batch (the plan on record, kept with a sync, is what
        # makes the erasure last: a batch lost to a power cut is done again by the rerun; the
        # sync that removes the plan makes every earlier batch durable with it).
        lighter = self.synchronous in _SYNCED
        if lighter:
            conn.execute("PRAGMA synchronous = normal")
        # The commit leaves the checkpoint to a pause after it (``_erase_pace``).
        (pages,) = conn.execute("PRAGMA wal_autocheckpoint").fetchone()
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            live, held = self._erase_batch(conn, json.dumps(session_ids))
            return live, held, self._version_sync()
        finally:
            conn.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
            if lighter:
                conn.execute(f"PRAGMA synchronous = {self.synchronous}")

    def _version_sync(self) -> int:
        """``PRAGMA data_version``: changes when another connection commits."""
        return int(self._conn().execute("PRAGMA data_version").fetchone()[0])

    def _erase_batch(self, conn: sqlite3.Connection, ids: str) -> tuple[int, float]:
        """Delete the sessions ``ids`` lists (JSON) in one transaction: how many were live,
        and how long it held the write lock (seconds)."""
        with _transaction(conn, "BEGIN IMMEDIATE"):
            began = time.monotonic()
            (live,) = conn.execute(
                f"SELECT count(*) FROM sessions WHERE id IN ({_IDS})"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (ids, time.time()),
            ).fetchone()
            delete_sessions_index(conn, ids)
            for table in _SESSION_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE session_id IN ({_IDS})", (ids,))
            conn.execute(f"DELETE FROM set_aside WHERE id IN ({_IDS})", (ids,))
            conn.execute(f"DELETE FROM sessions WHERE id IN ({_IDS})", (ids,))
        return int(live), time.monotonic() - began

    def _compact_sync(self) -> None:
        conn: sqlite3.Connection = self._conn()
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
