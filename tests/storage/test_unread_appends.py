"""Appends that do not read the session first (``unread_session_for_append``): one write."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from store_cases import StoreCase, drop_case, url_for
from stored import load

from llm_sessions.exceptions import SessionNotFound
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import open_store

UNREAD_KINDS = {"sqlite", "redis", "postgres"}
"""The stores that append without a read (the file store reads its header first)."""


async def _stored_session(store: Any) -> Session[Any]:
    session: Session[Any] = Session(id="unread", state={"topic": "maps"})
    session.metadata.user_id = "ann"
    session.metadata.properties["plan"] = "pro"
    await session.add_event(SessionEvent(id="a", message="the first refund"))
    await store.save(session)
    return session


async def test_an_unread_append_adds_events_and_keeps_the_header(
    durable_case: StoreCase,
) -> None:
    store = durable_case.open()
    original = await _stored_session(store)
    held = store.unread_session_for_append("unread")
    if durable_case.kind.split("-")[0] not in UNREAD_KINDS:  # redis-cluster: redis
        assert held is None
        return
    assert held is not None
    await held.add_event(SessionEvent(id="b", message="a second refund"))
    await store.save(held)
    again = store.unread_session_for_append("unread")
    assert again is not None
    await again.add_event(SessionEvent(id="c", message="c"))
    await store.save(again)
    found = await load(durable_case.reader(store), "unread")
    assert [event.id for event in found.events] == ["a", "b", "c"]
    assert found.state == {"topic": "maps"}
    assert found.metadata.user_id == "ann"
    assert found.metadata.properties["plan"] == "pro"
    assert found.metadata.created_at == original.metadata.created_at
    page = await store.find_sessions(where={"user_id": "ann"})
    assert [(row.id, row.event_count) for row in page.items] == [("unread", 3)]


async def test_an_unread_append_to_an_absent_session_writes_nothing(
    durable_case: StoreCase,
) -> None:
    store = durable_case.open()
    held = store.unread_session_for_append("absent")
    if durable_case.kind.split("-")[0] not in UNREAD_KINDS:  # redis-cluster: redis
        assert held is None
        return
    assert held is not None
    await held.add_event(SessionEvent(id="a", message="a"))
    with pytest.raises(SessionNotFound):
        await store.save(held)
    assert await store.get("absent") is None


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_an_unread_append_is_indexed_under_the_stored_owner(
    kind: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    case = StoreCase(kind, url_for(kind, tmp_path, request))
    try:
        await _indexed_under_the_owner(case.open())
    finally:
        await drop_case(case)


async def _indexed_under_the_owner(store: Any) -> None:
    await _stored_session(store)
    held = store.unread_session_for_append("unread")
    assert held is not None
    await held.add_event(SessionEvent(id="b", message="a second refund"))
    await store.save(held)
    hits = (await store.search("refund", where={"user_id": "ann"})).items
    assert sorted((hit.event_id, hit.user_id) for hit in hits) == [("a", "ann"), ("b", "ann")]
    await store.close()


async def test_the_memory_store_reads_before_it_appends() -> None:
    assert open_store("memory://").unread_session_for_append("any") is None


async def test_two_unread_writers_to_one_postgres_session_keep_order_and_lose_nothing(
    tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    case = StoreCase("postgres", url_for("postgres", tmp_path, request))
    writers = [case.open(), case.open()]  # two pools: two connections write at once
    try:
        await _stored_session(writers[0])

        async def append(store: Any, name: str) -> None:
            for n in range(40):
                held = store.unread_session_for_append("unread")
                assert held is not None
                await held.add_event(SessionEvent(id=f"{name}{n}", message=f"{name} {n}"))
                await store.save(held)

        await asyncio.gather(append(writers[0], "x"), append(writers[1], "y"))
        found = await load(case.reader(writers[0]), "unread")
        ids = [event.id for event in found.events]
        assert sorted(ids) == sorted(["a", *(f"{w}{n}" for w in "xy" for n in range(40))])
        for name in "xy":
            assert [i for i in ids if i.startswith(name)] == [f"{name}{n}" for n in range(40)]
        page = await writers[1].find_sessions(where={"user_id": "ann"})
        assert [(row.id, row.event_count) for row in page.items] == [("unread", 81)]
    finally:
        await drop_case(case)
