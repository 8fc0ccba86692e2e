"""Sessions in one SQLite database: the embedded durable store.

A session is a row of ``sessions`` plus rows of ``children``, ``tasks``, ``runs`` and ``state``,
and its events are rows of ``events`` whose ``seq`` (an ``INTEGER PRIMARY KEY AUTOINCREMENT``)
is the order every reader sees. Each save is one ``BEGIN IMMEDIATE`` transaction that touches
only the rows it changes, so an append costs the same at any length of session, and writers in
several processes serialise on SQLite's write lock (WAL mode, ``busy_timeout``).

All SQLite calls run on one dedicated thread that owns the connection, opened on first use and
closed by ``close()``: one thread hop per operation rather than one per statement, and nothing
blocks the event loop.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, Unpack

from ...exceptions import (
    CorruptSessionData,
    InvalidInputError,
    SessionAlreadyExists,
    SessionNotFound,
    StorageError,
)
from ...models._session import Session
from ...validation import validate_id, validate_seconds
from .._event_log import NEWEST_ROW, newest_event_of
from .._event_page import EventPage
from .._options import StoreOptionArgs, StoreOptions
from .._prefix import check_prefix
from .._records import StoredHeader, StoredPage, StoredSession, build_session
from .._removals import REMOVAL_ID_PREFIX
from .._reseal import SealedSwap
from .._summary_delta import owner_keys_changed
from .._sync import WriteBatch
from .._worker_thread import WorkerThread
from ._corruption import check_row, expired, is_time, vacuum_database
from ._maintenance import SQLiteMaintenance
from ._rows import (
    _column,
    _delete_rows,
    _merge_header,
    _seq_of,
    _transaction,
    swap_sealed,
    write_head,
)
from ._schema import (
    _SCHEMA,
    _SESSION_TABLES,
    _SYNCHRONOUS,
    _UPGRADES,
    SCHEMA_VERSION,
    use_wal,
)
from ._search import (
    FLUSH_ROWS,
    backfill_index,
    delete_expired_index,
    flush_index,
    write_index,
)
from ._summary import keep_summary

__all__ = ["SCHEMA_VERSION", "SQLiteSessionStore"]

logger = logging.getLogger("llm_sessions.storage")

_T = TypeVar("_T")


class SQLiteSessionStore(SQLiteMaintenance):
    """Sessions in the SQLite database at ``path`` (created on first use).

    ``synchronous`` is SQLite's setting: ``"full"`` (the default) makes every acknowledged save
    survive a power loss; ``"normal"`` is faster and survives a crash of the process.
    ``timeout`` is how long an operation waits for another process's transaction, in seconds,
    before it raises ``StorageError``.
    """

    def __init__(
        self,
        path: str | Path,
        session_class: type[Session[Any]] = Session,
        expiration_seconds: float | None = None,
        *,
        synchronous: str = "full",
        **options: Unpack[StoreOptionArgs],
    ) -> None:
        super().__init__(StoreOptions(session_class, expiration_seconds, **options))
        if synchronous.lower() not in _SYNCHRONOUS:
            raise InvalidInputError("synchronous", synchronous, f"must be one of {_SYNCHRONOUS}")
        self.path = str(path)
        self.synchronous = synchronous.lower()
        self._connection: sqlite3.Connection | None = None
        self._worker: WorkerThread | None = None
        self._unflushed = 0

    # -- public API ----------------------------------------------------------------------------

    async def delete(self, session_id: str) -> bool:
        validate_id(session_id)
        self._ensure_open()
        return await self._run(self._delete_sync, session_id)

    async def list_sessions(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        self._ensure_open()
        return await self._run(self._list_sync, prefix)

    async def set_expiration(self, session_id: str, seconds: float | None) -> bool:
        validate_id(session_id)
        self._ensure_open()
        seconds = validate_seconds(seconds, "seconds")
        return await self._run(self._expire_sync, session_id, seconds)

    async def prune_expired(self) -> int:
        """Delete every expired session and its rows; returns how many sessions went."""
        self._ensure_open()
        return await self._run(self._prune_sync)

    async def vacuum(self) -> int:
        """Move unreadable rows into ``<path>.quarantine.jsonl`` (see ``sqlite_vacuum``);
        returns how many sessions were affected."""
        self._ensure_open()
        return await self._run(self._vacuum_sync)

    async def close(self) -> None:
        """Close the connection and its thread (idempotent)."""
        worker, self._worker = self._worker, None
        await super().close()
        if worker is not None:
            try:
                await worker.run(self._close_sync)
            finally:
                worker.stop()

    # -- EventLogStore -------------------------------------------------------------------------

    async def _read(self, session_id: str) -> StoredSession | None:
        return await self._run(self._read_sync, session_id, None)

    async def _read_since(
        self, session_id: str, after: str | None, header_tag: str | None = None
    ) -> StoredSession | None:
        return await self._run(self._read_sync, session_id, after, header_tag)

    async def _removal_rows(self, session_id: str) -> list[str | bytes] | None:
        return await self._run(self._removal_rows_sync, session_id)

    async def _read_page(self, session_id: str, page: EventPage) -> StoredPage | None:
        return await self._run(self._read_page_sync, session_id, page)

    async def _removals_and_page(
        self, session_id: str, page: EventPage
    ) -> tuple[list[str | bytes] | None, StoredPage | None]:
        return await self._run(self._removals_and_page_sync, session_id, page)

    def _removals_and_page_sync(
        self, session_id: str, page: EventPage
    ) -> tuple[list[str | bytes] | None, StoredPage | None]:
        removals = self._removal_rows_sync(session_id)
        return removals, None if removals is None else self._read_page_sync(session_id, page)

    def _appends_unread(self) -> bool:
        # The write reads the owner for the index rows (from plaintext properties only).
        return self._cipher.current_id is None or not self._indexes_text()

    async def _read_newest(self, session_id: str) -> tuple[str | None, StoredSession | None]:
        return await self._run(self._read_newest_sync, session_id)

    def _read_newest_sync(self, session_id: str) -> tuple[str | None, StoredSession | None]:
        # The two reads in one hand-off to the worker thread (see ``EventLogStore``).
        newest = newest_event_of(self._read_page_sync(session_id, NEWEST_ROW), self._cipher)
        return newest, None if newest is None else self._read_sync(session_id, newest)

    async def _write(self, batch: WriteBatch) -> None:
        validate_id(batch.session_id)
        await self._run(self._write_sync, batch)

    async def _swap_sealed(self, session_id: str, swaps: list[SealedSwap]) -> None:
        await self._run(self._swap_sync, session_id, swaps)

    # -- plumbing ------------------------------------------------------------------------------

    async def _run(self, work: Callable[..., _T], *args: Any) -> _T:
        if self._worker is None:
            self._worker = WorkerThread("llm-sessions-sqlite")
        try:
            return await self._worker.run(work, *args)
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"SQLite store {self.path}: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            try:
                use_wal(connection, self.timeout)
                connection.execute(f"PRAGMA synchronous = {self.synchronous}")
                self._migrate(connection)
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def _migrate(self, connection: sqlite3.Connection) -> None:
        if self._check_version(connection) == SCHEMA_VERSION:
            return
        with _transaction(connection, "BEGIN IMMEDIATE"):
            version = self._check_version(connection)
            if version == SCHEMA_VERSION:
                return  # another connection migrated it meanwhile
            upgrades = (
                _SCHEMA
                if version == 0
                else [sql for to in range(version + 1, SCHEMA_VERSION + 1) for sql in _UPGRADES[to]]
            )
            for statement in upgrades:
                connection.execute(statement)
            if 0 < version < 4 and self._indexes_text():
                backfill_index(connection, self.session_class, self._cipher, self.path)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _check_version(self, connection: sqlite3.Connection) -> int:
        version: int = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"SQLite store {self.path} has schema version {version}, newer than the "
                f"{SCHEMA_VERSION} this llm_sessions understands; upgrade llm_sessions"
            )
        return version

    def _vacuum_sync(self) -> int:
        def check_header(session_id: str) -> None:
            stored = self._read_sync(session_id, None)
            if stored is not None:
                build_session(self.session_class, session_id, replace(stored, events=[]), self)

        quarantine = f"{self.path}.quarantine.jsonl"
        return vacuum_database(
            self._conn(), quarantine, self.session_class, check_header, _transaction
        )

    def _location(self, session_id: str) -> str:
        return f"{self.path} (session {session_id!r})"

    def _close_sync(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # -- work done on the connection's thread -------------------------------------------------

    def _read_sync(
        self, session_id: str, after: str | None, header_tag: str | None = None
    ) -> StoredSession | None:
        conn = self._conn()
        location = self._location(session_id)
        with _transaction(conn, "BEGIN"):  # one snapshot for the header and the events
            row = conn.execute(
                "SELECT parent_id, created_at, updated_at, expires_at, properties, header_tag"
                " FROM sessions WHERE id = ?",
                (session_id,),
            ).fetchone()
            if row is None or expired(row[3], time.time(), location):
                return None
            unchanged = header_tag is not None and row[5] == header_tag
            children: list[str] = []
            tasks: list[str] = []
            runs: list[str | bytes] = []
            state: list[tuple[str, str]] = []
            if not unchanged:
                children = _column(conn, "SELECT child_id FROM children", session_id)
                tasks = _column(conn, "SELECT task_id FROM tasks", session_id)
                runs = _column(conn, "SELECT json FROM runs", session_id)
                state = conn.execute(
                    "SELECT key, json FROM state WHERE session_id = ? ORDER BY rowid",
                    (session_id,),
                ).fetchall()
            first = 0 if after is None else _seq_of(conn, session_id, "after", after) + 1
            events = [
                body
                for (body,) in conn.execute(
                    "SELECT body FROM events WHERE session_id = ? AND seq >= ? ORDER BY seq",
                    (session_id, first),
                )
            ]
        try:
            header = StoredHeader(
                created_at=datetime.fromisoformat(row[1]),
                updated_at=datetime.fromisoformat(row[2]),
                parent_id=row[0],
                child_ids=children,
                task_ids=tasks,
                runs=runs,
                state={key: json.loads(text) for key, text in state},
                properties={} if unchanged else json.loads(row[4]),
            )
        except (ValueError, TypeError) as exc:
            logger.warning("Unreadable session header at %s: %s", location, exc)
            raise CorruptSessionData(location, str(exc)) from exc
        return StoredSession(header, events, location, row[5], unchanged)

    def _is_live(self, conn: sqlite3.Connection, session_id: str) -> bool:
        """Whether the session is stored and not expired (read in the caller's transaction)."""
        row = conn.execute("SELECT expires_at FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row is not None and not expired(row[0], time.time(), self._location(session_id))

    def _removal_rows_sync(self, session_id: str) -> list[str | bytes] | None:
        conn = self._conn()
        with _transaction(conn, "BEGIN"):
            if not self._is_live(conn, session_id):
                return None
            # A range of the (session_id, event_id) index: every id that starts with the prefix.
            return [
                body
                for (body,) in conn.execute(
                    "SELECT body FROM events WHERE session_id = ? AND event_id >= ?"
                    " AND event_id < ?",
                    (session_id, REMOVAL_ID_PREFIX, REMOVAL_ID_PREFIX + "\x7f"),
                )
            ]

    def _read_page_sync(self, session_id: str, page: EventPage) -> StoredPage | None:
        conn = self._conn()
        where = ["session_id = ?"]
        args: list[Any] = [session_id]
        with _transaction(conn, "BEGIN"):
            if not self._is_live(conn, session_id):
                return None
            for name, event_id, compare in (
                ("after", page.after, ">"),
                ("before", page.before, "<"),
            ):
                if event_id is not None:
                    where.append(f"seq {compare} ?")
                    args.append(_seq_of(conn, session_id, name, event_id))
            query = "SELECT body FROM events WHERE " + " AND ".join(where) + " ORDER BY seq"
            if page.newest_first:
                query += " DESC"
            if page.limit is not None:
                query += " LIMIT ?"
                args.append(page.limit)
            rows = [body for (body,) in conn.execute(query, args)]
        return StoredPage(rows, f"{self.path} (session {session_id!r})")

    def _write_sync(self, batch: WriteBatch) -> None:
        conn = self._conn()
        session_id, changes = batch.session_id, batch.header
        with _transaction(conn, "BEGIN IMMEDIATE"):
            now = time.time()
            row = conn.execute(
                "SELECT expires_at, created_at, properties, root_id, model FROM sessions"
                " WHERE id = ?",
                (session_id,),
            ).fetchone()
            expires_at = None if row is None else row[0]
            if row is not None:
                check_row(row[:3], self._location(session_id))
            gone = row is None or expired(expires_at, now, self._location(session_id))
            if gone and batch.must_exist:
                raise SessionNotFound(session_id)  # deleted by another writer: stays deleted
            if not gone and batch.must_exist is False:
                raise SessionAlreadyExists(session_id)  # a new object over a stored session
            if row is not None and gone:
                _delete_rows(conn, session_id)  # expired: start afresh, as if it had vanished
                expires_at = None
            if self.expiration_seconds is not None:
                expires_at = now + self.expiration_seconds
            owner_changed = gone or changes.parent_changed or owner_keys_changed(changes)
            stored = row is not None and not gone
            counted = stored and row[3] is not None and not owner_changed
            row_model = row[4] if counted else None
            added = write_head(conn, batch, expires_at, stored, counted, row_model)
            _merge_header(conn, session_id, changes)
            if batch.updated:
                conn.executemany(
                    "UPDATE events SET body = ? WHERE session_id = ? AND event_id = ?",
                    [(body, session_id, event_id) for event_id, body in batch.updated],
                )
            complete = True
            if batch.appended:
                inserted = conn.executemany(
                    "INSERT INTO events (session_id, event_id, body) VALUES (?, ?, ?)"
                    " ON CONFLICT (session_id, event_id) DO NOTHING",
                    [(session_id, event_id, body) for event_id, body in batch.appended],
                )
                complete = inserted.rowcount == len(batch.appended)
            owner = row[2] if batch.header_unread and row is not None else None
            self._unflushed += write_index(conn, session_id, batch.search, owner)
            if self._unflushed >= FLUSH_ROWS:
                flush_index(conn)
                self._unflushed = 0
            if batch.summary is not None:
                keep_summary(conn, session_id, batch.summary, added, owner_changed, complete)

    def _swap_sync(self, session_id: str, swaps: list[SealedSwap]) -> None:
        conn = self._conn()
        with _transaction(conn, "BEGIN IMMEDIATE"):
            swap_sealed(conn, session_id, swaps)

    def _delete_sync(self, session_id: str) -> bool:
        conn = self._conn()
        with _transaction(conn, "BEGIN IMMEDIATE"):
            row = conn.execute(
                "SELECT expires_at FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
            _delete_rows(conn, session_id)
        # A row with an unreadable expiry still existed: deleting it is how one gets rid of it.
        return row is not None and (not is_time(row[0]) or row[0] is None or row[0] > time.time())

    def _list_sync(self, prefix: str) -> list[str]:
        rows = self._conn().execute(
            "SELECT id FROM sessions WHERE (expires_at IS NULL OR expires_at > ?)"
            " AND substr(id, 1, ?) = ? ORDER BY id",
            (time.time(), len(prefix), prefix),
        )
        return [session_id for (session_id,) in rows]

    def _expire_sync(self, session_id: str, seconds: float | None) -> bool:
        conn = self._conn()
        now = time.time()
        with _transaction(conn, "BEGIN IMMEDIATE"):
            cursor = conn.execute(
                "UPDATE sessions SET expires_at = ?"
                " WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)",
                (None if seconds is None else now + seconds, session_id, now),
            )
        return cursor.rowcount > 0

    def _prune_sync(self) -> int:
        conn = self._conn()
        with _transaction(conn, "BEGIN IMMEDIATE"):
            expired = "SELECT id FROM sessions WHERE expires_at <= ?"
            now = time.time()
            delete_expired_index(conn, now)
            for table in _SESSION_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE session_id IN ({expired})", (now,))
            cursor = conn.execute(f"DELETE FROM sessions WHERE id IN ({expired})", (now,))
        return cursor.rowcount
