"""Small expiring JSON records kept beside a store's sessions, shared by every process using it.

The server keeps its idempotency keys here (see ``llm_sessions.server.idempotency``): a record
must be seen by every worker over the same store, so each kind of store keeps them where it
keeps its sessions, out of the way of its session listing:

- memory: a dict of the store object (one process, as the store itself);
- file: one JSON file a record in the folder ``.records`` of the store's folder;
- SQLite: the table ``llm_sessions_records`` of the same database file;
- Redis: the key ``<key_prefix>records:<key>`` with the record's time to live;
- PostgreSQL: the table ``llm_sessions_records`` of the store's schema.

Records carry their expiry (``expires_at``, Unix seconds); one that has expired reads as absent.
The time is the caller's (``now``), so a test can move it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import re
import sqlite3
import weakref
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from ._backends import StoreBackend

__all__ = [
    "SIDE_RECORDS",
    "FileRecords",
    "MemoryRecords",
    "PostgresRecords",
    "RedisRecords",
    "SQLiteRecords",
    "SideRecords",
    "side_records_for",
]

Record = dict[str, Any]
_MEMORY: weakref.WeakKeyDictionary[object, dict[str, Record]] = weakref.WeakKeyDictionary()


class SideRecords(ABC):
    """Expiring JSON records under string keys; every method takes the caller's ``now``."""

    @abstractmethod
    async def claim(self, key: str, value: Record, expires_at: float, now: float) -> Record | None:
        """Store ``value`` under ``key`` unless a live record is there, atomically.

        Returns:
            None when ``value`` was stored; else the live record found (left unchanged).
        """

    @abstractmethod
    async def put(self, key: str, value: Record, expires_at: float) -> None:
        """Store ``value`` under ``key``, replacing what was there."""

    @abstractmethod
    async def get(self, key: str, now: float) -> Record | None:
        """The live record under ``key``, or None."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the record under ``key`` if there is one."""

    @abstractmethod
    async def scan(self, prefix: str, now: float) -> dict[str, Record]:
        """The live records whose keys start with ``prefix``, by key."""

    async def close(self) -> None:  # noqa: B027 - most kinds hold nothing to close
        """Release what the records hold (the store itself stays open)."""


SIDE_RECORDS: StoreBackend[SideRecords] = StoreBackend("side records (idempotency keys)")
"""The ``SideRecords`` of each kind of store."""


def _live(record: Record | None, now: float) -> Record | None:
    return record if record is not None and record.get("expires_at", 0) > now else None


def _stamped(value: Record, expires_at: float) -> Record:
    return {**value, "expires_at": expires_at}


class MemoryRecords(SideRecords):
    def __init__(self, store: object) -> None:
        self.records = _MEMORY.setdefault(store, {})

    async def claim(self, key: str, value: Record, expires_at: float, now: float) -> Record | None:
        found = _live(self.records.get(key), now)
        if found is None:
            self.records[key] = _stamped(value, expires_at)
        return found

    async def put(self, key: str, value: Record, expires_at: float) -> None:
        self.records[key] = _stamped(value, expires_at)

    async def get(self, key: str, now: float) -> Record | None:
        return _live(self.records.get(key), now)

    async def delete(self, key: str) -> None:
        self.records.pop(key, None)

    async def scan(self, prefix: str, now: float) -> dict[str, Record]:
        found = {key: _live(value, now) for key, value in self.records.items()}
        return {k: v for k, v in found.items() if v is not None and k.startswith(prefix)}


class FileRecords(SideRecords):
    """One file a record; a claim creates its file exclusively, so one process wins."""

    def __init__(self, directory: Path) -> None:
        self.folder = directory / ".records"

    def _path(self, key: str) -> Path:
        return self.folder / (hashlib.sha256(key.encode()).hexdigest() + ".json")

    def _read(self, key: str) -> Record | None:
        try:
            found: Record = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None  # absent, or a claim still being written: absent for now
        return found

    def _claim(self, key: str, value: Record, now: float) -> Record | None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        for _ in range(2):
            try:
                handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                found = _live(self._read(key), now)
                if found is not None:
                    return found
                path.unlink(missing_ok=True)  # expired: free the name and try once more
                continue
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(value, file)
            return None
        return self._read(key)

    def _put(self, key: str, value: Record) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(value), encoding="utf-8")
        os.replace(temporary, path)

    def _scan(self, prefix: str, now: float) -> dict[str, Record]:
        found: dict[str, Record] = {}
        for path in self.folder.glob("*.json") if self.folder.is_dir() else []:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                continue  # deleted, or still being written
            key = record.pop(_FILE_KEY, None)
            if isinstance(key, str) and key.startswith(prefix) and _live(record, now):
                found[key] = record
        return found

    async def claim(self, key: str, value: Record, expires_at: float, now: float) -> Record | None:
        record = {**_stamped(value, expires_at), _FILE_KEY: key}
        found = await asyncio.to_thread(self._claim, key, record, now)
        return _without_key(found)

    async def put(self, key: str, value: Record, expires_at: float) -> None:
        record = {**_stamped(value, expires_at), _FILE_KEY: key}
        await asyncio.to_thread(self._put, key, record)

    async def get(self, key: str, now: float) -> Record | None:
        return _without_key(_live(await asyncio.to_thread(self._read, key), now))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def scan(self, prefix: str, now: float) -> dict[str, Record]:
        return await asyncio.to_thread(self._scan, prefix, now)


_FILE_KEY = "_record_key"
"""Where a record file keeps its key (its name is the key's hash), for ``scan``."""


def _without_key(record: Record | None) -> Record | None:
    if record is not None:
        record.pop(_FILE_KEY, None)
    return record


_SQLITE_TABLE = (
    "CREATE TABLE IF NOT EXISTS llm_sessions_records "
    "(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL NOT NULL)"
)


class SQLiteRecords(SideRecords):
    """A table of the store's database file, through a connection of its own per call."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _run(self, sql: str, *params: Any, claim: bool = False, every: bool = False) -> Any:
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            connection.execute(_SQLITE_TABLE)
            connection.execute("BEGIN IMMEDIATE")
            if claim:
                key, value, expires_at, now = params
                row = connection.execute(
                    "SELECT value FROM llm_sessions_records WHERE key = ? AND expires_at > ?",
                    (key, now),
                ).fetchone()
                if row is None:
                    connection.execute(
                        "INSERT OR REPLACE INTO llm_sessions_records VALUES (?, ?, ?)",
                        (key, value, expires_at),
                    )
                result = row
            else:
                rows = connection.execute(sql, params)
                result = rows.fetchall() if every else rows.fetchone()
            connection.execute("COMMIT")
            return result
        finally:
            connection.close()

    async def claim(self, key: str, value: Record, expires_at: float, now: float) -> Record | None:
        text = json.dumps(_stamped(value, expires_at))
        row = await asyncio.to_thread(self._run, "", key, text, expires_at, now, claim=True)
        return None if row is None else dict(json.loads(row[0]))

    async def put(self, key: str, value: Record, expires_at: float) -> None:
        text = json.dumps(_stamped(value, expires_at))
        sql = "INSERT OR REPLACE INTO llm_sessions_records VALUES (?, ?, ?)"
        await asyncio.to_thread(self._run, sql, key, text, expires_at)

    async def get(self, key: str, now: float) -> Record | None:
        sql = "SELECT value FROM llm_sessions_records WHERE key = ? AND expires_at > ?"
        row = await asyncio.to_thread(self._run, sql, key, now)
        return None if row is None else dict(json.loads(row[0]))

    async def delete(self, key: str) -> None:
        sql = "DELETE FROM llm_sessions_records WHERE key = ?"
        await asyncio.to_thread(self._run, sql, key)

    async def scan(self, prefix: str, now: float) -> dict[str, Record]:
        sql = (
            "SELECT key, value FROM llm_sessions_records"
            " WHERE substr(key, 1, ?) = ? AND expires_at > ?"
        )
        rows = await asyncio.to_thread(self._run, sql, len(prefix), prefix, now, every=True)
        return {key: dict(json.loads(value)) for key, value in rows}


class RedisRecords(SideRecords):
    """``SET NX`` with the record's time to live, on the store's own client."""

    def __init__(self, client: Any, key_prefix: str) -> None:
        self.client = client
        self.key_prefix = key_prefix

    def _key(self, key: str) -> str:
        return f"{self.key_prefix}records:{key}"

    async def claim(self, key: str, value: Record, expires_at: float, now: float) -> Record | None:
        text = json.dumps(_stamped(value, expires_at))
        milliseconds = max(1, math.ceil((expires_at - now) * 1000))
        if await self.client.set(self._key(key), text, nx=True, px=milliseconds):
            return None
        found = await self.get(key, now)
        if found is None:  # expired by the caller's clock: take it over
            await self.client.set(self._key(key), text, px=milliseconds)
        return found

    async def put(self, key: str, value: Record, expires_at: float) -> None:
        text = json.dumps(_stamped(value, expires_at))
        current = await self.client.pttl(self._key(key))
        await self.client.set(self._key(key), text, px=current if current > 0 else None)

    async def get(self, key: str, now: float) -> Record | None:
        text = await self.client.get(self._key(key))
        return None if text is None else _live(dict(json.loads(text)), now)

    async def delete(self, key: str) -> None:
        await self.client.delete(self._key(key))

    async def scan(self, prefix: str, now: float) -> dict[str, Record]:
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self._key(prefix)) + "*"
        found: dict[str, Record] = {}
        async for name in self.client.scan_iter(match=pattern, count=1000):
            name = name.decode() if isinstance(name, bytes) else name
            text = await self.client.get(name)
            record = None if text is None else _live(dict(json.loads(text)), now)
            if record is not None:
                found[name[len(self._key("")) :]] = record
        return found


_POOL_SIZE = 2


class PostgresRecords(SideRecords):
    """Records of the PostgreSQL store at ``dsn``, in ``schema``."""

    def __init__(self, dsn: str, schema: str) -> None:
        self.dsn = dsn
        self.table = f'"{schema}".llm_sessions_records'
        self.schema = schema
        self._pool: Any = None
        self._opening = asyncio.Lock()

    async def _connection_pool(self) -> Any:
        async with self._opening:
            if self._pool is None:
                import asyncpg

                pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=_POOL_SIZE)
                async with pool.acquire() as connection:
                    await connection.execute(
                        f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"; '
                        f"CREATE TABLE IF NOT EXISTS {self.table} "
                        "(key TEXT PRIMARY KEY, value JSONB NOT NULL, expires_at DOUBLE PRECISION "
                        "NOT NULL)"
                    )
                self._pool = pool
            return self._pool

    async def claim(self, key: str, value: Record, expires_at: float, now: float) -> Record | None:
        text = json.dumps({**value, "expires_at": expires_at})
        pool = await self._connection_pool()
        # Inserted, or taken over from an expired record, in one statement; else the live one.
        claimed = await pool.fetchval(
            f"INSERT INTO {self.table} AS r VALUES ($1, $2::jsonb, $3) ON CONFLICT (key) DO "
            "UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at "
            "WHERE r.expires_at <= $4 RETURNING 1",
            key,
            text,
            expires_at,
            now,
        )
        if claimed:
            return None
        return await self.get(key, now)

    async def put(self, key: str, value: Record, expires_at: float) -> None:
        text = json.dumps({**value, "expires_at": expires_at})
        pool = await self._connection_pool()
        await pool.execute(
            f"INSERT INTO {self.table} VALUES ($1, $2::jsonb, $3) ON CONFLICT (key) DO UPDATE "
            "SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at",
            key,
            text,
            expires_at,
        )

    async def get(self, key: str, now: float) -> Record | None:
        pool = await self._connection_pool()
        text = await pool.fetchval(
            f"SELECT value::text FROM {self.table} WHERE key = $1 AND expires_at > $2", key, now
        )
        return None if text is None else dict(json.loads(text))

    async def delete(self, key: str) -> None:
        pool = await self._connection_pool()
        await pool.execute(f"DELETE FROM {self.table} WHERE key = $1", key)

    async def scan(self, prefix: str, now: float) -> dict[str, Record]:
        pool = await self._connection_pool()
        rows = await pool.fetch(
            f"SELECT key, value::text FROM {self.table}"
            " WHERE left(key, length($1)) = $1 AND expires_at > $2",
            prefix,
            now,
        )
        return {row[0]: dict(json.loads(row[1])) for row in rows}

    async def close(self) -> None:
        """Close the pool of the records (the store keeps its own)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


def side_records_for(store: object) -> SideRecords:
    """The records kept beside ``store``: what its kind declared in ``SIDE_RECORDS``.

    Args:
        store: a memory, file, SQLite, Redis or PostgreSQL store.

    Returns:
        Its ``SideRecords``.

    Raises:
        InvalidInputError: for another kind of store.
    """
    return SIDE_RECORDS.of(store)
