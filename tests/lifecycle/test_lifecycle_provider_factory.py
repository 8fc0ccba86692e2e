"""factory_for_env: provider selection, Redis URL precedence, TLS, errors, sharing, laziness."""

from __future__ import annotations

import subprocess
import sys

import pytest

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.lifecycle import MemoryProviderFactory, aclose_factories, factory_for_env
from llm_sessions.lifecycle.provider_factory import DEFAULT_REDIS_URL


@pytest.mark.parametrize("name", [None, "", "memory", "mem", "inmemory", " MEMORY ", "InMemory"])
def test_memory_names(name: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if name is not None:
        monkeypatch.setenv("SESSION_PROVIDER", name)
    assert isinstance(factory_for_env(), MemoryProviderFactory)


@pytest.mark.parametrize("name", ["redis", "redis_store", "REDIS"])
def test_redis_names(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from llm_sessions.lifecycle.providers.redis import RedisProviderFactory

    monkeypatch.setenv("SESSION_PROVIDER", name)
    factory = factory_for_env()
    assert isinstance(factory, RedisProviderFactory)
    assert factory.client is None  # nothing is created before first use
    assert factory.url == DEFAULT_REDIS_URL


def test_unknown_provider_names_variable_value_and_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SESSION_PROVIDER", "memcached")
    with pytest.raises(ValueError) as info:
        factory_for_env()
    message = str(info.value)
    assert "SESSION_PROVIDER" in message
    assert "'memcached'" in message
    for accepted in ("memory", "mem", "inmemory", "redis", "redis_store"):
        assert accepted in message


def test_session_redis_url_wins_over_redis_url() -> None:
    env = {
        "SESSION_PROVIDER": "redis",
        "SESSION_REDIS_URL": "redis://first:6379/1",
        "REDIS_URL": "redis://second:6379/2",
    }
    assert factory_for_env(env).url == "redis://first:6379/1"  # type: ignore[attr-defined]
    del env["SESSION_REDIS_URL"]
    assert factory_for_env(env).url == "redis://second:6379/2"  # type: ignore[attr-defined]


def test_bad_redis_url_names_the_variable() -> None:
    env = {"SESSION_PROVIDER": "redis", "REDIS_URL": "http://nope"}
    with pytest.raises(InvalidInputError) as info:
        factory_for_env(env)
    assert info.value.field == "REDIS_URL"
    env = {"SESSION_PROVIDER": "redis", "SESSION_REDIS_URL": "redis://a:1,b:2/3"}
    with pytest.raises(InvalidInputError, match=r"SESSION_REDIS_URL.*only database 0"):
        factory_for_env(env)


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("true", True), ("0", False), ("", False)]
)
def test_tls_insecure_flag(raw: str, expected: bool) -> None:
    env = {
        "SESSION_PROVIDER": "redis",
        "SESSION_REDIS_URL": "rediss://cache.example:6380/0",
        "REDIS_TLS_INSECURE": raw,
    }
    factory = factory_for_env(env)
    assert factory.tls_insecure is expected  # type: ignore[attr-defined]
    assert (factory._options.get("ssl_cert_reqs") == "none") is expected  # type: ignore[attr-defined]


def test_bad_tls_flag_is_rejected() -> None:
    env = {"SESSION_PROVIDER": "redis", "REDIS_TLS_INSECURE": "maybe"}
    with pytest.raises(InvalidInputError, match="REDIS_TLS_INSECURE='maybe'"):
        factory_for_env(env)


def test_memory_limit_from_environment() -> None:
    factory = factory_for_env({"SESSION_MEMORY_MAX_ENTRIES": "7"})
    assert factory.store.max_entries == 7  # type: ignore[attr-defined]
    for bad in ("0", "-3", "ten", "1.5"):
        with pytest.raises(InvalidInputError, match="SESSION_MEMORY_MAX_ENTRIES"):
            factory_for_env({"SESSION_MEMORY_MAX_ENTRIES": bad})


async def test_same_configuration_shares_one_factory_and_its_data() -> None:
    first = factory_for_env()
    assert factory_for_env() is first
    async with first() as session:
        await session.setex("shared:key", 60, "v")
    async with factory_for_env()() as session:
        assert await session.get("shared:key") == "v"
    redis_a = factory_for_env({"SESSION_PROVIDER": "redis"})
    assert factory_for_env({"SESSION_PROVIDER": "redis_store"}) is redis_a
    assert redis_a is not first


async def test_aclose_factories_forgets_them() -> None:
    first = factory_for_env()
    async with first() as session:
        await session.setex("k", 60, "v")
    await aclose_factories()
    second = factory_for_env()
    assert second is not first
    async with second() as session:
        assert await session.get("k") is None


def test_importing_and_constructing_load_no_driver() -> None:
    code = (
        "import sys, llm_sessions\n"
        "before = set(sys.modules)\n"
        "import llm_sessions.lifecycle as lifecycle\n"
        "import llm_sessions.lifecycle.provider_factory\n"
        "lifecycle.SessionManager(sandbox_id='x')\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] == 'redis'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
