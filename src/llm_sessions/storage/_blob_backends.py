"""Blob areas kept in SQLite, PostgreSQL and Redis, beside the sessions of the same store."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from ._blobs import BlobArea, Clock

__all__ = ["PostgresBlobArea", "RedisBlobArea", "SQLiteBlobArea"]

_SQLITE_TABLE = (
    "CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, data BLOB NOT NULL,"
    " touched REAL NOT NULL)"
)


class SQLiteBlobArea(BlobArea):
    """Blobs in the ``blobs`` table of a SQLite store's database, on the store's own thread."""

    def __init__(self, store: Any, max_bytes: int, clock: Clock = time.time) -> None:
        super().__init__(max_bytes, clock)
        self._store = store
        self._ready = False

    def _conn(self) -> sqlite3.Connection:
        connection: sqlite3.Connection = self._store._conn()
        if not self._ready:
            connection.execute(_SQLITE_TABLE)
            self._ready = True
        return connection

    async def _put(self, digest: str, data: bytes, now: float) -> None:
        def put() -> None:
            conn = self._conn()
            changed = conn.execute(
                "UPDATE blobs SET touched = ? WHERE digest = ?", (now, digest)
            ).rowcount
            if not changed:
                conn.execute(
                    "INSERT INTO blobs (digest, data, touched) VALUES (?, ?, ?)"
                    " ON CONFLICT (digest) DO UPDATE SET touched = excluded.touched",
                    (digest, data, now),
                )

        await self._store._run(put)

    async def _get_many(self, digests: list[str]) -> dict[str, bytes]:
        def read() -> dict[str, bytes]:
            conn = self._conn()
            found: dict[str, bytes] = {}
            for digest in digests:
                row = conn.execute("SELECT data FROM blobs WHERE digest = ?", (digest,)).fetchone()
                if row is not None:
                    found[digest] = bytes(row[0])
            return found

        return await self._store._run(read)  # type: ignore[no-any-return]

    async def _list(self) -> dict[str, float]:
        def read() -> dict[str, float]:
            rows = self._conn().execute("SELECT digest, touched FROM blobs").fetchall()
            return {digest: touched for digest, touched in rows}

        return await self._store._run(read)  # type: ignore[no-any-return]

    async def _delete(self, digest: str, cutoff: float) -> bool:
        def delete() -> bool:
            sql = "DELETE FROM blobs WHERE digest = ? AND touched < ?"
            return self._conn().execute(sql, (digest, cutoff)).rowcount > 0

        return await self._store._run(delete)  # type: ignore[no-any-return]


class PostgresBlobArea(BlobArea):
    """Blobs in the ``blobs`` table of a PostgreSQL store's schema."""

    def __init__(self, store: Any, max_bytes: int, clock: Clock = time.time) -> None:
        super().__init__(max_bytes, clock)
        self._store = store
        self._table = '"{}".blobs'.format(store.schema.replace('"', '""'))
        self._ready = False

    async def _pool(self) -> Any:
        pool = await self._store._ready()
        if not self._ready:
            await pool.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} (digest text PRIMARY KEY,"
                " data bytea NOT NULL, touched double precision NOT NULL)"
            )
            self._ready = True
        return pool

    async def _put(self, digest: str, data: bytes, now: float) -> None:
        pool = await self._pool()
        changed = await pool.execute(
            f"UPDATE {self._table} SET touched = $2 WHERE digest = $1", digest, now
        )
        if changed == "UPDATE 0":
            await pool.execute(
                f"INSERT INTO {self._table} (digest, data, touched) VALUES ($1, $2, $3)"
                " ON CONFLICT (digest) DO UPDATE SET touched = EXCLUDED.touched",
                digest,
                data,
                now,
            )

    async def _get_many(self, digests: list[str]) -> dict[str, bytes]:
        pool = await self._pool()
        rows = await pool.fetch(
            f"SELECT digest, data FROM {self._table} WHERE digest = ANY($1::text[])", digests
        )
        return {row["digest"]: bytes(row["data"]) for row in rows}

    async def _list(self) -> dict[str, float]:
        pool = await self._pool()
        rows = await pool.fetch(f"SELECT digest, touched FROM {self._table}")
        return {row["digest"]: row["touched"] for row in rows}

    async def _delete(self, digest: str, cutoff: float) -> bool:
        pool = await self._pool()
        done = await pool.execute(
            f"DELETE FROM {self._table} WHERE digest = $1 AND touched < $2", digest, cutoff
        )
        return bool(done != "DELETE 0")


# Stores the bytes unless present and sets the touched time, in one step on the server.
_PUT = """
redis.call('HSETNX', KEYS[1], 'data', ARGV[1])
redis.call('HSET', KEYS[1], 'touched', ARGV[2])
return 1
"""
# Deletes the blob only if it was not touched since the cutoff, in one step on the server.
_DELETE_UNTOUCHED = """
local touched = redis.call('HGET', KEYS[1], 'touched')
if touched and tonumber(touched) < tonumber(ARGV[1]) then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisBlobArea(BlobArea):
    """Blobs as one Redis hash per blob, ``<key prefix>blob:{<hex>}`` (fields ``data`` and
    ``touched``); ``max_bytes`` (default 8 MiB) keeps big values out of Redis's memory."""

    def __init__(self, store: Any, max_bytes: int, clock: Clock = time.time) -> None:
        super().__init__(max_bytes, clock)
        self._client = store.client
        self._prefix = store.key_prefix + "blob:"
        self._delete_script = self._client.register_script(_DELETE_UNTOUCHED)
        self._put_script = self._client.register_script(_PUT)

    def _key(self, digest: str) -> str:
        return f"{self._prefix}{{{digest}}}"

    async def _put(self, digest: str, data: bytes, now: float) -> None:
        await self._put_script(keys=[self._key(digest)], args=[data, repr(now)])

    async def _get_many(self, digests: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for digest in digests:
            data = await self._client.hget(self._key(digest), "data")
            if data is not None:
                found[digest] = data if isinstance(data, bytes) else data.encode("latin-1")
        return found

    async def _list(self) -> dict[str, float]:
        found: dict[str, float] = {}
        async for key in self._client.scan_iter(match=f"{self._prefix}{{*}}"):
            name = key.decode() if isinstance(key, bytes) else key
            touched = await self._client.hget(name, "touched")
            if touched is not None:
                found[name[len(self._prefix) + 1 : -1]] = float(touched)
        return found

    async def _delete(self, digest: str, cutoff: float) -> bool:
        return bool(await self._delete_script(keys=[self._key(digest)], args=[repr(cutoff)]))
