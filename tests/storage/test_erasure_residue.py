"""After ``erase`` and ``compact``, the erased user's text is nowhere in the store's raw bytes:
the SQLite file and its log, the file store's folder, every Redis key and value under the
prefix, every row of the PostgreSQL schema's tables. Another user's text is still there."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from erasure_data import ALICE_TEXT, BOB_TEXT, forget_erasures, write_people

from llm_sessions.storage import SessionStore

if TYPE_CHECKING:
    from conftest import StoreCase


def _folder_bytes(root: Path) -> bytes:
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            found.append(Path(folder, name).read_bytes())
    return b"\n".join(found)


def _sqlite_bytes(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-journal")
        if Path(f"{path}{suffix}").exists()
    )


async def _redis_bytes(store: Any) -> bytes:
    client, found = store.client, []
    pattern = store.key_prefix.replace("[", "\\[").replace("*", "\\*") + "*"
    async for key in client.scan_iter(match=pattern, count=1000):
        kind = await client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == "string":
            value: Any = await client.get(key)
        elif kind == "list":
            value = await client.lrange(key, 0, -1)
        elif kind == "hash":
            value = await client.hgetall(key)
        elif kind == "set":
            value = await client.smembers(key)
        else:
            value = await client.zrange(key, 0, -1, withscores=True)
        found.append(f"{key!r} {value!r}".encode())
    return b"\n".join(found)


async def _postgres_bytes(store: Any) -> bytes:
    import asyncpg

    connection = await asyncpg.connect(store.dsn)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1", store.schema
        )
        found = []
        for (table,) in tables:
            rows = await connection.fetch(f'SELECT t::text FROM "{store.schema}"."{table}" t')
            found.extend(row[0] for row in rows)
    finally:
        await connection.close()
    return "\n".join(found).encode()


async def raw_bytes(case: StoreCase, store: SessionStore) -> bytes:
    """Everything the store holds, as bytes, by the kind of store."""
    if case.kind == "sqlite":
        return _sqlite_bytes(Path(case.url.removeprefix("sqlite:///")))
    if case.kind == "file":
        return _folder_bytes(Path(case.url.removeprefix("file://")))
    if case.kind.startswith("redis"):  # one server, a Cluster or a Sentinel's primary
        return await _redis_bytes(store)
    return await _postgres_bytes(store)


async def test_no_erased_text_is_left_in_the_store_s_bytes(durable_case: StoreCase) -> None:
    store = durable_case.open()
    try:
        await write_people(store)
        before = await raw_bytes(durable_case, store)
        assert ALICE_TEXT.encode() in before and BOB_TEXT.encode() in before
        await store.erase(where={"user_id": "alice"})
        await store.compact()
        after = await raw_bytes(durable_case, store)  # open: SQLite's log is still there
        assert ALICE_TEXT.encode() not in after
        assert b"alice-gc" not in after  # nor the erased sessions' ids
        assert BOB_TEXT.encode() in after
    finally:
        await forget_erasures(store)


async def test_no_erased_session_s_vectors_are_left(durable_case: StoreCase) -> None:
    from test_semantic_search import bag_of_words

    from llm_sessions.storage._vector_stores import vector_backend_for

    store = durable_case.open(embedder=bag_of_words)
    try:
        people = await write_people(store)
        await store.flush_index()
        assert b"alice-gc" in await raw_bytes(durable_case, store)
        receipt = await store.erase(where={"user_id": "alice"})
        assert receipt.counts["vectors"] == len(people.alice)
        await store.compact()
        assert b"alice-gc" not in await raw_bytes(durable_case, store)
        backend = vector_backend_for(store)
        assert sorted(await backend.holding(sorted(people.alice | people.bob))) == sorted(
            people.bob
        )
        await backend.close()
    finally:
        await forget_erasures(store)
