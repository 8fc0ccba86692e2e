"""Event vectors in the table ``llm_sessions_vectors`` of a SQLite store's file.

Beside it, ``llm_sessions_vector_versions`` holds a number per session that every write of
its vectors bumps in the same transaction (what a reader keeping vectors checks). Both are
created on first use (a file written by an older version gets them then), and are read and
written through a connection of their own, in a thread (reads take no lock).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from .._vectors import EventFacts, Key, Loaded, VectorBackend, VectorRow, stack

__all__ = ["SQLiteVectors"]

_T = TypeVar("_T")
_TABLE = (
    "CREATE TABLE IF NOT EXISTS llm_sessions_vectors (session_id TEXT NOT NULL, "
    "event_id TEXT NOT NULL, model TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL, "
    "UNIQUE (session_id, event_id))"
)
_VERSIONS = (
    "CREATE TABLE IF NOT EXISTS llm_sessions_vector_versions "
    "(session_id TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)
_BUMP = (
    "INSERT INTO llm_sessions_vector_versions VALUES (?, 1) "
    "ON CONFLICT (session_id) DO UPDATE SET version = version + 1"
)
_CHUNK = 500


class SQLiteVectors(VectorBackend):
    """The vectors of the SQLite store at ``path``, through a connection of their own."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _run(self, work: Callable[[sqlite3.Connection], _T], write: bool) -> _T:
        with self._lock:
            if self._connection is None:
                connection = sqlite3.connect(
                    self.path, timeout=10, isolation_level=None, check_same_thread=False
                )
                connection.execute(_TABLE)
                connection.execute(_VERSIONS)
                self._connection = connection
            connection = self._connection
            if not write:
                return work(connection)  # one read transaction per statement
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = work(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result

    async def _call(self, work: Callable[[sqlite3.Connection], _T], write: bool = False) -> _T:
        return await asyncio.to_thread(self._run, work, write)

    async def close(self) -> None:
        """Close the connection (the store keeps its own)."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    async def put(self, session_id: str, rows: Sequence[VectorRow]) -> None:
        values = [(session_id, r.event_id, r.model, r.dim, r.data) for r in rows]
        sql = "INSERT OR REPLACE INTO llm_sessions_vectors VALUES (?, ?, ?, ?, ?)"

        def work(connection: sqlite3.Connection) -> None:
            connection.executemany(sql, values).close()  # no cursor outlives the lock
            connection.execute(_BUMP, (session_id,)).close()

        await self._call(work, write=True)

    async def drop(self, session_id: str, event_ids: Sequence[str] | None = None) -> int:
        def work(connection: sqlite3.Connection) -> int:
            if event_ids is None:
                sql = "DELETE FROM llm_sessions_vector_versions WHERE session_id = ?"
                connection.execute(sql, (session_id,)).close()
                sql = "DELETE FROM llm_sessions_vectors WHERE session_id = ?"
                return connection.execute(sql, (session_id,)).rowcount
            connection.execute(_BUMP, (session_id,)).close()
            sql = "DELETE FROM llm_sessions_vectors WHERE session_id = ? AND event_id = ?"
            return sum(connection.execute(sql, (session_id, e)).rowcount for e in event_ids)

        return await self._call(work, write=True)

    async def event_ids(self, session_id: str, model: str | None = None) -> set[str]:
        sql = "SELECT event_id, model FROM llm_sessions_vectors WHERE session_id = ?"
        rows = await self._call(lambda c: c.execute(sql, (session_id,)).fetchall())
        return {event_id for event_id, made_by in rows if model is None or made_by == model}

    async def load(self, session_ids: Sequence[str], model: str, dim: int) -> Loaded:
        def work(connection: sqlite3.Connection) -> list[Any]:
            found: list[Any] = []
            for start in range(0, len(session_ids), _CHUNK):
                chunk = list(session_ids[start : start + _CHUNK])
                marks = ", ".join("?" * len(chunk))
                found.extend(
                    connection.execute(
                        "SELECT session_id, event_id, vector FROM llm_sessions_vectors "
                        f"WHERE session_id IN ({marks}) AND model = ? AND dim = ?",
                        (*chunk, model, dim),
                    )
                )
            return found

        rows = await self._call(work)
        return stack([(s, e) for s, e, _ in rows], [blob for _, _, blob in rows], dim)

    async def holding(self, session_ids: Sequence[str]) -> list[str]:
        return list(await self.versions(session_ids))

    async def versions(self, session_ids: Sequence[str]) -> dict[str, Hashable]:
        # Every write bumps its session's row, in its transaction.
        def work(connection: sqlite3.Connection) -> dict[str, Hashable]:
            found: dict[str, Hashable] = {}
            for start in range(0, len(session_ids), _CHUNK):
                chunk = list(session_ids[start : start + _CHUNK])
                marks = ", ".join("?" * len(chunk))
                found.update(
                    connection.execute(
                        "SELECT session_id, version FROM llm_sessions_vector_versions "
                        f"WHERE session_id IN ({marks})",
                        chunk,
                    )
                )
            return found

        return await self._call(work)

    async def facts(self, keys: Sequence[Key]) -> dict[Key, EventFacts]:
        sql = (
            "SELECT event_type, created_at, user_id, text FROM search_docs "
            "WHERE session_id = ? AND event_id = ?"
        )

        def work(connection: sqlite3.Connection) -> dict[Key, EventFacts]:
            found = {}
            for key in keys:
                row = connection.execute(sql, key).fetchone()
                if row is not None:
                    kind, at, user_id, text = row
                    found[key] = EventFacts(kind, datetime.fromisoformat(at), user_id, text)
            return found

        try:
            return await self._call(work)
        except sqlite3.OperationalError:  # a file without the text index
            return {}
