"""Appends that do not read the session first (``unread_session_for_append``): one write."""

from __future__ import annotations

from typing import Any

import pytest
from store_cases import StoreCase
from stored import load

from llm_sessions.exceptions import SessionNotFound
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import open_store

UNREAD_KINDS = {"sqlite", "redis"}
"""The stores that append without a read (PostgreSQL's index write needs the owner first)."""


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


async def test_sqlite_indexes_an_unread_append_under_the_stored_owner(tmp_path: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path}/unread.db")
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
