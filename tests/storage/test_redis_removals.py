"""The Redis store's index of removal records (``P{id}:removals`` up to ``removals_through``):
a paged read finds the records without scanning the log, and stays complete for sessions written
before the index existed, for rows an older writer appended, and after ``vacuum()``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage.providers.redis import RedisSessionStore
from llm_sessions.storage.removals import removal_records

pytestmark = pytest.mark.redis


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_url, decode_responses=True)
    yield redis
    await redis.aclose()


@pytest.fixture
async def store(client: Redis) -> AsyncIterator[RedisSessionStore]:
    redis_store = RedisSessionStore(client, key_prefix=f"test-{uuid.uuid4().hex[:12]}:")
    yield redis_store
    await redis_store.drop_all()
    await redis_store.close()


def key(store: RedisSessionStore, session_id: str, part: str) -> str:
    return f"{store.key_prefix}{{{session_id}}}:{part}"


async def saved_session(store: RedisSessionStore, events: int = 20) -> Session[Any]:
    session: Session[Any] = Session()
    for n in range(events):
        await session.add_event(SessionEvent(message=f"m{n}"))
    await store.save(session)
    return session


async def newest_messages(store: RedisSessionStore, session_id: str, limit: int) -> list[Any]:
    page = await store.read_events(session_id, limit=limit, newest_first=True)
    assert page is not None
    return [event.message for event in page]


async def test_a_removal_is_indexed_with_the_write_that_appends_it(
    store: RedisSessionStore, client: Redis
) -> None:
    session = await saved_session(store)
    await session.remove_events([session.events[-1].id, session.events[-3].id])

    record_ids = await client.smembers(key(store, session.id, "removals"))
    assert len(record_ids) == 1 and next(iter(record_ids)).startswith("~removed~")
    through = await client.hget(key(store, session.id, "meta"), "removals_through")
    assert through == str(await client.llen(key(store, session.id, "events"))) == "21"
    assert await newest_messages(store, session.id, 3) == ["m18", "m16", "m15"]


async def test_a_session_written_before_the_index_existed_is_read_completely(
    store: RedisSessionStore, client: Redis
) -> None:
    session = await saved_session(store)
    await session.remove_events([session.events[-1].id])
    await client.delete(key(store, session.id, "removals"))
    await client.hdel(key(store, session.id, "meta"), "removals_through")

    assert await newest_messages(store, session.id, 2) == ["m18", "m17"]

    await session.add_event_and_save(SessionEvent(message="next"))  # indexes the old record
    assert len(await client.smembers(key(store, session.id, "removals"))) == 1
    through = await client.hget(key(store, session.id, "meta"), "removals_through")
    assert through == str(await client.llen(key(store, session.id, "events")))
    assert await newest_messages(store, session.id, 2) == ["next", "m18"]


async def test_a_record_that_an_older_writer_appended_is_found_and_then_indexed(
    store: RedisSessionStore, client: Redis
) -> None:
    session = await saved_session(store)
    target = session.events[-1].id
    # What a writer without the index does: the row and its position, nothing else.
    ((record_id, row),) = removal_records([target], datetime.now(UTC))
    events = key(store, session.id, "events")
    position = await client.rpush(events, row) - 1
    await client.hset(key(store, session.id, "event_index"), record_id, position)

    assert await newest_messages(store, session.id, 2) == ["m18", "m17"]

    await session.add_event_and_save(SessionEvent(message="next"))
    assert await client.smembers(key(store, session.id, "removals")) == {record_id}
    assert await newest_messages(store, session.id, 2) == ["next", "m18"]


async def test_vacuum_makes_the_next_write_index_the_records_afresh(
    store: RedisSessionStore, client: Redis
) -> None:
    session = await saved_session(store)
    await session.remove_events([session.events[-1].id])
    events = key(store, session.id, "events")
    await client.lset(events, 0, "{not json")  # an unreadable row before the record

    assert await store.vacuum() == 1
    meta = key(store, session.id, "meta")
    assert await client.hget(meta, "removals_through") is None
    assert await newest_messages(store, session.id, 2) == ["m18", "m17"]

    fresh = await store.get(session.id)
    assert fresh is not None
    await fresh.add_event_and_save(SessionEvent(message="next"))
    assert await client.hget(meta, "removals_through") == str(await client.llen(events))
    assert await newest_messages(store, session.id, 2) == ["next", "m18"]


async def test_the_removal_index_expires_with_the_session(client: Redis) -> None:
    store = RedisSessionStore(
        client, key_prefix=f"test-{uuid.uuid4().hex[:12]}:", expiration_seconds=100
    )
    try:
        session = await saved_session(store)
        await session.remove_events([session.events[0].id])
        removals = key(store, session.id, "removals")
        assert 0 < await client.pttl(removals) <= 100_000
        assert await store.set_expiration(session.id, None)
        assert await client.pttl(removals) == -1
        assert await store.delete(session.id)
        assert not await client.exists(removals)
    finally:
        await store.drop_all()
        await store.close()
