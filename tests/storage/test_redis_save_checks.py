"""A Redis save that cannot complete writes nothing: the write script checks every key it
touches before its first write."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from llm_sessions.exceptions import StorageError
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage.providers.redis import RedisSessionStore

pytestmark = pytest.mark.redis


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_url)
    yield redis
    await redis.aclose()


@pytest.fixture
async def store(client: Redis) -> AsyncIterator[RedisSessionStore]:
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    redis_store = RedisSessionStore(client, key_prefix=prefix)
    yield redis_store
    await redis_store.close()
    await RedisSessionStore(client, key_prefix=prefix).drop_all()


def key(store: RedisSessionStore, session_id: str, part: str) -> str:
    return f"{store.key_prefix}{{{session_id}}}:{part}"


async def snapshot(client: Redis, store: RedisSessionStore) -> dict[str, Any]:
    found: dict[str, Any] = {}
    async for name in client.scan_iter(match=f"{store.key_prefix}*"):
        kind = (await client.type(name)).decode()
        if kind == "hash":
            found[name.decode()] = await client.hgetall(name)
        elif kind == "list":
            found[name.decode()] = await client.lrange(name, 0, -1)
        elif kind == "zset":
            found[name.decode()] = await client.zrange(name, 0, -1)
        else:
            found[name.decode()] = await client.get(name)
    return found


async def a_changed_session(session_id: str) -> Session[Any]:
    session: Session[Any] = Session(id=session_id, state={"step": 2})
    await session.add_event(SessionEvent(message="new"))
    return session


@pytest.mark.parametrize("part", ["events", "event_index", "state", "children", "meta"])
async def test_a_wrong_type_key_fails_the_save_before_any_write(
    client: Redis, store: RedisSessionStore, part: str
) -> None:
    await client.set(key(store, "s", part), "not what the store wrote")
    before = await snapshot(client, store)

    with pytest.raises(StorageError, match=part):
        await store.save(await a_changed_session("s"))

    assert await snapshot(client, store) == before


async def test_a_corrupt_position_fails_an_edit_before_any_write(
    client: Redis, store: RedisSessionStore
) -> None:
    session: Session[Any] = Session(id="edited")
    event: SessionEvent[Any] = SessionEvent(message="first")
    await session.add_event(event)
    await store.save(session)
    await client.hset(key(store, "edited", "event_index"), event.id, "99")
    before = await snapshot(client, store)

    event.message = "changed"
    session.state["step"] = 3
    with pytest.raises(StorageError, match="not a position"):
        await store.save(session)

    assert await snapshot(client, store) == before
