"""What only the Redis store does: its key layout, one round trip per append, expiry of every key
at once, client ownership and driver failures (the shared behaviour is in test_contract.py)."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any
from unittest import mock

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.crc import key_slot
from redis.exceptions import RedisError

from llm_sessions.exceptions import CorruptSessionData, InvalidInputError, StorageError
from llm_sessions.models import Session, SessionEvent, SessionRun
from llm_sessions.storage import open_store, supported_schemes
from llm_sessions.storage._binding import binding_of, sync_state_for
from llm_sessions.storage.providers.redis import RedisSessionStore, create_redis_session_store

pytestmark = pytest.mark.redis

PARTS = {
    "meta",
    "children",
    "tasks",
    "runs",
    "run_order",
    "state",
    "props",
    "events",
    "event_index",
    "removals",
    "summary",
}

NO_HANG = 30.0  # a refused connection fails at once; only a hang reaches this


class CountingConnection(Connection):
    """Counts writes to the socket: one per command, one per pipeline or transaction."""

    sent = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        await super().send_packed_command(command, check_health)


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_url, connection_class=CountingConnection)
    yield redis
    await redis.aclose()


@pytest.fixture
async def store(client: Redis, prefix: str) -> AsyncIterator[RedisSessionStore]:
    redis_store = RedisSessionStore(client, key_prefix=prefix)
    yield redis_store
    await redis_store.close()
    await RedisSessionStore(client, key_prefix=prefix).drop_all()  # works after a close too


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def keys_under(client: Redis, prefix: str, index: bool = False) -> list[str]:
    """The keys under ``prefix``: the sessions' keys, with ``index`` those of the index too."""
    found = [text(key) async for key in client.scan_iter(match=f"{prefix}*")]
    return sorted(key for key in found if index or "{/index}:" not in key)


async def full_session(store: RedisSessionStore, session_id: str = "full") -> Session[Any]:
    """A saved session that uses every key of the layout."""
    session: Session[Any] = Session(id=session_id, child_ids=["kid"], task_ids=["task"])
    session.state["k"] = 1
    await session.metadata.set_property("p", "v")
    session.runs.append(SessionRun(id="run"))
    await session.add_event(SessionEvent(message="hi"))
    await session.add_event(SessionEvent(message="removed"))
    await store.save(session)
    await session.remove_events([session.events[-1].id])
    return session


async def test_an_append_is_one_round_trip_at_any_length(store: RedisSessionStore) -> None:
    session: Session[Any] = Session()
    await session.add_event_and_save(SessionEvent(message="warm-up"))  # loads the script
    for length in (1, 500):
        while len(session.events) < length:
            await session.add_event(SessionEvent(message=len(session.events)))
        await store.save(session)
        before = CountingConnection.sent
        await session.add_event_and_save(SessionEvent(message="one more"))
        assert CountingConnection.sent - before == 1

    before = CountingConnection.sent
    loaded = await store.get(session.id)
    assert CountingConnection.sent - before == 1
    assert loaded is not None and len(loaded.events) == 501


async def test_a_refresh_finds_a_header_change_whoever_wrote_it(
    store: RedisSessionStore, client: Redis, prefix: str
) -> None:
    # The tag is a digest of the header as read, so a writer that knows nothing of it (an
    # older version of this library, a hand-made fix) cannot change a header a reader skips.
    parent: Session[Any] = Session(id="p", child_ids=["kid"], state={"a": 1})
    await parent.add_event(SessionEvent(message="first"))
    await store.save(parent)
    held = await store.get("p")
    assert held is not None
    writer = await RedisSessionStore(client, key_prefix=prefix).get("p")
    assert writer is not None

    await client.hset(f"{prefix}{{p}}:state", "a", "2")  # not through this library
    await client.zadd(f"{prefix}{{p}}:children", {"their-kid": 99})
    await writer.add_event_and_save(SessionEvent(message="second"))
    assert await store.refresh(held) is held
    assert held.state == {"a": 2}
    assert held.child_ids == ["kid", "their-kid"]
    assert [e.message for e in held.events] == ["first", "second"]


async def test_every_key_of_a_session_shares_its_hash_tag(
    store: RedisSessionStore, client: Redis, prefix: str
) -> None:
    await full_session(store, "tagged")
    await full_session(store, "other")

    keys = [key for key in await keys_under(client, prefix) if "{tagged}" in key]

    assert {key.rsplit(":", 1)[1] for key in keys} == PARTS
    assert all(key.startswith(f"{prefix}{{tagged}}:") for key in keys)
    assert len({key_slot(key.encode()) for key in keys}) == 1


async def server_ms(client: Redis) -> int:
    """The Redis server's clock, in milliseconds."""
    seconds, micros = await client.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def expiries(client: Redis, keys: list[str]) -> set[int]:
    """The keys' absolute expiry times (``PEXPIRETIME``, server milliseconds)."""
    return {int(await client.pexpiretime(key)) for key in keys}


async def test_expiration_seconds_covers_every_key_at_once(client: Redis, prefix: str) -> None:
    # Checked on absolute expiry times against the server's clock around the writes: no
    # window of the test's own speed to meet.
    store = RedisSessionStore(client, key_prefix=prefix, expiration_seconds=100)
    try:
        before = await server_ms(client)
        await full_session(store)
        after = await server_ms(client)
        keys = await keys_under(client, prefix)
        assert len(keys) == len(PARTS)
        for expiry in await expiries(client, keys):
            assert before + 100_000 <= expiry <= after + 100_000
    finally:
        await store.drop_all()


async def test_set_expiration_changes_every_key_and_new_keys_inherit_it(
    store: RedisSessionStore, client: Redis, prefix: str
) -> None:
    session: Session[Any] = Session(id="s")
    await store.save(session)
    before = await server_ms(client)
    assert await store.set_expiration("s", 50) is True

    await session.add_child("kid")  # creates the children key after the expiry was set
    await session.add_event_and_save(SessionEvent(message="x"))  # and the event keys
    after = await server_ms(client)

    keys = await keys_under(client, prefix)
    assert {key.rsplit(":", 1)[1] for key in keys} >= {"meta", "children", "events"}
    for expiry in await expiries(client, keys):
        assert before + 50_000 <= expiry <= after + 50_000

    assert await store.set_expiration("s", None) is True
    assert {await client.pttl(key) for key in keys} == {-1}
    assert await store.set_expiration("missing", 5) is False


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf"), "10"])
async def test_set_expiration_rejects_bad_seconds(store: RedisSessionStore, seconds: Any) -> None:
    with pytest.raises(InvalidInputError, match="seconds"):
        await store.set_expiration("s", seconds)


async def test_a_retried_batch_appends_nothing_twice(
    store: RedisSessionStore, client: Redis, prefix: str
) -> None:
    session: Session[Any] = Session(id="retry")
    for n in range(3):
        await session.add_event(SessionEvent(message=n))
    batch = sync_state_for(session, store).prepare(session, binding_of(session).removals)

    await store._write(batch)
    batch.must_exist = None  # a save retried after a lost reply: it may have landed
    await store._write(batch)  # as if the first reply had been lost

    loaded = await store.get("retry")
    assert loaded is not None
    assert [event.message for event in loaded.events] == [0, 1, 2]
    assert await client.hlen(f"{prefix}{{retry}}:event_index") == 3


async def test_concurrent_appends_keep_the_event_index_consistent(
    store: RedisSessionStore, client: Redis, prefix: str
) -> None:
    await store.save(Session(id="busy"))
    writers = [await store.get("busy") for _ in range(20)]

    async def append(writer: Session[Any] | None, n: int) -> None:
        assert writer is not None
        for k in range(10):
            await writer.add_event_and_save(SessionEvent(id=f"e{n}-{k}", message=k))

    await asyncio.gather(*(append(writer, n) for n, writer in enumerate(writers)))

    events = [text(e) for e in await client.lrange(f"{prefix}{{busy}}:events", 0, -1)]
    index = await client.hgetall(f"{prefix}{{busy}}:event_index")
    assert len(events) == len(index) == 200
    for event_id, position in index.items():
        assert f'"id":"{text(event_id)}"' in events[int(position)]


async def test_list_sessions_treats_glob_characters_literally(client: Redis) -> None:
    token = uuid.uuid4().hex[:12]
    stores = [
        RedisSessionStore(client, key_prefix=f"test-{token}-[a]*?:"),
        RedisSessionStore(client, key_prefix=f"test-{token}-a*?:"),
    ]
    try:
        for session_id in ["a*1", "ab", "a?c"]:
            await stores[0].save(Session(id=session_id))
        await stores[1].save(Session(id="elsewhere"))

        assert await stores[0].list_sessions() == ["a*1", "a?c", "ab"]
        assert await stores[0].list_sessions("a*") == ["a*1"]
        assert await stores[0].list_sessions("a?") == ["a?c"]
        assert await stores[1].list_sessions() == ["elsewhere"]
    finally:
        for redis_store in stores:
            await redis_store.drop_all()


async def test_drop_all_removes_only_this_prefix(
    store: RedisSessionStore, client: Redis, prefix: str
) -> None:
    await full_session(store)
    neighbour = f"{prefix}unrelated"
    await client.set(neighbour, "keep")
    try:
        index = [key for key in await keys_under(client, prefix, True) if "{/index}:" in key]
        assert index  # the sorted sets of the index go too
        assert await store.drop_all() == len(PARTS) + len(index)
        assert await keys_under(client, prefix, True) == [neighbour]
    finally:
        await client.delete(neighbour)


async def test_a_corrupt_event_is_logged_with_its_key_and_skipped(
    store: RedisSessionStore, client: Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    session: Session[Any] = Session(id="bad-event")
    for n in range(3):
        await session.add_event(SessionEvent(message=n))
    await store.save(session)
    await client.lset(f"{prefix}{{bad-event}}:events", 1, "{not json")

    with caplog.at_level(logging.WARNING, logger="llm_sessions.storage"):
        loaded = await store.get("bad-event")

    assert loaded is not None
    assert [event.message for event in loaded.events] == [0, 2]
    assert f"{prefix}{{bad-event}}:events" in caplog.text
    assert await client.lindex(f"{prefix}{{bad-event}}:events", 1) == b"{not json"


async def test_a_corrupt_header_raises_naming_its_key(
    store: RedisSessionStore, client: Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    await store.save(Session(id="bad-header"))
    await client.hset(f"{prefix}{{bad-header}}:meta", "created_at", "yesterday")

    with (
        caplog.at_level(logging.WARNING, logger="llm_sessions.storage"),
        pytest.raises(CorruptSessionData, match=r"\{bad-header\}:meta"),
    ):
        await store.get("bad-header")
    assert "bad-header" in caplog.text


async def test_a_client_that_decodes_responses_works_too(redis_url: str, prefix: str) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    store = RedisSessionStore(client, key_prefix=prefix)
    try:
        original = await full_session(store)
        loaded = await store.get(original.id)
        assert loaded is not None
        assert loaded.model_dump(mode="json") == original.model_dump(mode="json")
        assert await store.list_sessions() == [original.id]
    finally:
        await store.drop_all()
        await client.aclose()


async def test_an_injected_client_stays_open(store: RedisSessionStore, client: Redis) -> None:
    await store.save(Session(id="x"))
    await store.close()
    assert await client.ping() is True


async def test_a_store_closes_the_client_it_created(redis_url: str, prefix: str) -> None:
    store = open_store(f"{redis_url}?key_prefix={prefix}")
    assert isinstance(store, RedisSessionStore)
    await store.save(Session(id="x"))
    await store.drop_all()
    with mock.patch.object(store.client, "aclose", wraps=store.client.aclose) as aclose:
        await store.close()
        await store.close()
    aclose.assert_awaited_once()


async def test_create_redis_session_store(redis_url: str, prefix: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(redis_url)
    store = await create_redis_session_store(
        host=parts.hostname or "localhost",
        port=parts.port or 6379,
        key_prefix=prefix,
        expiration_seconds=60,
    )
    try:
        session = await Session.create(store=store)
        await session.add_event_and_save(SessionEvent(message="hello"))
        loaded = await store.get(session.id)
        assert loaded is not None and [e.message for e in loaded.events] == ["hello"]
        assert 0 < await store.client.ttl(f"{prefix}{{{session.id}}}:events") <= 60
        await store.flush()  # documented no-ops: nothing is buffered or cached
        await store.clear_cache()
        assert await store.list_sessions() == [session.id]
    finally:
        await store.drop_all()
        await store.close()


def test_urls_and_their_options() -> None:
    assert {"redis", "rediss"} <= set(supported_schemes())
    store = open_store("redis://127.0.0.1:6379/3?key_prefix=app:&expiration_seconds=30")
    assert isinstance(store, RedisSessionStore)
    assert (store.key_prefix, store.expiration_seconds) == ("app:", 30)
    assert store.client.connection_pool.connection_kwargs["db"] == 3
    secure = open_store("rediss://127.0.0.1:6380/0", key_prefix="tls:")
    assert isinstance(secure, RedisSessionStore) and secure.key_prefix == "tls:"
    with pytest.raises(InvalidInputError, match="expiration_seconds"):
        open_store("redis://127.0.0.1:6379/0?expiration_seconds=soon")


async def test_an_unreachable_server_fails_fast_with_storage_error() -> None:
    store = open_store("redis://127.0.0.1:1/0?key_prefix=nowhere:")
    with pytest.raises(StorageError, match=r"127\.0\.0\.1:1\b") as caught:
        await asyncio.wait_for(store.get("anything"), NO_HANG)  # a refused connection, no hang
    assert isinstance(caught.value.__cause__, RedisError | OSError)
    await store.close()


async def test_create_redis_session_store_checks_the_server() -> None:
    with pytest.raises(StorageError, match="does not answer") as caught:
        await asyncio.wait_for(create_redis_session_store(port=1), NO_HANG)
    assert isinstance(caught.value.__cause__, RedisError | OSError)


def test_a_missing_driver_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ImportError, match=re.escape('pip install "llm-sessions[redis]"')):
        open_store("redis://127.0.0.1:6379/0")
