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
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, Unpack

from ...exceptions import (
    CorruptSessionData,
    InvalidInputError,
    SessionAlreadyExists,
    SessionNotFound,
    StorageError,
)
from ...models.session import Session
from ...validation import validate_id, validate_seconds
from .._base import EventPage, check_prefix, unknown_event
from .._options import StoreOptionArgs, StoreOptions
from ..event_log import EventLogStore
from ..records import StoredHeader, StoredPage, StoredSession, build_session
from ..removals import REMOVAL_ID_PREFIX
from ..reseal import SealedSwap, swap_into
from ..sync import HeaderChanges, WriteBatch
from ..worker_thread import WorkerThread
from ._corruption import check_row, expired, is_time, vacuum_database

__all__ = ["SCHEMA_VERSION", "SQLiteSessionStore"]

logger = logging.getLogger("llm_sessions.storage")

_T = TypeVar("_T")

SCHEMA_VERSION = 2
"""The schema this code writes, kept in ``PRAGMA user_version``. Version 2 added
``sessions.header_tag``: triggers give it a new random value whenever a row of a header part
changes (children, tasks, runs, state, or the session's parent or properties), whichever code
writes it, so a refresh reads those tables only when they moved."""

_SCHEMA = [
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        parent_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        expires_at REAL,
        properties TEXT NOT NULL DEFAULT '{}',
        header_tag TEXT
    )""",
    "CREATE INDEX sessions_expiry ON sessions (expires_at) WHERE expires_at IS NOT NULL",
    """CREATE TABLE children (
        session_id TEXT NOT NULL, child_id TEXT NOT NULL, PRIMARY KEY (session_id, child_id)
    )""",
    """CREATE TABLE tasks (
        session_id TEXT NOT NULL, task_id TEXT NOT NULL, PRIMARY KEY (session_id, task_id)
    )""",
    """CREATE TABLE runs (
        session_id TEXT NOT NULL, run_id TEXT NOT NULL, json TEXT NOT NULL,
        PRIMARY KEY (session_id, run_id)
    )""",
    """CREATE TABLE state (
        session_id TEXT NOT NULL, key TEXT NOT NULL, json TEXT NOT NULL,
        PRIMARY KEY (session_id, key)
    )""",
    """CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (session_id, event_id)
    )""",
    "CREATE INDEX events_order ON events (session_id, seq)",
]
_RANDOM_TAG = "lower(hex(randomblob(8)))"
_NEW_TAG = f"UPDATE sessions SET header_tag = {_RANDOM_TAG} WHERE id = {{id}}"


def _header_tag_triggers() -> list[str]:
    """The triggers that give a session a new header tag when a header part changes."""
    triggers = [
        f"""CREATE TRIGGER header_created AFTER INSERT ON sessions
        BEGIN {_NEW_TAG.format(id="NEW.id")}; END""",
        f"""CREATE TRIGGER header_updated AFTER UPDATE OF parent_id, properties ON sessions
        WHEN OLD.parent_id IS NOT NEW.parent_id OR OLD.properties IS NOT NEW.properties
        BEGIN {_NEW_TAG.format(id="NEW.id")}; END""",
    ]
    for table in ("children", "tasks", "runs", "state"):
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            triggers.append(
                f"""CREATE TRIGGER {table}_{event.lower()} AFTER {event} ON {table}
                BEGIN {_NEW_TAG.format(id=f"{row}.session_id")}; END"""
            )
    return triggers


_SCHEMA += _header_tag_triggers()
_UPGRADES = {
    2: [
        "ALTER TABLE sessions ADD COLUMN header_tag TEXT",
        f"UPDATE sessions SET header_tag = {_RANDOM_TAG}",
        *_header_tag_triggers(),
    ],
}
"""The statements that bring a file from the version before each key to that version."""
_SESSION_TABLES = ("events", "children", "tasks", "runs", "state")
_SYNCHRONOUS = ("off", "normal", "full", "extra")

_UPSERT_SESSION = """
    INSERT INTO sessions (id, parent_id, created_at, updated_at, expires_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET
        parent_id = CASE WHEN ? THEN excluded.parent_id ELSE sessions.parent_id END,
        updated_at = max(updated_at, excluded.updated_at),
        expires_at = excluded.expires_at
"""


def _stamp(moment: datetime) -> str:
    # A fixed-width UTC form, so that text order is time order (for max(updated_at, ?)).
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class SQLiteSessionStore(EventLogStore):
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
                connection.execute("PRAGMA journal_mode = WAL")
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
                "SELECT expires_at, created_at, properties FROM sessions WHERE id = ?",
                (session_id,),
            ).fetchone()
            expires_at = None if row is None else row[0]
            if row is not None:
                check_row(row, self._location(session_id))
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
            conn.execute(
                _UPSERT_SESSION,
                (
                    session_id,
                    changes.parent_id,
                    _stamp(changes.created_at),
                    _stamp(changes.updated_at),
                    expires_at,
                    changes.parent_changed,
                ),
            )
            _merge_header(conn, session_id, changes)
            if batch.updated:
                conn.executemany(
                    "UPDATE events SET body = ? WHERE session_id = ? AND event_id = ?",
                    [(body, session_id, event_id) for event_id, body in batch.updated],
                )
            if batch.appended:
                conn.executemany(
                    "INSERT INTO events (session_id, event_id, body) VALUES (?, ?, ?)"
                    " ON CONFLICT (session_id, event_id) DO NOTHING",
                    [(session_id, event_id, body) for event_id, body in batch.appended],
                )

    def _swap_sync(self, session_id: str, swaps: list[SealedSwap]) -> None:
        conn = self._conn()
        with _transaction(conn, "BEGIN IMMEDIATE"):
            row = conn.execute(
                "SELECT properties FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
            if row is None:
                return
            properties = json.loads(row[0])
            applied = [swap_into(properties, s) for s in swaps if s.place == "properties"]
            if any(applied):
                conn.execute(
                    "UPDATE sessions SET properties = ? WHERE id = ?",
                    (json.dumps(properties, ensure_ascii=False), session_id),
                )
            for swap in swaps:
                if swap.place == "properties":
                    continue
                table, column = ("state", "key") if swap.place == "state" else ("runs", "run_id")
                where = f" WHERE session_id = ? AND {column} = ?"
                found = conn.execute(f"SELECT json FROM {table}{where}", (session_id, swap.key))
                held = found.fetchone()
                if held is not None and swap_into({swap.key: json.loads(held[0])}, swap):
                    conn.execute(
                        f"UPDATE {table} SET json = ?{where}", (swap.new, session_id, swap.key)
                    )

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
            for table in _SESSION_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE session_id IN ({expired})", (now,))
            cursor = conn.execute(f"DELETE FROM sessions WHERE id IN ({expired})", (now,))
        return cursor.rowcount


class _transaction:
    """``with _transaction(conn, "BEGIN IMMEDIATE"):`` commits, or rolls back on error."""

    def __init__(self, connection: sqlite3.Connection, begin: str) -> None:
        self.connection = connection
        self.begin = begin

    def __enter__(self) -> None:
        self.connection.execute(self.begin)

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.connection.execute("COMMIT")
        elif self.connection.in_transaction:
            self.connection.execute("ROLLBACK")


def _column(conn: sqlite3.Connection, select: str, session_id: str) -> list[Any]:
    query = f"{select} WHERE session_id = ? ORDER BY rowid"
    return [value for (value,) in conn.execute(query, (session_id,))]


def _seq_of(conn: sqlite3.Connection, session_id: str, field: str, event_id: str) -> int:
    row = conn.execute(
        "SELECT seq FROM events WHERE session_id = ? AND event_id = ?", (session_id, event_id)
    ).fetchone()
    if row is None:
        raise unknown_event(field, event_id, session_id)
    seq: int = row[0]
    return seq


def _delete_rows(conn: sqlite3.Connection, session_id: str) -> None:
    for table in _SESSION_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
    conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))


def _merge_header(conn: sqlite3.Connection, session_id: str, changes: HeaderChanges) -> None:
    """Apply the merge operations of a batch's header (set union, upsert, per-key writes)."""
    for table, column, added, removed in (
        ("children", "child_id", changes.children_added, changes.children_removed),
        ("tasks", "task_id", changes.tasks_added, changes.tasks_removed),
    ):
        _run_many(conn, f"INSERT OR IGNORE INTO {table} VALUES (?, ?)", session_id, added)
        _run_many(
            conn, f"DELETE FROM {table} WHERE session_id = ? AND {column} = ?", session_id, removed
        )
    for table, column, upserted, removed in (
        ("runs", "run_id", changes.runs_upserted, changes.runs_removed),
        ("state", "key", changes.state_set, changes.state_removed),
    ):
        _run_many(
            conn, f"DELETE FROM {table} WHERE session_id = ? AND {column} = ?", session_id, removed
        )
        if upserted:
            conn.executemany(
                f"INSERT INTO {table} VALUES (?, ?, ?)"
                f" ON CONFLICT (session_id, {column}) DO UPDATE SET json = excluded.json",
                [(session_id, key, text) for key, text in upserted.items()],
            )
    if changes.properties_set or changes.properties_removed:
        (text,) = conn.execute(
            "SELECT properties FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        properties = json.loads(text)
        for key in changes.properties_removed:
            properties.pop(key, None)
        properties.update((key, json.loads(value)) for key, value in changes.properties_set.items())
        conn.execute(
            "UPDATE sessions SET properties = ? WHERE id = ?",
            (json.dumps(properties, ensure_ascii=False), session_id),
        )


def _run_many(conn: sqlite3.Connection, sql: str, session_id: str, items: Iterable[str]) -> None:
    rows = [(session_id, item) for item in items]
    if rows:
        conn.executemany(sql, rows)
