"""The Redis provider: one lazily created pool, precise expiry, StorageError on failure."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from llm_sessions.exceptions import InvalidInputError, InvalidSessionOperation, StorageError
from llm_sessions.lifecycle import KeyValueSession
from llm_sessions.lifecycle.providers.redis import RedisProviderFactory, redact_url

pytestmark = pytest.mark.redis


def _connections(factory: RedisProviderFactory) -> int:
    assert factory.client is not None
    return sum(count for count, _ in factory.client.connection_pool.get_connection_count())


async def test_roundtrip(redis_factory: RedisProviderFactory, token: str) -> None:
    async with redis_factory() as session:
        assert isinstance(session, KeyValueSession)
        await session.setex(f"{token}:user:123", 300, "alice")
        assert await session.get(f"{token}:user:123") == "alice"
        await session.set(f"{token}:plain", "v")
        assert await session.get(f"{token}:plain") == "v"
        assert await session.delete(f"{token}:user:123") is True
        assert await session.delete(f"{token}:user:123") is False
        assert await session.get(f"{token}:user:123") is None


async def _server_ms(client: Any) -> int:
    seconds, micros = await client.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def _ttl_given(factory: RedisProviderFactory, key: str, ttl_seconds: float) -> range:
    """The milliseconds of life the server gave ``key`` when the provider set it for
    ``ttl_seconds``, as the range its absolute expiry (``PEXPIRETIME``) allows given the
    server's clock read just before and just after: no waiting, and no window to meet."""
    async with factory() as session:
        before = await _server_ms(session.client)
        await session.setex(key, ttl_seconds, "v")
        after = await _server_ms(session.client)
        expires_at = int(await session.client.pexpiretime(key))
    return range(expires_at - after, expires_at - before + 1)


async def test_fractional_ttl_keeps_millisecond_precision(
    redis_factory: RedisProviderFactory, token: str
) -> None:
    # 2.5 s kept to the millisecond: neither 2 s (truncated) nor 3 s (rounded up).
    given = await _ttl_given(redis_factory, f"{token}:k", 2.5)
    assert 2500 in given
    assert 2000 not in given and 3000 not in given


async def test_expiry(redis_factory: RedisProviderFactory, token: str) -> None:
    assert 200 in await _ttl_given(redis_factory, f"{token}:short", 0.2)
    assert 60_000 in await _ttl_given(redis_factory, f"{token}:long", 60)
    async with redis_factory() as session:
        assert await session.get(f"{token}:short") == "v"
        # Move the short key's expiry into the past: what its 0.2 s running out does.
        await session.client.pexpireat(f"{token}:short", 1)
        assert await session.get(f"{token}:short") is None
        assert await session.get(f"{token}:long") == "v"


async def test_client_is_created_lazily_and_shared(
    redis_factory: RedisProviderFactory, token: str
) -> None:
    assert redis_factory.client is None
    async with redis_factory() as first, redis_factory() as second:
        assert first.client is second.client
    assert redis_factory.client is first.client


async def test_many_operations_reuse_one_connection(
    redis_factory: RedisProviderFactory, token: str
) -> None:
    created = 0
    async with redis_factory() as session:
        await session.get(f"{token}:warm-up")
    assert redis_factory.client is not None
    pool = redis_factory.client.connection_pool
    make_connection = pool.make_connection

    def counting_make_connection() -> Any:
        nonlocal created
        created += 1
        return make_connection()  # type: ignore[no-untyped-call]

    pool.make_connection = counting_make_connection  # type: ignore[method-assign]
    for i in range(200):
        async with redis_factory() as session:
            await session.setex(f"{token}:{i}", 60, str(i))
            assert await session.get(f"{token}:{i}") == str(i)
    assert created == 0
    assert _connections(redis_factory) == 1


async def test_concurrent_operations_are_bounded_by_concurrency(
    redis_factory: RedisProviderFactory, token: str
) -> None:
    async def worker(n: int) -> None:
        for i in range(25):
            async with redis_factory() as session:
                await session.setex(f"{token}:{n}:{i}", 60, "x")

    await asyncio.gather(*(worker(n) for n in range(10)))
    assert 1 <= _connections(redis_factory) <= 10


async def _server_side_connections(redis_url: str, name: str) -> int:
    admin = Redis.from_url(redis_url, decode_responses=True)
    try:
        return sum(1 for client in await admin.client_list() if client.get("name") == name)
    finally:
        await admin.aclose()


async def test_server_sees_one_connection_and_none_after_aclose(redis_url: str, token: str) -> None:
    factory = RedisProviderFactory(redis_url, client_name=token)
    try:
        for i in range(100):
            async with factory() as session:
                await session.setex(f"{token}:{i}", 60, "x")
                old_client = session.client
        assert await _server_side_connections(redis_url, token) == 1
        await factory.aclose()
        assert factory.client is None
        assert await _server_side_connections(redis_url, token) == 0
        async with factory() as session:
            assert session.client is not old_client
            assert await session.get(f"{token}:99") == "x"
    finally:
        await factory.aclose()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_unreachable_server_raises_storage_error_within_its_bounds() -> None:
    # "Quickly" is what the client is configured with, not a stopwatch reading: a connect
    # timeout, a read timeout and two quick retries bound how long a dead server can stall.
    factory = RedisProviderFactory(f"redis://:secret@127.0.0.1:{_closed_port()}/0")
    try:
        async with factory() as session:
            with pytest.raises(StorageError) as info:
                await session.get("anything")
            options = session.client.connection_pool.connection_kwargs
    finally:
        await factory.aclose()
    assert (options["socket_connect_timeout"], options["socket_timeout"]) == (2.0, 5.0)
    assert options["retry"].get_retries() == 2
    assert isinstance(info.value.__cause__, RedisError)
    assert "GET 'anything'" in str(info.value)
    assert "secret" not in str(info.value)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s, k: s.setex(k, 0, "v"), "ttl_seconds"),
        (lambda s, k: s.setex(k, -5, "v"), "ttl_seconds"),
        (lambda s, k: s.setex(k, 60, 5), "value"),
        (lambda s, k: s.set(k, b"raw"), "value"),
        (lambda s, k: s.setex(1, 60, "v"), "key"),
        (lambda s, k: s.get(None), "key"),
    ],
)
async def test_bad_input_is_rejected_and_stores_nothing(  # type: ignore[no-untyped-def]
    redis_factory: RedisProviderFactory, token: str, call, field: str
) -> None:
    key = f"{token}:k"
    async with redis_factory() as session:
        await session.setex(key, 60, "original")
        with pytest.raises(InvalidInputError) as info:
            await call(session, key)
        assert info.value.field == field
        assert await session.get(key) == "original"


def test_bad_urls_are_rejected_with_the_field_named() -> None:
    with pytest.raises(InvalidInputError, match=r"redis_url.*redis://, rediss://, unix://"):
        RedisProviderFactory("http://localhost:6379")
    with pytest.raises(InvalidInputError, match="only database 0"):
        RedisProviderFactory("redis://node1:7000,node2:7000/2")
    with pytest.raises(InvalidInputError, match="redis_url"):
        RedisProviderFactory(None)  # type: ignore[arg-type]


def test_redact_url_hides_password() -> None:
    assert redact_url("redis://user:pw@host:6380/1") == "redis://user:***@host:6380/1"
    assert redact_url("redis://host:6379/0") == "redis://host:6379/0"
    assert redact_url("rediss://:pw@[::1]:6380/0") == "rediss://:***@[::1]:6380/0"
    assert redact_url("redis://user@host/0") == "redis://user@host/0"


def test_bad_retry_count_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="retries"):
        RedisProviderFactory("redis://localhost", retries=-1)


async def test_tls_insecure_turns_off_certificate_checks() -> None:
    factory = RedisProviderFactory("rediss://127.0.0.1:6380/0", tls_insecure=True)
    async with factory() as session:  # builds the client; nothing connects until a command
        kwargs = session.client.connection_pool.connection_kwargs
    await factory.aclose()
    assert kwargs["ssl_cert_reqs"] == "none"
    assert kwargs["ssl_check_hostname"] is False
    strict = RedisProviderFactory("rediss://127.0.0.1:6380/0")
    async with strict() as session:
        kwargs = session.client.connection_pool.connection_kwargs
    await strict.aclose()
    assert kwargs.get("ssl_cert_reqs", "required") == "required"


def test_pool_of_a_closed_loop_is_replaced(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    factory = RedisProviderFactory(redis_url)

    async def open_context() -> object:
        async with factory() as session:
            return session.client

    first = asyncio.run(open_context())  # no command sent: no socket to leak
    with caplog.at_level(logging.WARNING):
        second = asyncio.run(open_context())
    asyncio.run(factory.aclose())
    assert first is not second
    assert "abandoning" in caplog.text


def test_pool_of_another_open_loop_is_refused(redis_url: str) -> None:
    factory = RedisProviderFactory(redis_url)

    async def open_context() -> None:
        async with factory():
            pass

    other = asyncio.new_event_loop()
    try:
        other.run_until_complete(open_context())
        with pytest.raises(InvalidSessionOperation, match="another event loop that is still open"):
            asyncio.run(open_context())
        other.run_until_complete(factory.aclose())
    finally:
        other.close()
