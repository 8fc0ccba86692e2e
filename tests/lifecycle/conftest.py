"""Fixtures for the lifecycle tests: provider factories (memory, Redis), unique sandboxes.

Every test gets a private copy of the settings ``factory_for_env`` reads, and the factories it
handed out are closed afterwards, so seed examples that set ``os.environ`` cannot leak.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from fake_clock import FakeClock

from llm_sessions.lifecycle import MemoryProviderFactory, MemoryStore, aclose_factories
from llm_sessions.lifecycle.protocol import ProviderFactory

ENV_KEYS = (
    "SESSION_PROVIDER",
    "SESSION_REDIS_URL",
    "REDIS_URL",
    "REDIS_TLS_INSECURE",
    "SESSION_MEMORY_MAX_ENTRIES",
    "CHUK_SANDBOX_ID",
    "ENVIRONMENT",
)


@pytest.fixture(autouse=True)
async def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    for key in ENV_KEYS:
        monkeypatch.setenv(key, "")  # records the original value (or its absence) for undo
        monkeypatch.delenv(key)
    yield
    await aclose_factories()


@pytest.fixture
async def token(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A short unique token: every sandbox and key of a test starts with ``lt-<token>``.

    A test that reached Redis (through ``redis_url``, ``redis_factory`` or ``provider``) has
    every key mentioning the token deleted afterwards, after its factories are closed.
    """
    value = f"lt-{uuid.uuid4().hex[:12]}"
    yield value
    if "redis_url" in request.fixturenames:
        await delete_keys(request.getfixturevalue("redis_url"), value)


@pytest.fixture
def sandbox(token: str) -> Callable[[str], str]:
    """Make unique sandbox ids: ``sandbox("a")`` -> ``lt-<token>-a``."""
    return lambda name: f"{token}-{name}"


@pytest.fixture
async def redis_factory(redis_url: str, token: str) -> AsyncIterator[ProviderFactory]:
    """A Redis provider factory (keys containing the test's token are deleted afterwards)."""
    from llm_sessions.lifecycle.providers.redis import RedisProviderFactory

    factory = RedisProviderFactory(redis_url)
    yield factory
    await factory.aclose()


async def delete_keys(redis_url: str, token: str) -> None:
    """Delete every key mentioning ``token`` (sandbox-scoped keys and raw test keys)."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        doomed = [key async for key in client.scan_iter(match=f"*{token}*", count=1000)]
        if doomed:
            await client.delete(*doomed)
    finally:
        await client.aclose()


@pytest.fixture
def clock() -> FakeClock:
    """The test's clock: the memory provider's, and the managers' the test builds with it."""
    return FakeClock()


@pytest.fixture(params=["memory", "redis"])
async def provider(
    request: pytest.FixtureRequest, token: str, clock: FakeClock
) -> AsyncIterator[ProviderFactory]:
    """Each provider in turn: a private memory store on the test's ``clock``, then a Redis
    pool (whose keys expire on the server's clock)."""
    if request.param == "memory":
        yield MemoryProviderFactory(MemoryStore(clock=clock))
        return
    redis_url: str = request.getfixturevalue("redis_url")
    from llm_sessions.lifecycle.providers.redis import RedisProviderFactory

    factory = RedisProviderFactory(redis_url)
    yield factory
    await factory.aclose()
