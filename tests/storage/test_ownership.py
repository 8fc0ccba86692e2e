"""Who a session belongs to: ``user_id`` and properties, kept by every store and inherited by
segments, forks and children."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions import SessionManager
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import Session, SessionEvent
from llm_sessions.models._session_metadata import USER_ID_PROPERTY

if TYPE_CHECKING:
    from conftest import StoreCase


async def test_user_id_round_trips_and_stays_out_of_the_properties(store_case: StoreCase) -> None:
    store = store_case.open()
    session = await Session.create(store=store, user_id="alice", properties={"plan": "pro"})
    await session.add_event_and_save(SessionEvent(message="hi"))

    loaded = await store_case.reader(store).get(session.id)

    assert loaded is not None
    assert loaded.metadata.user_id == "alice"
    assert loaded.metadata.properties == {"plan": "pro"}
    assert USER_ID_PROPERTY not in loaded.model_dump()["metadata"]["properties"]


async def test_a_session_without_a_user_loads_with_none(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    await session.metadata.set_property("plan", "free")
    await store.save(session)

    loaded = await store_case.reader(store).get(session.id)

    assert loaded is not None
    assert loaded.metadata.user_id is None
    assert loaded.metadata.properties == {"plan": "free"}


async def test_the_user_survives_later_saves_and_refreshes(store_case: StoreCase) -> None:
    store = store_case.open()
    session = await Session.create(store=store, user_id="alice")
    other = await store_case.reader(store).get(session.id)
    assert other is not None
    await other.metadata.set_property("seen", True)
    await other.add_event_and_save(SessionEvent(message="from another writer"))
    await session.add_event_and_save(SessionEvent(message="mine"))

    fresh = await store.refresh(session)
    loaded = await store_case.open().get(session.id) if store_case.durable else session

    for copy in (fresh, loaded):
        assert copy is not None
        assert copy.metadata.user_id == "alice"
        assert copy.metadata.properties == {"seen": True}


async def test_a_child_takes_its_parents_user(store_case: StoreCase) -> None:
    store = store_case.open()
    parent = await Session.create(store=store, user_id="alice")
    child = await Session.create(parent.id, store=store)
    own = await Session.create(parent.id, store=store, user_id="bob")

    reader = store_case.reader(store)
    assert (await reader.get(child.id)).metadata.user_id == "alice"  # type: ignore[union-attr]
    assert (await reader.get(own.id)).metadata.user_id == "bob"  # type: ignore[union-attr]


async def test_segments_and_forks_keep_the_user_and_properties(store_case: StoreCase) -> None:
    store = store_case.open()
    manager = SessionManager(
        store=store,
        infinite_context=True,
        max_turns_per_segment=1,
        user_id="alice",
        properties={"team": "red"},
    )
    for n in range(3):
        await manager.user_says(f"question {n}")
        await manager.ai_responds(f"answer {n}", model="gpt-4o-mini")
    chain = await manager.get_session_chain()
    fork = await manager.fork()

    reader = store_case.reader(store)
    assert len(chain) == 3
    for session_id in [*chain, fork.session_id]:
        loaded = await reader.get(session_id)
        assert loaded is not None
        assert loaded.metadata.user_id == "alice"
        assert loaded.metadata.properties["team"] == "red"
    forked = await reader.get(fork.session_id)
    assert forked is not None and "forked_from" in forked.metadata.properties


async def test_an_existing_session_keeps_its_own_user(store_case: StoreCase) -> None:
    store = store_case.open()
    first = SessionManager("shared", store=store, user_id="alice")
    await first.user_says("hi")
    second = SessionManager("shared", store=store, user_id="bob")
    await second.user_says("hello")

    loaded = await store_case.reader(store).get("shared")

    assert loaded is not None and loaded.metadata.user_id == "alice"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"user_id": ""}, "user_id"),
        ({"user_id": "a/b"}, "user_id"),
        ({"user_id": 7}, "user_id"),
        ({"properties": {USER_ID_PROPERTY: "eve"}}, "metadata.properties"),
        ({"properties": {"x": object()}}, "metadata.properties['x']"),
        ({"properties": ["not", "a", "dict"]}, "properties"),
    ],
)
async def test_bad_owners_are_refused_before_anything_is_stored(
    store_case: StoreCase, options: dict[str, Any], field: str
) -> None:
    store = store_case.open()
    with pytest.raises(InvalidInputError) as caught:
        manager = SessionManager(store=store, **options)
        await manager.user_says("hi")
    assert caught.value.field == field
    assert await store.list_sessions() == []
