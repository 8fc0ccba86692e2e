"""Pages of a session's events (``read_events``), read from every store without a full load."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import Session, SessionEvent

if TYPE_CHECKING:
    from store_cases import StoreCase


async def interleaved_session(case: StoreCase, count: int) -> list[str]:
    """A session written by two store objects in turn; returns the ids in store order."""
    first = case.open()
    second = case.open() if case.durable else first
    session: Session[Any] = Session(id="pages")
    await first.save(session)
    other = await second.get("pages")
    assert other is not None
    order = []
    for n in range(count):
        writer, copy = (first, session) if n % 3 else (second, other)
        event: SessionEvent[Any] = SessionEvent(id=f"e{n:03}", message=f"m{n}")
        await copy.add_event(event)
        await writer.save(copy)
        order.append(event.id)
    return order


async def test_tail_pages_walk_back_to_the_first_event(store_case: StoreCase) -> None:
    order = await interleaved_session(store_case, 40)
    store = store_case.open() if store_case.durable else store_case.opened[0]
    walked: list[str] = []
    before = None
    while True:
        page = await store.read_events("pages", before=before, limit=7, newest_first=True)
        assert page is not None
        if not page:
            break
        ids = [event.id for event in page]
        assert ids == sorted(ids, reverse=True)  # each page is newest first
        walked += ids
        before = ids[-1]
    assert walked == order[::-1]
    loaded = await store.get("pages")
    assert loaded is not None
    assert [event.id for event in loaded.events] == order


async def test_pages_forward_from_a_cursor_cover_the_log_once(store_case: StoreCase) -> None:
    order = await interleaved_session(store_case, 25)
    store = store_case.open() if store_case.durable else store_case.opened[0]
    seen: list[str] = []
    after = None
    while page := await store.read_events("pages", after=after, limit=4):
        seen += [event.id for event in page]
        after = seen[-1]
    assert seen == order


async def test_a_page_shows_an_edited_event(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session(id="edited")
    for n in range(3):
        await session.add_event(SessionEvent(id=f"e{n}", message=f"m{n}"))
    await store.save(session)
    await session.events[1].set_metadata("note", "changed")
    await store.save(session)
    reader = store_case.open() if store_case.durable else store
    page = await reader.read_events("edited", after="e0", limit=1)
    assert page is not None
    assert [(event.id, event.metadata) for event in page] == [("e1", {"note": "changed"})]


async def test_a_page_of_a_deleted_session_is_none(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session(id="gone")
    await session.add_event(SessionEvent(id="e0", message="m"))
    await store.save(session)
    await store.delete("gone")
    assert await store.read_events("gone", limit=5, newest_first=True) is None


@pytest.mark.parametrize("field", ["after", "before"])
async def test_a_cursor_that_is_not_an_id_is_refused(store_case: StoreCase, field: str) -> None:
    store = store_case.open()
    with pytest.raises(InvalidInputError, match=field):
        await store.read_events("any", **{field: 5})  # type: ignore[arg-type]


async def test_rows_of_a_page_are_its_events_as_stored(store_case: StoreCase) -> None:
    order = await interleaved_session(store_case, 12)
    store = store_case.open() if store_case.durable else store_case.opened[0]
    reader = getattr(store, "read_event_rows", None)
    if reader is None:
        pytest.skip("this store has no read of rows")
    session = await store.get("pages")
    assert session is not None
    await session.remove_events([order[3], order[4]])
    pages = [
        {"after": order[1], "limit": 4},
        {"before": order[9], "limit": 5, "newest_first": True},
    ]
    for page in pages:
        events = await store.read_events("pages", **page)
        rows = await reader("pages", **page)
        assert events is not None and rows is not None
        assert [json.loads(row)["id"] for row in rows] == [event.id for event in events]
        assert [json.loads(row)["message"] for row in rows] == [e.message for e in events]
        assert len(rows) == page["limit"] and order[3] not in [event.id for event in events]
    assert await reader("absent", limit=3) is None
    with pytest.raises(InvalidInputError, match="after"):
        await reader("pages", after="e999", limit=3)
