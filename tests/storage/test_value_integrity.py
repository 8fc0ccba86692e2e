"""A session never holds what its store cannot write: every bad value is refused on every path,
with ``InvalidInputError`` naming the field, and the session and its store stay as they were."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import Session, SessionEvent, SessionRun
from llm_sessions.storage import SessionStore
from llm_sessions.validation import MAX_JSON_DEPTH, validate_id

if TYPE_CHECKING:
    from store_cases import StoreCase


def nested(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


BAD_VALUES = {
    "object": object(),
    "lone-surrogate": "x\ud800",
    "surrogate-in-nested-key": {"ok": {"k\udc00": 1}},
    "surrogate-in-list": ["fine", "\udfff"],
    "too-deep": nested(MAX_JSON_DEPTH + 2),
    "far-too-deep": nested(1200),
    "int-key": {1: "x"},
    "nan": float("nan"),
}
BAD_KEYS = {
    "tuple": ("t",),
    "none": None,
    "int": 1,
    "nul": "k\x00",
    "lone-surrogate": "\ud800",
}


async def saved_session(store: SessionStore) -> Session[Any]:
    session: Session[Any] = Session(state={"s": 1, "nested": {}})
    await session.metadata.set_property("p", 1)
    await session.add_event(SessionEvent(message="first", metadata={"m": 1, "list": []}))
    await store.save(session)
    return session


def snapshot(session: Session[Any]) -> dict[str, Any]:
    return session.model_dump(mode="json", exclude={"token_summary"})


async def assert_stored_equals(case: StoreCase, store: SessionStore, session: Session[Any]) -> None:
    await store.save(session)  # the session stays usable: a later save works
    fresh = await case.reader(store).get(session.id)
    assert fresh is not None
    assert snapshot(fresh) == snapshot(session)


Edit = Callable[[Session[Any], Any], Awaitable[Any]]


async def _set_state(session: Session[Any], value: Any) -> None:
    await session.set_state("k", value)


async def _set_property(session: Session[Any], value: Any) -> None:
    await session.metadata.set_property("k", value)


async def _set_event_metadata(session: Session[Any], value: Any) -> None:
    await session.events[0].set_metadata("k", value)


async def _update_event_metadata(session: Session[Any], value: Any) -> None:
    await session.events[0].update_metadata({"ok": 1, "k": value})


async def _assign_message(session: Session[Any], value: Any) -> None:
    session.events[0].message = value


async def _assign_state(session: Session[Any], value: Any) -> None:
    session.state = {"k": value}


async def _assign_properties(session: Session[Any], value: Any) -> None:
    session.metadata.properties = {"k": value}


async def _add_event_and_save(session: Session[Any], value: Any) -> None:
    await session.add_event_and_save(SessionEvent(message=value))


async def _run_metadata(session: Session[Any], value: Any) -> None:
    await SessionRun(metadata={"k": value}).set_metadata("k", value)


async def _edit_new_event_then_save(session: Session[Any], value: Any) -> None:
    event: SessionEvent[Any] = SessionEvent(message="x")
    event.metadata["when"] = value  # the edit is refused: the event never holds it
    await session.add_event_and_save(event)


async def _edit_saved_event_metadata(session: Session[Any], value: Any) -> None:
    session.events[0].metadata["m"] = value


async def _append_to_saved_event_metadata(session: Session[Any], value: Any) -> None:
    session.events[0].metadata["list"].append(value)


async def _edit_state_in_place(session: Session[Any], value: Any) -> None:
    session.state["nested"]["k"] = value


async def _edit_properties_in_place(session: Session[Any], value: Any) -> None:
    session.metadata.properties.update({"ok": 1, "k": value})


VALUE_PATHS: dict[str, Edit] = {
    "set_state": _set_state,
    "set_property": _set_property,
    "set_metadata": _set_event_metadata,
    "update_metadata": _update_event_metadata,
    "message=": _assign_message,
    "state=": _assign_state,
    "properties=": _assign_properties,
    "add_event_and_save": _add_event_and_save,
    "SessionRun": _run_metadata,
    "new event metadata[k]=": _edit_new_event_then_save,
    "saved event metadata[k]=": _edit_saved_event_metadata,
    "saved event metadata[k].append": _append_to_saved_event_metadata,
    "state[k][k]=": _edit_state_in_place,
    "properties.update": _edit_properties_in_place,
}


@pytest.mark.parametrize("path", VALUE_PATHS)
async def test_a_bad_value_is_refused_on_every_path_and_changes_nothing(
    store_case: StoreCase, path: str
) -> None:
    store = store_case.open()
    session = await saved_session(store)
    before = snapshot(session)

    for name, bad in BAD_VALUES.items():
        # InvalidInputError, or pydantic's wrapping of it in a constructor
        with pytest.raises(ValueError, match="invalid") as raised:
            await VALUE_PATHS[path](session, bad)
        assert snapshot(session) == before, (name, raised.value)
    await assert_stored_equals(store_case, store, session)


async def _state_key_in_place(session: Session[Any], key: Any) -> None:
    session.state[key] = 1


async def _property_key_in_place(session: Session[Any], key: Any) -> None:
    session.metadata.properties[key] = 1


KEY_PATHS: dict[str, Edit] = {
    "set_state": lambda session, key: session.set_state(key, 1),
    "set_property": lambda session, key: session.metadata.set_property(key, 1),
    "state[key]=": _state_key_in_place,
    "properties[key]=": _property_key_in_place,
}


@pytest.mark.parametrize("path", KEY_PATHS)
@pytest.mark.parametrize("bad_key", BAD_KEYS.values(), ids=list(BAD_KEYS))
async def test_a_bad_state_or_property_key_is_refused_and_changes_nothing(
    store_case: StoreCase, path: str, bad_key: Any
) -> None:
    store = store_case.open()
    session = await saved_session(store)
    before = snapshot(session)

    with pytest.raises(InvalidInputError, match="key"):
        await KEY_PATHS[path](session, bad_key)

    assert snapshot(session) == before
    await assert_stored_equals(store_case, store, session)


@pytest.mark.parametrize("bad_key", BAD_KEYS.values(), ids=list(BAD_KEYS))
def test_bad_keys_are_refused_when_a_session_is_built(bad_key: Any) -> None:
    with pytest.raises(ValueError, match="state"):
        Session(state={bad_key: 1})
    with pytest.raises(ValueError, match="properties"):
        Session(metadata={"properties": {bad_key: 1}})


@pytest.mark.parametrize("bad_id", ["\ud800", "ok\udfffok", "a\ud83d"])
async def test_an_id_with_a_lone_surrogate_is_refused_everywhere(
    store_case: StoreCase, bad_id: str
) -> None:
    store = store_case.open()
    with pytest.raises(InvalidInputError, match="surrogate"):
        validate_id(bad_id)
    with pytest.raises(ValueError, match="surrogate"):
        Session(id=bad_id)
    with pytest.raises(ValueError, match="surrogate"):
        await store.get(bad_id)
    with pytest.raises(ValueError, match="surrogate"):
        await store.delete(bad_id)
    assert await store.list_sessions() == []


async def test_a_value_that_got_past_the_checks_is_refused_at_save_and_taken_back(
    durable_case: StoreCase,
) -> None:
    # model_construct skips validation; the durable store still names the event and writes nothing.
    store = durable_case.open()
    session = await saved_session(store)
    before = snapshot(session)
    forged = SessionEvent.model_construct(message="x\ud800", metadata={"when": object()})

    with pytest.raises(InvalidInputError, match=forged.id):
        await session.add_event_and_save(forged)

    assert snapshot(session) == before
    await assert_stored_equals(durable_case, store, session)


@pytest.mark.parametrize("bad_key", ["\ud800", "ok\udfffok"])
async def test_a_lone_surrogate_metadata_key_is_refused_not_rewritten(
    store_case: StoreCase, bad_key: str
) -> None:
    store = store_case.open()
    session = await saved_session(store)
    before = snapshot(session)

    with pytest.raises(ValueError, match="surrogate"):
        SessionEvent(message="x", metadata={bad_key: 1})
    with pytest.raises(InvalidInputError, match="surrogate"):
        session.events[0].metadata[bad_key] = 1
    with pytest.raises(InvalidInputError, match="surrogate"):
        await session.events[0].set_metadata(bad_key, 1)

    assert snapshot(session) == before
    await assert_stored_equals(store_case, store, session)


def test_a_deep_but_allowed_value_is_accepted() -> None:
    event = SessionEvent(message=nested(MAX_JSON_DEPTH))
    assert event.model_dump_json().count("[") == MAX_JSON_DEPTH


def test_the_error_names_the_path_to_the_bad_part() -> None:
    with pytest.raises(ValueError, match=r"event\.metadata\['a'\]\[1\]"):
        SessionEvent(message="x", metadata={"a": [1, "\ud800"]})
