"""What the session shows is what the store has: in-place edits of saved events, runs, state and
properties are written on the next save, and list surgery on ``events`` is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions.exceptions import InvalidSessionOperation
from llm_sessions.models import Session, SessionEvent, SessionRun
from llm_sessions.storage import SessionStore

if TYPE_CHECKING:
    from store_cases import StoreCase


async def fresh(case: StoreCase, store: SessionStore, session_id: str) -> Session[Any]:
    loaded = await case.reader(store).get(session_id)
    assert loaded is not None
    return loaded


EDITS: dict[str, Callable[[Session[Any]], None]] = {
    "metadata-key": lambda s: s.events[0].metadata.__setitem__("k", "v"),
    "nested-metadata": lambda s: s.events[0].metadata["nested"]["list"].append(3),
    "metadata-update": lambda s: s.events[0].metadata.update(k="v"),
    "metadata-pop": lambda s: s.events[0].metadata.pop("nested"),
    "message-dict": lambda s: s.events[1].message.__setitem__("content", "edited"),
    "run-metadata": lambda s: s.runs[0].metadata.setdefault("k", []).append("v"),
    "state-nested": lambda s: s.state["nested"].__setitem__("k", "v"),
    "properties": lambda s: s.metadata.properties.__setitem__("k", "v"),
}


@pytest.mark.parametrize("edit", EDITS)
async def test_an_in_place_edit_of_a_saved_session_is_written_on_the_next_save(
    store_case: StoreCase, edit: str
) -> None:
    store = store_case.open()
    session: Session[Any] = Session(state={"nested": {}})
    session.runs.append(SessionRun())
    await session.add_event(SessionEvent(message="a", metadata={"nested": {"list": [1, 2]}}))
    await session.add_event(SessionEvent(message={"role": "user", "content": "b"}))
    await store.save(session)
    loaded = await fresh(store_case, store, session.id)  # edits also work on a loaded copy

    for target in (session, loaded) if store_case.durable else (session,):
        EDITS[edit](target)
        await store.save(target)
        stored = await fresh(store_case, store, session.id)
        assert stored.model_dump(mode="json") == target.model_dump(mode="json")


SURGERY: dict[str, Callable[[list[Any]], object]] = {
    "pop": lambda events: events.pop(),
    "del": lambda events: events.__delitem__(0),
    "del-slice": lambda events: events.__delitem__(slice(0, 1)),
    "remove": lambda events: events.remove(events[0]),
    "insert": lambda events: events.insert(0, SessionEvent(message="x")),
    "setitem": lambda events: events.__setitem__(0, SessionEvent(message="x")),
    "slice-assign": lambda events: events.__setitem__(slice(None), []),
    "clear": lambda events: events.clear(),
    "sort": lambda events: events.sort(key=lambda e: e.id),
    "reverse": lambda events: events.reverse(),
    "imul": lambda events: events.__imul__(2),
}


@pytest.mark.parametrize("operation", SURGERY)
async def test_list_surgery_on_events_is_refused_and_names_the_removal_api(operation: str) -> None:
    session: Session[Any] = Session()
    for text in "abc":
        await session.add_event(SessionEvent(message=text))

    with pytest.raises(InvalidSessionOperation, match=r"append-only.*remove_events"):
        SURGERY[operation](session.events)

    assert [e.message for e in session.events] == ["a", "b", "c"]


async def test_replacing_the_events_list_is_refused() -> None:
    session: Session[Any] = Session()
    with pytest.raises(InvalidSessionOperation, match="append-only"):
        session.events = []


async def test_appending_to_events_still_works_and_is_saved(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    await store.save(session)
    session.events.append(SessionEvent(message="a"))
    session.events.extend([SessionEvent(message="b")])
    session.events += [SessionEvent(message="c")]
    await session.add_event_and_save(SessionEvent(message="d"))

    stored = await fresh(store_case, store, session.id)
    assert [e.message for e in stored.events] == ["a", "b", "c", "d"]


async def test_a_loaded_session_refuses_surgery_too(durable_case: StoreCase) -> None:
    store = durable_case.open()
    session: Session[Any] = Session()
    await session.add_event(SessionEvent(message="a"))
    await store.save(session)
    loaded = await fresh(durable_case, store, session.id)
    with pytest.raises(InvalidSessionOperation):
        loaded.events.pop()
    assert len(loaded.events) == 1
