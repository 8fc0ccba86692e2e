"""SessionManager on both providers: lifecycle, expiry, metadata, TTL, cache, stored data."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from fake_clock import FakeClock

from llm_sessions.exceptions import (
    CorruptSessionData,
    InvalidInputError,
    SessionAlreadyExists,
    StorageError,
)
from llm_sessions.lifecycle import MemoryProviderFactory, MemoryStore, SessionManager
from llm_sessions.lifecycle.keys import access_key, record_key
from llm_sessions.lifecycle.protocol import KeyValueSession, ProviderFactory
from llm_sessions.lifecycle.providers.redis import RedisProviderFactory

ONE_SECOND = 1 / 3600
HOUR = 3600.0
# Expiry tests move the test's clock (the manager's, and the memory provider's) past a
# lifetime instead of sleeping. Lifetimes are hours, so Redis, which expires keys on its own
# clock, never drops one while a test runs.


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture
def manager(
    provider: ProviderFactory, sandbox: Callable[[str], str], clock: FakeClock
) -> SessionManager:
    return SessionManager(sandbox_id=sandbox("main"), session_factory=provider, clock=clock.utc)


async def test_allocate_validate_info_delete(manager: SessionManager) -> None:
    sid = await manager.allocate_session(user_id="alice", custom_metadata={"role": "admin"})
    assert re.fullmatch(r"sess-alice-\d{10}-[0-9a-f]{8}", sid)
    assert await manager.validate_session(sid) is True
    info = await manager.get_session_info(sid)
    assert info is not None
    assert set(info) == {
        "session_id",
        "sandbox_id",
        "user_id",
        "created_at",
        "expires_at",
        "status",
        "last_accessed",
        "custom_metadata",
    }
    assert info["session_id"] == sid
    assert info["sandbox_id"] == manager.sandbox_id
    assert info["user_id"] == "alice"
    assert info["status"] == "active"
    assert info["custom_metadata"] == {"role": "admin"}
    lifetime = _time(info["expires_at"]) - _time(info["created_at"])
    assert lifetime == timedelta(hours=24)
    assert await manager.delete_session(sid) is True
    assert await manager.delete_session(sid) is False
    assert await manager.validate_session(sid) is False
    assert await manager.get_session_info(sid) is None


async def test_anonymous_ids_and_odd_user_ids(manager: SessionManager) -> None:
    assert re.fullmatch(r"sess-anon-\d+-[0-9a-f]{8}", await manager.allocate_session())
    odd = await manager.allocate_session(user_id="bob/../x y@z")
    assert re.fullmatch(r"sess-bobxyz-\d+-[0-9a-f]{8}", odd)
    info = await manager.get_session_info(odd)
    assert info is not None and info["user_id"] == "bob/../x y@z"


@pytest.mark.parametrize(
    ("hours", "lifetime"),
    [
        (0.25, timedelta(minutes=15)),
        (ONE_SECOND, timedelta(seconds=1)),
        (1.5, timedelta(hours=1.5)),
    ],
)
async def test_fractional_ttl_hours(
    manager: SessionManager, hours: float, lifetime: timedelta
) -> None:
    sid = await manager.allocate_session(ttl_hours=hours)
    info = await manager.get_session_info(sid)
    assert info is not None
    assert _time(info["expires_at"]) - _time(info["created_at"]) == lifetime


async def test_session_expires(manager: SessionManager, clock: FakeClock) -> None:
    short = await manager.allocate_session(user_id="temp", ttl_hours=1)
    long = await manager.allocate_session(user_id="keep", ttl_hours=2)
    clock.now += HOUR - 0.001
    assert await manager.validate_session(short) is True
    clock.now += 0.001  # the instant it ends
    assert await manager.validate_session(short) is False
    assert await manager.get_session_info(short) is None
    assert await manager.update_session_metadata(short, {"x": 1}) is False
    assert await manager.extend_session_ttl(short, 1) is False
    assert await manager.validate_session(long) is True


async def test_extend_session_ttl(
    manager: SessionManager, provider: ProviderFactory, clock: FakeClock
) -> None:
    sid = await manager.allocate_session(ttl_hours=1)
    before = await manager.get_session_info(sid)
    assert await manager.extend_session_ttl(sid, additional_hours=0.5) is True
    after = await manager.get_session_info(sid)
    assert before is not None and after is not None
    assert _time(after["expires_at"]) - _time(before["expires_at"]) == timedelta(minutes=30)
    clock.now += HOUR + 1  # past the first lifetime
    assert await manager.validate_session(sid) is True  # the memory store's TTL was extended
    if isinstance(provider, RedisProviderFactory):  # and so was Redis's (its own clock)
        assert provider.client is not None
        left_ms = await provider.client.pttl(record_key(manager.sandbox_id, sid))
        assert left_ms > HOUR * 1000  # 1.5 h given: more than the first lifetime


async def test_metadata_merge_and_replace(manager: SessionManager) -> None:
    sid = await manager.allocate_session(custom_metadata={"a": 1, "b": 2})
    assert await manager.update_session_metadata(sid, {"b": 3, "c": [1, "x"]}) is True
    info = await manager.get_session_info(sid)
    assert info is not None and info["custom_metadata"] == {"a": 1, "b": 3, "c": [1, "x"]}
    assert await manager.update_session_metadata(sid, {"only": True}, merge=False) is True
    info = await manager.get_session_info(sid)
    assert info is not None and info["custom_metadata"] == {"only": True}
    assert await manager.update_session_metadata("sess-nobody", {"x": 1}) is False


async def test_validate_refreshes_last_accessed(manager: SessionManager, clock: FakeClock) -> None:
    sid = await manager.allocate_session()
    first = await manager.get_session_info(sid)
    clock.now += 1
    assert await manager.validate_session(sid)
    second = await manager.get_session_info(sid)
    assert first is not None and second is not None
    assert _time(second["last_accessed"]) > _time(first["last_accessed"])
    assert second["expires_at"] == first["expires_at"]


async def test_explicit_id_is_created_then_reused(manager: SessionManager) -> None:
    sid = await manager.allocate_session(
        session_id="my-session", user_id="alice", custom_metadata={"v": 1}
    )
    assert sid == "my-session"
    again = await manager.allocate_session(
        session_id="my-session", custom_metadata={"v": 2}, ttl_hours=1
    )
    assert again == "my-session"
    info = await manager.get_session_info(sid)
    assert info is not None
    assert info["custom_metadata"] == {"v": 1}  # reuse does not overwrite
    assert info["user_id"] == "alice"
    with pytest.raises(SessionAlreadyExists):
        await manager.allocate_session(session_id="my-session", user_id="mallory")
    assert await manager.allocate_session(session_id="my-session", user_id="alice") == sid


async def test_expired_explicit_id_is_created_afresh(
    manager: SessionManager, clock: FakeClock
) -> None:
    await manager.allocate_session(session_id="phoenix", ttl_hours=1, custom_metadata={"life": 1})
    clock.now += HOUR
    await manager.allocate_session(session_id="phoenix", custom_metadata={"life": 2})
    info = await manager.get_session_info("phoenix")
    assert info is not None and info["custom_metadata"] == {"life": 2}


async def test_records_are_json_under_sandbox_scoped_keys(
    manager: SessionManager, provider: ProviderFactory
) -> None:
    sid = await manager.allocate_session(user_id="alice")
    await manager.validate_session(sid)
    async with provider() as store:
        raw = await store.get(f"sandbox:{manager.sandbox_id}:session:{sid}")
        touched = await store.get(f"sandbox:{manager.sandbox_id}:access:{sid}")
        assert await store.get(f"session:{sid}") is None
    assert raw is not None and '"user_id":"alice"' in raw
    assert touched is not None and _time(touched).tzinfo is not None


async def test_corrupt_record_raises_and_is_not_overwritten(
    manager: SessionManager, provider: ProviderFactory, caplog: pytest.LogCaptureFixture
) -> None:
    key = record_key(manager.sandbox_id, "broken")
    async with provider() as store:
        await store.setex(key, 60, "{not json")
    with pytest.raises(CorruptSessionData) as info:
        await manager.validate_session("broken")
    assert key in str(info.value)
    assert isinstance(info.value, StorageError)
    with pytest.raises(CorruptSessionData):
        await manager.allocate_session(session_id="broken")
    async with provider() as store:
        assert await store.get(key) == "{not json"
    assert key in caplog.text


async def test_record_of_another_session_under_a_key_is_rejected(
    manager: SessionManager, provider: ProviderFactory
) -> None:
    real = await manager.allocate_session()
    async with provider() as store:
        raw = await store.get(record_key(manager.sandbox_id, real))
        assert raw is not None
        await store.setex(record_key(manager.sandbox_id, "copy"), 60, raw)
    with pytest.raises(CorruptSessionData, match="holds"):
        await manager.get_session_info("copy")


async def test_touch_never_undoes_a_concurrent_update(manager: SessionManager) -> None:
    sid = await manager.allocate_session(custom_metadata={"n": 0})
    await asyncio.gather(
        *(manager.validate_session(sid) for _ in range(20)),
        manager.update_session_metadata(sid, {"n": 1}),
        *(manager.validate_session(sid) for _ in range(20)),
    )
    await asyncio.gather(
        *(manager.validate_session(sid) for _ in range(20)),
        manager.extend_session_ttl(sid, 1),
        *(manager.validate_session(sid) for _ in range(20)),
    )
    info = await manager.get_session_info(sid)
    assert info is not None
    assert info["custom_metadata"] == {"n": 1}
    assert _time(info["expires_at"]) - _time(info["created_at"]) == timedelta(hours=25)


class SlowStore:
    """Wraps a provider session and yields to the loop around every call, like a network."""

    def __init__(self, inner: KeyValueSession) -> None:
        self.inner = inner

    async def setex(self, key: str, ttl: float, value: str) -> None:
        await asyncio.sleep(0)
        await self.inner.setex(key, ttl, value)

    async def set(self, key: str, value: str) -> None:
        await asyncio.sleep(0)
        await self.inner.set(key, value)

    async def get(self, key: str) -> str | None:
        await asyncio.sleep(0)
        return await self.inner.get(key)

    async def delete(self, key: str) -> bool:
        await asyncio.sleep(0)
        return await self.inner.delete(key)


async def test_interleaved_touches_keep_updates(sandbox: Callable[[str], str]) -> None:
    memory = MemoryProviderFactory()

    @asynccontextmanager
    async def slow() -> AsyncIterator[SlowStore]:
        async with memory() as inner:
            yield SlowStore(inner)

    manager = SessionManager(sandbox_id=sandbox("slow"), session_factory=slow)
    sid = await manager.allocate_session(custom_metadata={"n": 0})
    await asyncio.gather(
        *(manager.validate_session(sid) for _ in range(10)),
        manager.update_session_metadata(sid, {"n": 1}),
        *(manager.validate_session(sid) for _ in range(10)),
    )
    info = await manager.get_session_info(sid)
    assert info is not None and info["custom_metadata"] == {"n": 1}


def test_sandbox_from_argument_environment_or_generated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    memory = MemoryProviderFactory()
    assert SessionManager("given", memory).sandbox_id == "given"
    monkeypatch.setenv("CHUK_SANDBOX_ID", "from-env")
    assert SessionManager(session_factory=memory).sandbox_id == "from-env"
    monkeypatch.setenv("CHUK_SANDBOX_ID", "bad:env")
    with pytest.raises(InvalidInputError, match="CHUK_SANDBOX_ID"):
        SessionManager(session_factory=memory)
    monkeypatch.delenv("CHUK_SANDBOX_ID")
    generated = SessionManager(session_factory=memory).sandbox_id
    assert re.fullmatch(r"sandbox-[0-9a-f]{8}", generated)
    assert SessionManager(session_factory=memory).sandbox_id != generated


async def test_default_ttl_hours_applies(sandbox: Callable[[str], str]) -> None:
    manager = SessionManager(sandbox("d"), MemoryProviderFactory(), default_ttl_hours=8)
    sid = await manager.allocate_session()
    info = await manager.get_session_info(sid)
    assert info is not None
    assert _time(info["expires_at"]) - _time(info["created_at"]) == timedelta(hours=8)


async def test_cache_off_by_default_always_reads_the_store(
    provider: ProviderFactory, sandbox: Callable[[str], str]
) -> None:
    first = SessionManager(sandbox("c"), provider)
    second = SessionManager(sandbox("c"), provider)
    sid = await first.allocate_session()
    assert await first.get_session_info(sid) is not None
    await second.delete_session(sid)
    assert await first.get_session_info(sid) is None
    assert first.get_cache_stats()["cached_sessions"] == 0


async def test_cache_serves_fresh_entries_and_is_bounded(sandbox: Callable[[str], str]) -> None:
    manager = SessionManager(
        sandbox("c"), MemoryProviderFactory(), cache_ttl_seconds=60, max_cache_size=3
    )
    ids = [await manager.allocate_session() for _ in range(5)]
    stats = manager.get_cache_stats()
    assert stats["cached_sessions"] == 3
    assert stats["max_cache_size"] == 3
    assert stats["sandbox_id"] == manager.sandbox_id
    assert stats["default_ttl_hours"] == 24
    assert await manager.get_session_info(ids[-1]) is not None
    assert await manager.get_session_info(ids[0]) is not None
    stats = manager.get_cache_stats()
    assert (stats["cache_hits"], stats["cache_misses"]) == (1, 1)


async def test_cache_never_serves_an_expired_session(
    sandbox: Callable[[str], str], clock: FakeClock
) -> None:
    memory = MemoryProviderFactory(MemoryStore(clock=clock))
    manager = SessionManager(sandbox("c"), memory, cache_ttl_seconds=3600, clock=clock.utc)
    sid = await manager.allocate_session(ttl_hours=0.5)
    keep = await manager.allocate_session(ttl_hours=3)
    assert await manager.get_session_info(sid) is not None  # now in the cache
    clock.now += HOUR / 2  # the session ends; its cache entry is still fresh
    assert await manager.get_session_info(sid) is None
    await manager.allocate_session(ttl_hours=0.5)
    clock.now += HOUR / 2
    assert await manager.cleanup_expired_sessions() == 1
    assert manager.get_cache_stats()["cached_sessions"] == 1
    assert await manager.get_session_info(keep) is not None


async def test_cache_entries_are_not_shared_with_callers(sandbox: Callable[[str], str]) -> None:
    manager = SessionManager(sandbox("c"), MemoryProviderFactory(), cache_ttl_seconds=60)
    sid = await manager.allocate_session(custom_metadata={"tags": ["a"]})
    info = await manager.get_session_info(sid)
    assert info is not None
    info["custom_metadata"]["tags"].append("mutated")
    again = await manager.get_session_info(sid)
    assert again is not None and again["custom_metadata"] == {"tags": ["a"]}


async def test_access_key_of_an_unknown_time_format_is_reported(
    manager: SessionManager, provider: ProviderFactory
) -> None:
    sid = await manager.allocate_session()
    async with provider() as store:
        await store.setex(access_key(manager.sandbox_id, sid), 60, "yesterday")
    with pytest.raises(CorruptSessionData, match="ISO-8601"):
        await manager.get_session_info(sid)


async def test_store_failures_raise_storage_error_instead_of_false() -> None:
    import socket

    from llm_sessions.lifecycle.providers.redis import RedisProviderFactory

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    factory = RedisProviderFactory(f"redis://127.0.0.1:{port}/0")
    manager = SessionManager(sandbox_id="down", session_factory=factory)
    try:
        with pytest.raises(StorageError) as info:
            await manager.allocate_session()
        assert info.value.__cause__ is not None
        with pytest.raises(StorageError):
            await manager.validate_session("sess-anon-1-00000000")
    finally:
        await factory.aclose()


async def test_default_manager_uses_the_environment_factory() -> None:
    from llm_sessions.lifecycle import factory_for_env

    manager = SessionManager()
    assert manager.session_factory is factory_for_env()
    assert re.fullmatch(r"sandbox-[0-9a-f]{8}", manager.sandbox_id)
    sid = await manager.allocate_session()
    assert await SessionManager(manager.sandbox_id).validate_session(sid)
