"""The memory provider: exact expiry, eviction, bounded size, shared data, bad input."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fake_clock import FakeClock

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.lifecycle import KeyValueSession, MemoryProviderFactory, MemoryStore


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    return MemoryStore(max_entries=5, clock=clock)


async def test_setex_get_delete_roundtrip() -> None:
    factory = MemoryProviderFactory()
    async with factory() as session:
        assert isinstance(session, KeyValueSession)
        await session.setex("user:123", 300, "alice")
        assert await session.get("user:123") == "alice"
        assert await session.delete("user:123") is True
        assert await session.get("user:123") is None
        assert await session.delete("user:123") is False


async def test_set_without_ttl_keeps_value(store: MemoryStore, clock: FakeClock) -> None:
    factory = MemoryProviderFactory(store)
    async with factory() as session:
        await session.set("forever", "v")
        clock.now += 10**9
        assert await session.get("forever") == "v"


async def test_expiry_is_exact(store: MemoryStore, clock: FakeClock) -> None:
    async with MemoryProviderFactory(store)() as session:
        await session.setex("k", 0.25, "v")
        clock.now += 0.249
        assert await session.get("k") == "v"
        clock.now += 0.001
        assert await session.get("k") is None
    assert len(store) == 0
    assert store.stats()["expired"] == 1


async def test_expired_key_cannot_be_deleted_as_live(store: MemoryStore, clock: FakeClock) -> None:
    async with MemoryProviderFactory(store)() as session:
        await session.setex("k", 1, "v")
        clock.now += 1
        assert await session.delete("k") is False


async def test_overwrite_resets_deadline(store: MemoryStore, clock: FakeClock) -> None:
    async with MemoryProviderFactory(store)() as session:
        await session.setex("k", 1, "old")
        clock.now += 0.9
        await session.setex("k", 1, "new")
        clock.now += 0.9
        assert await session.get("k") == "new"


async def test_writes_purge_expired_entries_without_reads(
    store: MemoryStore, clock: FakeClock
) -> None:
    async with MemoryProviderFactory(store)() as session:
        for i in range(3):
            await session.setex(f"dead{i}", 1, "x")
        clock.now += 2
        await session.setex("alive", 10, "y")
    assert len(store) == 1
    assert store.stats()["expired"] == 3


async def test_purge_expired_reports_count(store: MemoryStore, clock: FakeClock) -> None:
    store.put("a", "1", 1)
    store.put("b", "2", 5)
    clock.now += 2
    assert store.purge_expired() == 1
    assert store.fetch("b") == "2"


async def test_full_store_evicts_expired_before_oldest(
    store: MemoryStore, clock: FakeClock
) -> None:
    store.put("oldest", "1", None)
    store.put("short", "2", 1)
    for name in ("c", "d", "e"):
        store.put(name, name, None)
    clock.now += 2  # "short" is now expired
    store.put("f", "f", None)
    assert store.fetch("oldest") == "1"
    assert store.stats() == {"entries": 5, "max_entries": 5, "expired": 1, "evicted": 0}
    store.put("g", "g", None)  # nothing expired left: the oldest goes
    assert store.fetch("oldest") is None
    assert store.fetch("g") == "g"
    assert store.stats()["evicted"] == 1
    assert len(store) == 5


async def test_rewriting_a_key_makes_it_young(store: MemoryStore) -> None:
    for name in "abcde":
        store.put(name, name, None)
    store.put("a", "again", None)
    store.put("f", "f", None)
    assert store.fetch("a") == "again"
    assert store.fetch("b") is None


async def test_deadline_heap_stays_bounded_under_rewrites(clock: FakeClock) -> None:
    store = MemoryStore(max_entries=10, clock=clock)
    for _ in range(20_000):
        store.put("hot", "v", 3600)
    assert len(store._deadlines) < 2_000


async def test_all_contexts_of_a_factory_share_data() -> None:
    factory = MemoryProviderFactory()
    async with factory() as first:
        await first.setex("shared", 60, "v")
    async with factory() as second:
        assert await second.get("shared") == "v"
    other = MemoryProviderFactory()
    async with other() as third:
        assert await third.get("shared") is None


async def test_concurrent_tasks_and_threads_all_land() -> None:
    factory = MemoryProviderFactory()

    async def write(i: int) -> None:
        async with factory() as session:
            await session.setex(f"task{i}", 60, str(i))

    await asyncio.gather(*(write(i) for i in range(200)))

    def thread_writer(n: int) -> None:
        for i in range(500):
            factory.store.put(f"thread{n}-{i}", "x", 60)

    threads = [threading.Thread(target=thread_writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(factory.store) == 200 + 4 * 500


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.setex("k", 0, "v"), "ttl_seconds"),
        (lambda s: s.setex("k", -1, "v"), "ttl_seconds"),
        (lambda s: s.setex("k", float("nan"), "v"), "ttl_seconds"),
        (lambda s: s.setex("k", float("inf"), "v"), "ttl_seconds"),
        (lambda s: s.setex("k", True, "v"), "ttl_seconds"),
        (lambda s: s.setex("k", "60", "v"), "ttl_seconds"),
        (lambda s: s.setex("k", 10**30, "v"), "ttl_seconds"),
        (lambda s: s.setex("k", 60, 123), "value"),
        (lambda s: s.setex("k", 60, b"bytes"), "value"),
        (lambda s: s.setex("k", 60, None), "value"),
        (lambda s: s.set("k", {"a": 1}), "value"),
        (lambda s: s.setex(42, 60, "v"), "key"),
        (lambda s: s.setex("", 60, "v"), "key"),
        (lambda s: s.set(None, "v"), "key"),
        (lambda s: s.get(7), "key"),
        (lambda s: s.delete(b"k"), "key"),
    ],
)
async def test_bad_input_is_rejected_and_stores_nothing(call, field: str) -> None:  # type: ignore[no-untyped-def]
    factory = MemoryProviderFactory()
    async with factory() as session:
        await session.setex("k", 60, "original")
        with pytest.raises(InvalidInputError) as info:
            await call(session)
        assert info.value.field == field
        assert str(info.value).startswith(f"{field}=")
        assert await session.get("k") == "original"
    assert len(factory.store) == 1


def test_bad_max_entries_is_rejected() -> None:
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(InvalidInputError, match="max_entries"):
            MemoryStore(max_entries=bad)  # type: ignore[arg-type]
