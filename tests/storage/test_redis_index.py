"""The Redis store's index of sorted sets: kept by the write script, built for databases
written without it, rebuilt by ``vacuum()``, and never listing a session that is gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from test_redis_removals import client, store
from test_sqlite_summaries import chat, full_load, listed

from llm_sessions.exceptions import EncryptionKeyError
from llm_sessions.models import Session, SessionMetadata
from llm_sessions.storage._fleet_query import UsageQuery, usage_in
from llm_sessions.storage.providers.redis import RedisSessionStore
from llm_sessions.storage.redis import _index_query

pytestmark = pytest.mark.redis
__all__ = ["client", "store"]  # the fixtures this module uses


def index_key(store: RedisSessionStore, name: str) -> str:
    return f"{store.key_prefix}{{/index}}:{name}"


async def index_keys(store: RedisSessionStore, client: Redis) -> set[str]:
    return {key async for key in client.scan_iter(match=index_key(store, "*"))}


async def drop_index(store: RedisSessionStore, client: Redis) -> None:
    for key in await index_keys(store, client):
        await client.delete(key)


async def ids_in_order(store: RedisSessionStore, order: str, limit: int, **query: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = await store.find_sessions(order=order, limit=limit, cursor=cursor, **query)
        ids += [row.id for row in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return ids


async def test_every_write_keeps_the_sorted_sets(store: RedisSessionStore, client: Redis) -> None:
    alice = await chat(store, "alice", 2)
    await chat(store, "bob", 1)
    session_id = alice.session_id
    stored = (await full_load(store))[session_id]
    updated = await client.zscore(index_key(store, "o:updated_at"), session_id)
    assert await client.zscore(index_key(store, "u:alice"), session_id) == updated
    assert await client.zscore(index_key(store, "m:gpt-4o-mini"), session_id) == updated
    assert await client.zscore(index_key(store, "o:tokens"), session_id) == stored.total_tokens
    assert await client.zscore(index_key(store, "o:cost"), session_id) == stored.total_cost_usd
    assert await client.zscore(index_key(store, "u:bob"), session_id) is None


async def test_a_database_written_without_the_index_gets_it_on_the_first_query(
    store: RedisSessionStore, client: Redis
) -> None:
    for user, turns in (("alice", 2), ("bob", 3), ("carol", 1)):
        await chat(store, user, turns)
    await drop_index(store, client)  # as an older version left the database
    assert await listed(store) == await full_load(store)
    assert index_key(store, "built") in await index_keys(store, client)
    by_cost = await ids_in_order(store, "-cost", 1)
    expected = sorted((await full_load(store)).values(), key=lambda r: (r.total_cost_usd, r.id))
    assert by_cost == [row.id for row in reversed(expected)]
    assert list(await listed(store, user_id="bob")) == [
        row.id for row in expected if row.user_id == "bob"
    ]


async def test_vacuum_rebuilds_the_index(store: RedisSessionStore, client: Redis) -> None:
    alice = await chat(store, "alice", 1)
    await client.zadd(index_key(store, "o:updated_at"), {"no-such-session": 1})
    await client.zadd(index_key(store, "u:alice"), {alice.session_id: 5})  # a wrong score
    await client.zrem(index_key(store, "o:created_at"), alice.session_id)
    await store.vacuum()
    assert await client.zrange(index_key(store, "o:updated_at"), 0, -1) == [alice.session_id]
    assert await client.zscore(index_key(store, "u:alice"), alice.session_id) == (
        await client.zscore(index_key(store, "o:updated_at"), alice.session_id)
    )
    assert await ids_in_order(store, "created_at", 10) == [alice.session_id]


async def test_deleted_and_expired_sessions_leave_the_index(
    store: RedisSessionStore, client: Redis
) -> None:
    kept, deleted, expired = [await chat(store, user, 1) for user in ("a", "b", "c")]
    assert await store.delete(deleted.session_id)
    assert await client.hget(index_key(store, "entries"), deleted.session_id) is None
    assert await client.zscore(index_key(store, "u:b"), deleted.session_id) is None
    async for name in client.scan_iter(match=f"{store.key_prefix}{{{expired.session_id}}}:*"):
        await client.pexpireat(name, 1)  # expired: Redis drops the keys, not the index entries
    assert list(await listed(store)) == [kept.session_id]
    assert [row.key["user_id"] for row in await store.usage(group_by="user_id")] == ["a"]
    assert await client.zscore(index_key(store, "o:updated_at"), expired.session_id) is None


async def test_an_entry_that_disagrees_with_its_hashes_is_skipped_and_rewritten(
    store: RedisSessionStore, client: Redis
) -> None:
    alice = await chat(store, "alice", 1)
    session_id = alice.session_id
    right = await client.zscore(index_key(store, "o:tokens"), session_id)
    await store.find_sessions()  # the index is built: what it holds is trusted from here
    await client.zadd(index_key(store, "o:tokens"), {session_id: 10**9})  # a late Cluster write
    page = await store.find_sessions(order="-tokens")
    assert [row.id for row in page.items] == []
    assert await client.zscore(index_key(store, "o:tokens"), session_id) == right
    assert [row.id for row in (await store.find_sessions(order="-tokens")).items] == [session_id]


async def test_a_removal_moves_the_session_in_cost_order(
    store: RedisSessionStore, client: Redis
) -> None:
    big = await chat(store, "alice", 3)
    small = await chat(store, "bob", 2)
    assert await ids_in_order(store, "-cost", 1) == [big.session_id, small.session_id]
    await big.pop_last_turn()
    await big.pop_last_turn()
    assert await client.sismember(index_key(store, "stale"), big.session_id)
    assert await ids_in_order(store, "-cost", 1) == [small.session_id, big.session_id]
    assert not await client.sismember(index_key(store, "stale"), big.session_id)
    assert await listed(store) == await full_load(store)


async def test_pages_walk_ties_by_id_exactly_once(store: RedisSessionStore) -> None:
    for n in range(7):
        await store.save(Session(id=f"tie-{n}"))  # no events: cost and tokens all 0
    for order in ("cost", "-cost", "tokens", "-tokens"):
        ids = await ids_in_order(store, order, 2)
        assert ids == sorted(ids, reverse=order.startswith("-"))
        assert len(ids) == 7


async def test_a_sealed_session_is_only_marked_and_a_listing_without_the_key_refuses_it(
    client: Redis, store: RedisSessionStore
) -> None:
    await chat(store, "alice", 1)
    await store.find_sessions()  # the index is built before the sealed session is written
    sealed = RedisSessionStore(client, key_prefix=store.key_prefix, encryption_key=b"k" * 32)
    secret = await chat(sealed, "bob", 1)
    assert await client.smembers(index_key(store, "stale")) == {secret.session_id}
    assert await client.hget(index_key(store, "entries"), secret.session_id) is None
    assert not {key async for key in client.scan_iter(match=index_key(store, "u:bob"))}
    with pytest.raises(EncryptionKeyError):
        await store.find_sessions()
    assert len((await sealed.find_sessions()).items) == 2


async def test_usage_leaves_out_and_unindexes_an_expired_session(
    store: RedisSessionStore, client: Redis
) -> None:
    kept, expired = [await chat(store, user, 1) for user in ("a", "c")]
    async for name in client.scan_iter(match=f"{store.key_prefix}{{{expired.session_id}}}:*"):
        await client.pexpireat(name, 1)
    rows = await store.usage(group_by=("user_id", "model"))
    assert [(row.key["user_id"], row.sessions) for row in rows] == [("a", 1)]
    assert await client.zscore(index_key(store, "o:updated_at"), expired.session_id) is None
    assert kept.session_id in await client.zrange(index_key(store, "o:updated_at"), 0, -1)


async def test_usage_recounts_a_summary_hash_marked_stale(
    store: RedisSessionStore, client: Redis
) -> None:
    alice = await chat(store, "alice", 2)
    summary = f"{store.key_prefix}{{{alice.session_id}}}:summary"
    await client.hset(summary, mapping={"tokens": "1", "stale": "1"})  # counts to redo
    rows = await store.usage(group_by=("user_id", "day"))
    assert [row.tokens for row in rows] == [(await full_load(store))[alice.session_id].total_tokens]
    assert rows[0].tokens > 1
    assert await client.hget(summary, "stale") == "0"


async def test_usage_read_in_small_batches_counts_ties_and_bounds_once(
    store: RedisSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_index_query, "_TALLY_BATCH", 2)
    start = datetime(2026, 3, 1, 23, tzinfo=UTC)
    for n in range(9):  # three sessions per moment; the last three on the next day
        moment = start + timedelta(minutes=30 * (n // 3))
        metadata = SessionMetadata(created_at=moment, updated_at=moment, user_id=f"u{n % 2}")
        await store.save(Session(id=f"s{n}", metadata=metadata))
    loaded = list((await full_load(store)).values())
    for limits in ({}, {"until": start + timedelta(hours=1)}, {"since": start.isoformat()}):
        query = UsageQuery.checked(group_by=("day", "user_id"), **limits)
        got = await store.usage(group_by=("day", "user_id"), **limits)
        assert got == usage_in(loaded, query)
        assert sum(row.sessions for row in got) == (6 if "until" in limits else 9)
