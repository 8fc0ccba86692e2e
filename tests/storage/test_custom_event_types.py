"""Events of custom types are stored, reloaded, listed and exported unchanged on every store."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from llm_sessions.interop import export_session, import_session
from llm_sessions.models import EventType, Session, SessionEvent
from llm_sessions.storage import InMemorySessionStore

if TYPE_CHECKING:
    from store_cases import StoreCase


async def test_custom_types_round_trip_on_every_store(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session(id="custom-types")
    await session.add_event(SessionEvent(message="hi", type=EventType.MESSAGE))
    await session.add_event(
        SessionEvent(message={"query": "q", "hits": ["doc-1"]}, type="retrieval")
    )
    await session.add_event(SessionEvent(message="audit", type="acme:audit.v2"))
    await store.save(session)

    reader = store_case.open() if store_case.durable else store
    loaded = await reader.get("custom-types")
    assert loaded is not None
    assert [event.type for event in loaded.events] == [
        EventType.MESSAGE,
        "retrieval",
        "acme:audit.v2",
    ]
    # Built-in values come back as the enum member, custom ones as plain strings.
    assert loaded.events[0].type is EventType.MESSAGE
    assert type(loaded.events[1].type) is str
    assert loaded.events[1].model_dump() == session.events[1].model_dump()
    page = await reader.read_events("custom-types", after=loaded.events[0].id)
    assert page is not None
    assert [event.type for event in page] == ["retrieval", "acme:audit.v2"]


async def test_custom_types_export_and_import_unchanged_from_every_store(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    session: Session[Any] = Session(id="custom-export")
    await session.add_event(SessionEvent(message="Which docs?"))
    await session.add_event(SessionEvent(message={"hits": ["doc-1"]}, type="retrieval"))
    await session.add_event(SessionEvent(message="audit", type="acme:audit.v2"))
    await store.save(session)

    text = await export_session(store, "custom-export")
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["type"] for line in lines if line["record"] == "event"] == [
        "message",
        "retrieval",
        "acme:audit.v2",
    ]
    elsewhere = InMemorySessionStore()
    assert await import_session(elsewhere, text) == ["custom-export"]
    imported = await elsewhere.get("custom-export")
    assert imported is not None
    assert [event.model_dump() for event in imported.events] == [
        event.model_dump() for event in session.events
    ]
    assert await export_session(elsewhere, "custom-export") == text
