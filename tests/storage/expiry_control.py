"""Time passing for a store's expiries, without waiting: read how long a session has left as
the store wrote it, and move the expiry of the sessions it would reach into the past.

Each store keeps an absolute expiry of its own (a Unix time in the file header or SQLite row,
a ``timestamptz`` in PostgreSQL, ``PEXPIRE`` on the Redis keys); the tests check the value a
store wrote, then do what the clock would: the store's own reads then decide what is expired.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from store_cases import StoreCase

from llm_sessions.storage import open_store


async def seconds_left(case: StoreCase, session_id: str) -> float | None:
    """How long ``session_id`` has left as the store holds it (None: no expiry)."""
    if case.kind == "file":
        expires = json.loads(_header_file(case, session_id).read_text())["expires_at"]
        return None if expires is None else float(expires) - time.time()
    if case.kind == "sqlite":
        (expires,) = _sqlite(case, "SELECT expires_at FROM sessions WHERE id = ?", session_id)
        return None if expires is None else float(expires) - time.time()
    if case.kind == "postgres":
        sql = "SELECT extract(epoch FROM expires_at - now()) FROM {}.sessions WHERE id = $1"
        left = await _postgres(case, sql, session_id)
        return None if left is None else float(left)
    async with _redis(case) as (client, prefix):
        left_ms = int(await client.pttl(f"{prefix}{{{session_id}}}:meta"))
    return None if left_ms < 0 else left_ms / 1000


async def time_passes(case: StoreCase, seconds: float, session_ids: Iterable[str]) -> None:
    """What ``seconds`` of waiting does to ``session_ids``: those whose expiry comes within
    them have it moved into the past; the others keep theirs."""
    for session_id in session_ids:
        left = await seconds_left(case, session_id)
        if left is not None and left <= seconds:
            await _expire_now(case, session_id)


async def _expire_now(case: StoreCase, session_id: str) -> None:
    past = time.time() - 1
    if case.kind == "file":
        path = _header_file(case, session_id)
        header = json.loads(path.read_text())
        header["expires_at"] = past
        path.write_text(json.dumps(header))
    elif case.kind == "sqlite":
        _sqlite(case, "UPDATE sessions SET expires_at = ? WHERE id = ?", past, session_id)
    elif case.kind == "postgres":
        sql = "UPDATE {}.sessions SET expires_at = now() - interval '1 second' WHERE id = $1"
        await _postgres(case, sql, session_id)
    else:
        async with _redis(case) as (client, prefix):
            async for name in client.scan_iter(match=f"{prefix}{{{session_id}}}:*"):
                await client.pexpireat(name, 1)  # a moment long past: the key is gone


def _header_file(case: StoreCase, session_id: str) -> Path:
    return Path(urlsplit(case.url).path) / f"{session_id}.json"


def _sqlite(case: StoreCase, sql: str, *args: object) -> tuple[object, ...]:
    connection = sqlite3.connect(urlsplit(case.url).path)
    try:
        with connection:
            row = connection.execute(sql, args).fetchone()
    finally:
        connection.close()
    return tuple(row) if row else ()


async def _postgres(case: StoreCase, sql: str, session_id: str) -> object:
    import asyncpg

    schema = parse_qs(urlsplit(case.url).query)["schema"][0]
    connection = await asyncpg.connect(case.url.split("?")[0])
    try:
        return await connection.fetchval(sql.format(f'"{schema}"'), session_id)
    finally:
        await connection.close()


@asynccontextmanager
async def _redis(case: StoreCase) -> AsyncIterator[tuple[Any, str]]:
    """The client of a store on the case's URL (one server, Cluster or Sentinel alike) and
    its key prefix."""
    store: Any = open_store(case.url)
    try:
        yield store.client, store.key_prefix
    finally:
        await store.close()
