"""After ``erase`` and ``compact``, the erased user's text is nowhere in the store's raw bytes:
the SQLite file and its log, the file store's folder (its quarantine too), every Redis key and
value under the prefix, every row of the PostgreSQL schema's tables. Another user's text is
still there."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from erasure_data import ALICE_TEXT, BOB_TEXT, forget_erasures, write_people

from llm_sessions.storage import FileSessionStore, SessionStore, SQLiteSessionStore, open_store
from llm_sessions.storage.file._vacuum import drop_quarantined, quarantine_path

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
        for suffix in ("", "-wal", "-journal", ".quarantine.jsonl")
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


async def test_the_file_store_s_quarantine_keeps_nothing_of_an_erased_session(
    tmp_path: Path,
) -> None:
    store = FileSessionStore(tmp_path)
    try:
        people = await write_people(store)
        with (tmp_path / f"{people.root}.events.jsonl").open("a") as log:
            log.write(f'{{"id": "unreadable", "message": "{ALICE_TEXT}\n')  # a bad line
        with (tmp_path / f"{people.child}.events.jsonl").open("a") as log:
            log.write(f'{{"id": "torn", "message": "{ALICE_TEXT}')  # a torn tail
        with (tmp_path / "bob-root.events.jsonl").open("a") as log:
            log.write(f'{{"id": "unreadable", "message": "{BOB_TEXT}\n')
        assert await store.vacuum() == 2  # the bad lines; the torn tail goes as it is read
        index = tmp_path / "summaries.jsonl"
        index.write_bytes(b"not an index\n" + index.read_bytes())
        await FileSessionStore(tmp_path).find_sessions()  # moves the unreadable index aside
        quarantined = _folder_bytes(tmp_path / "quarantine")
        assert ALICE_TEXT.encode() in quarantined and b"alice-gc" in quarantined

        await store.erase(where={"user_id": "alice"})
        await store.compact()

        after = _folder_bytes(tmp_path)
        assert ALICE_TEXT.encode() not in after and b"alice-gc" not in after
        assert BOB_TEXT.encode() in _folder_bytes(tmp_path / "quarantine")  # bob's stays
    finally:
        await forget_erasures(store)


def test_a_session_s_quarantined_files_are_told_from_those_of_an_id_that_begins_with_it(
    tmp_path: Path,
) -> None:
    others = [quarantine_path(tmp_path, name) for name in ("a.json.json", "a.jsonl.json")]
    mine = [quarantine_path(tmp_path, name) for name in ("a.json", "a.events.jsonl.torn-12")]
    for path in others + mine:
        path.write_text("x")
    assert drop_quarantined(tmp_path, ["a"]) == 2
    assert [path.exists() for path in others + mine] == [True, True, False, False]


async def _unreadable_postgres_row(store: Any, session_id: str, text: str) -> None:
    sql = (
        f'INSERT INTO "{store.schema}".events (session_id, event_id, body)'
        " VALUES ($1, 'unreadable', $2)"
    )
    await store._run("damage", session_id, lambda c: c.execute(sql, session_id, json.dumps(text)))


async def _postgres_quarantined(store: Any, text: str) -> int:
    sql = f'SELECT count(*) FROM "{store.schema}".quarantine WHERE row::text LIKE $1'
    return int(await store._run("count", text, lambda c: c.fetchval(sql, f"%{text}%")))


@pytest.mark.postgres
async def test_postgres_rows_that_vacuum_quarantined_go_with_their_erased_session(
    postgres_url: str,
) -> None:
    store: Any = open_store(f"{postgres_url}?schema=test_{uuid.uuid4().hex[:12]}")
    try:
        people = await write_people(store)
        await _unreadable_postgres_row(store, people.root, ALICE_TEXT)
        await _unreadable_postgres_row(store, "bob-root", BOB_TEXT)
        assert await store.vacuum() == 2
        assert await _postgres_quarantined(store, ALICE_TEXT) == 1

        await store.erase(where={"user_id": "alice"})

        assert await _postgres_quarantined(store, ALICE_TEXT) == 0
        assert await _postgres_quarantined(store, BOB_TEXT) == 1
    finally:
        await forget_erasures(store)
        await store.drop_all()
        await store.close()


def _file_bytes(path: Path) -> bytes:
    return path.read_bytes()


def _unreadable_sqlite_row(path: Path, session_id: str, text: str) -> None:
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute(
                "INSERT INTO events (session_id, event_id, body) VALUES (?, 'unreadable', ?)",
                (session_id, json.dumps(text)),
            )
    finally:
        connection.close()


async def test_sqlite_rows_that_vacuum_quarantined_go_with_their_erased_session(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    people = await write_people(store)
    _unreadable_sqlite_row(path, people.root, ALICE_TEXT)
    _unreadable_sqlite_row(path, "bob-root", BOB_TEXT)
    assert await store.vacuum() == 2
    quarantine = Path(f"{path}.quarantine.jsonl")
    assert ALICE_TEXT.encode() in _file_bytes(quarantine)

    await store.erase(where={"user_id": "alice"})

    assert ALICE_TEXT.encode() not in _file_bytes(quarantine)
    assert BOB_TEXT.encode() in _file_bytes(quarantine)
    await store.close()


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


async def _unreadable_redis_row(store: Any, session_id: str, text: str) -> None:
    await store.client.rpush(f"{store.key_prefix}{{{session_id}}}:events", f'{{"id": "{text}')


@pytest.mark.redis
async def test_redis_keys_that_vacuum_quarantined_go_with_their_erased_session(
    redis_url: str,
) -> None:
    store: Any = open_store(f"{redis_url}?key_prefix=test-{uuid.uuid4().hex[:12]}:")
    try:
        people = await write_people(store)
        await _unreadable_redis_row(store, people.root, ALICE_TEXT)
        await _unreadable_redis_row(store, "bob-root", BOB_TEXT)
        assert await store.vacuum() == 2
        moved = await _redis_bytes(store)
        assert f"{ALICE_TEXT}".encode() in moved and b"quarantined" in moved

        await store.erase(where={"user_id": "alice"})

        after = await _redis_bytes(store)
        assert ALICE_TEXT.encode() not in after and b"alice-" not in after
        assert BOB_TEXT.encode() in after and b"quarantined" in after  # bob's stays
    finally:
        await forget_erasures(store)
        await store.drop_all()
        await store.close()
