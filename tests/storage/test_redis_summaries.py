"""The Redis store's summary hashes: kept by the write script, read without loading a session,
recounted after removals, and added to sessions stored before they existed."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from test_redis_removals import client, store
from test_sqlite_summaries import chat, full_load, listed, no_loads

from llm_sessions.storage.providers.redis import RedisSessionStore

pytestmark = pytest.mark.redis
__all__ = ["client", "store"]  # the fixtures this module uses


def summary_key(store: RedisSessionStore, session_id: str) -> str:
    return f"{store.key_prefix}{{{session_id}}}:summary"


async def test_listings_and_totals_read_summary_hashes_only(
    store: RedisSessionStore, client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await chat(store, "alice", 3)
    await alice.ai_responds("free", model="local-model", usage={"prompt_tokens": 2})
    await chat(store, "bob", 1)
    expected = await full_load(store)
    session_id = alice.session_id
    counts = await client.hgetall(summary_key(store, session_id))
    assert counts["events"] == str(expected[session_id].event_count)
    assert counts["stale"] == "0"
    no_loads(store, monkeypatch)
    assert await listed(store) == expected
    (total,) = await store.usage(group_by=())
    assert total.tokens == sum(row.total_tokens for row in expected.values())
    assert total.unpriced_models == ["local-model"]


async def test_a_removal_marks_the_hash_stale_and_the_listing_recounts_it(
    store: RedisSessionStore, client: Redis
) -> None:
    alice = await chat(store, "alice", 3)
    session_id = alice.session_id
    await alice.pop_last_turn()
    assert await client.hget(summary_key(store, session_id), "stale") == "1"
    assert await listed(store) == await full_load(store)
    assert await client.hget(summary_key(store, session_id), "stale") == "0"


async def test_sessions_stored_before_the_hashes_existed_are_counted_and_upgraded(
    store: RedisSessionStore, client: Redis
) -> None:
    alice = await chat(store, "alice", 2)
    session_id = alice.session_id
    await client.delete(summary_key(store, session_id))  # as an older version left it
    await alice.user_says("one more")  # appends to a log the hash never counted
    assert await client.hget(summary_key(store, session_id), "stale") == "1"
    assert await listed(store) == await full_load(store)
    counts = await client.hgetall(summary_key(store, session_id))
    assert counts["stale"] == "0"
    assert counts["events"] == str((await full_load(store))[session_id].event_count)


async def test_the_summary_hash_goes_with_the_session(
    store: RedisSessionStore, client: Redis
) -> None:
    alice = await chat(store, "alice", 1)
    session_id = alice.session_id
    assert await store.set_expiration(session_id, 60)
    assert await client.pttl(summary_key(store, session_id)) > 0
    await store.delete(session_id)
    assert not await client.exists(summary_key(store, session_id))
    assert session_id not in await listed(store)


async def test_rows_vacuum_moves_aside_are_taken_out_of_the_counts(
    store: RedisSessionStore, client: Redis
) -> None:
    alice = await chat(store, "alice", 2)
    events = f"{store.key_prefix}{{{alice.session_id}}}:events"
    await client.lset(events, 1, "{not json")  # an unreadable row the summary counted

    assert await store.vacuum() == 1  # its rebuild of the index recounts the session
    assert await client.hget(summary_key(store, alice.session_id), "stale") == "0"
    assert await listed(store) == await full_load(store)
