"""Bad input is rejected, with an error naming it, before anything changes."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_sessions import SessionEvent, SessionManager, SessionRun, TokenUsage
from llm_sessions.exceptions import InvalidInputError, SessionNotFound
from llm_sessions.models import Session
from llm_sessions.storage import EventLogStore, InMemorySessionStore

BAD_IDS = [
    pytest.param("", id="empty"),
    pytest.param("x" * 257, id="257-chars"),
    pytest.param("a/b", id="slash"),
    pytest.param("../../etc/passwd", id="traversal"),
    pytest.param("a\\b", id="backslash"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("line\nbreak", id="newline"),
    pytest.param("del\x7f", id="del"),
    pytest.param(".", id="dot"),
    pytest.param("..", id="dotdot"),
]

NOT_JSON = [
    pytest.param(object(), id="object"),
    pytest.param({1, 2}, id="set"),
    pytest.param(float("nan"), id="nan"),
    pytest.param(float("inf"), id="inf"),
    pytest.param({"k": object()}, id="nested-object"),
    pytest.param({1: "int key"}, id="int-key"),
    pytest.param([1, b"bytes"], id="bytes-in-list"),
]


def _names(exc: BaseException, bad_id: str) -> bool:
    return repr(bad_id)[:60] in str(exc)


# -- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_session_rejects_a_bad_id_naming_it(bad_id: str) -> None:
    with pytest.raises(ValueError) as info:
        Session(id=bad_id)
    assert _names(info.value, bad_id)


@pytest.mark.parametrize("bad_id", BAD_IDS)
async def test_store_get_and_delete_reject_a_bad_id_naming_it(bad_id: str) -> None:
    store = InMemorySessionStore()
    with pytest.raises(ValueError) as info:
        await store.get(bad_id)
    assert _names(info.value, bad_id)
    with pytest.raises(ValueError):
        await store.delete(bad_id)


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_session_manager_rejects_a_bad_id_naming_it(bad_id: str) -> None:
    with pytest.raises(ValueError) as info:
        SessionManager(session_id=bad_id)
    assert _names(info.value, bad_id)


@pytest.mark.parametrize("bad_id", BAD_IDS)
async def test_parent_and_child_ids_are_checked_too(bad_id: str) -> None:
    with pytest.raises(ValueError):
        Session(parent_id=bad_id)
    session = Session()
    with pytest.raises(ValueError):
        await session.add_child(bad_id)
    assert session.child_ids == []
    with pytest.raises(ValueError):
        SessionEvent(message="x", id=bad_id)
    with pytest.raises(ValueError):
        SessionRun(id=bad_id)


@pytest.mark.parametrize("good_id", ["x" * 256, "a.b", "...", "user:42|tenant-7", "ünïcødé"])
async def test_unusual_but_safe_ids_are_accepted(good_id: str, store: InMemorySessionStore) -> None:
    session = await Session.create(id=good_id)
    assert await store.get(good_id) is session


# -- messages and metadata ------------------------------------------------------------------


async def _session_with_one_event(store: EventLogStore) -> Session[Any]:
    session = await Session.create(store=store)
    await session.set_state("kept", 1)
    await session.add_event_and_save(
        await SessionEvent.create_with_tokens(message="first", prompt="first", model="gpt-4o")
    )
    return session


def _snapshot(session: Session[Any]) -> tuple[Any, ...]:
    return (
        [e.model_dump() for e in session.events],
        dict(session.state),
        session.total_tokens,
        session.child_ids[:],
    )


async def _still_works(
    session: Session[Any], reopen: Callable[[], EventLogStore], events_before: int
) -> None:
    await session.add_event_and_save(SessionEvent(message={"ok": True}))
    loaded = await reopen().get(session.id)
    assert loaded is not None
    assert len(loaded.events) == events_before + 1
    assert loaded.events[-1].message == {"ok": True}
    assert loaded.state == session.state


@pytest.mark.parametrize("bad", NOT_JSON)
async def test_a_non_json_message_is_rejected_before_the_session_changes(
    bad: Any, json_store: EventLogStore, reopen: Callable[[], EventLogStore]
) -> None:
    session = await _session_with_one_event(json_store)
    before = _snapshot(session)
    with pytest.raises(ValueError, match="message"):
        await session.add_event_and_save(SessionEvent(message=bad))
    with pytest.raises(ValueError, match="message"):
        await session.add_event_and_save(
            await SessionEvent.create_with_tokens(message=bad, prompt="x", model="gpt-4o")
        )
    assert _snapshot(session) == before
    await _still_works(session, reopen, events_before=1)


@pytest.mark.parametrize("bad", NOT_JSON)
async def test_non_json_metadata_is_rejected_before_the_session_changes(
    bad: Any, json_store: EventLogStore, reopen: Callable[[], EventLogStore]
) -> None:
    session = await _session_with_one_event(json_store)
    before = _snapshot(session)
    with pytest.raises(ValueError, match="metadata"):
        await session.add_event_and_save(SessionEvent(message="x", metadata={"k": bad}))
    with pytest.raises(ValueError, match="metadata"):
        await SessionEvent.create_with_tokens(
            message="x", prompt="x", model="gpt-4o", metadata={"k": bad}
        )
    event = session.events[0]
    with pytest.raises(ValueError, match="metadata"):
        await event.set_metadata("k", bad)
    with pytest.raises(ValueError, match="metadata"):
        await event.update_metadata({"fine": 1, "k": bad})
    assert "fine" not in event.metadata
    assert _snapshot(session) == before
    await _still_works(session, reopen, events_before=1)


@pytest.mark.parametrize("bad", NOT_JSON)
async def test_assigning_a_non_json_message_to_an_event_changes_nothing(bad: Any) -> None:
    event = SessionEvent(message="ok")
    with pytest.raises(ValueError):
        event.message = bad
    assert event.message == "ok"


@pytest.mark.parametrize("bad", NOT_JSON)
async def test_set_state_with_a_non_json_value_leaves_state_unchanged(
    bad: Any, json_store: EventLogStore, reopen: Callable[[], EventLogStore]
) -> None:
    session = await _session_with_one_event(json_store)
    with pytest.raises(ValueError, match="state"):
        await session.set_state("bad", bad)
    assert session.state == {"kept": 1}
    loaded = await reopen().get(session.id)
    assert loaded is not None and loaded.state == {"kept": 1}
    await _still_works(session, reopen, events_before=1)


@pytest.mark.parametrize("bad", NOT_JSON)
def test_session_properties_and_state_are_checked_on_construction(bad: Any) -> None:
    with pytest.raises(ValueError, match="state"):
        Session(state={"k": bad})
    with pytest.raises(ValueError, match="properties"):
        Session.model_validate({"metadata": {"properties": {"k": bad}}})


async def test_an_error_names_the_offending_field_path() -> None:
    with pytest.raises(ValueError) as info:
        SessionEvent(message="x", metadata={"outer": {"inner": [1, object()]}})
    assert "event.metadata['outer']['inner'][1]" in str(info.value)


# -- the SessionManager ---------------------------------------------------------------------


async def _manager_with_history() -> SessionManager:
    sm = SessionManager()
    await sm.user_says("Hello")
    await sm.ai_responds("Hi there", model="gpt-4o-mini", provider="openai")
    return sm


ManagerCall = Callable[[SessionManager, Any], Awaitable[Any]]

MANAGER_CALLS: list[Any] = [
    pytest.param(lambda sm, bad: sm.user_says(bad), id="user_says-message"),
    pytest.param(lambda sm, bad: sm.user_says("ok", extra=bad), id="user_says-metadata"),
    pytest.param(lambda sm, bad: sm.ai_responds(bad, model="gpt-4o"), id="ai_responds-response"),
    pytest.param(
        lambda sm, bad: sm.ai_responds("ok", model="gpt-4o", extra=bad), id="ai_responds-metadata"
    ),
    pytest.param(lambda sm, bad: sm.tool_used("t", {"a": bad}, "r"), id="tool_used-arguments"),
    pytest.param(lambda sm, bad: sm.tool_used("t", {}, bad), id="tool_used-result"),
    pytest.param(lambda sm, bad: sm.tool_used("t", {}, "r", extra=bad), id="tool_used-metadata"),
]


@pytest.mark.parametrize("call", MANAGER_CALLS)
@pytest.mark.parametrize("bad", NOT_JSON[:3])
async def test_session_manager_rejects_non_json_input_without_changing_the_session(
    call: ManagerCall, bad: Any, store: InMemorySessionStore
) -> None:
    sm = await _manager_with_history()
    stats = await sm.get_stats()
    conversation = await sm.get_conversation()
    with pytest.raises(ValueError):
        await call(sm, bad)
    assert await sm.get_stats() == stats
    assert await sm.get_conversation() == conversation
    await sm.user_says("still works")
    assert (await sm.get_stats())["user_messages"] == 2
    assert await store.count() == 1


@pytest.mark.parametrize("call", MANAGER_CALLS)
async def test_a_first_call_with_bad_input_creates_no_session(
    call: ManagerCall, store: InMemorySessionStore
) -> None:
    sm = SessionManager()
    with pytest.raises(ValueError):
        await call(sm, object())
    assert await store.count() == 0


async def test_tool_used_needs_a_tool_name() -> None:
    sm = await _manager_with_history()
    with pytest.raises(ValueError, match="tool_name"):
        await sm.tool_used("", {}, "r")
    assert (await sm.get_stats())["tool_calls"] == 0


async def test_negative_reported_usage_is_rejected_without_recording() -> None:
    sm = await _manager_with_history()
    stats = await sm.get_stats()
    with pytest.raises(ValueError, match=r"prompt_tokens") as info:
        await sm.ai_responds("x", model="gpt-4o", usage={"prompt_tokens": -1})
    assert "-1" in str(info.value)
    assert await sm.get_stats() == stats


@pytest.mark.parametrize(
    "make",
    [
        lambda: TokenUsage(prompt_tokens=-1),
        lambda: TokenUsage(completion_tokens=-3),
        lambda: TokenUsage.from_provider({"prompt_tokens": 5, "completion_tokens": -2}, "gpt-4o"),
        lambda: TokenUsage.from_provider({"input_tokens": -5}, "gpt-4o"),
        lambda: TokenUsage.from_provider({"prompt_tokens": "5"}, "gpt-4o"),
        lambda: TokenUsage.from_provider({"prompt_tokens": True}, "gpt-4o"),
    ],
)
def test_negative_or_non_integer_token_counts_are_rejected(make: Callable[[], Any]) -> None:
    with pytest.raises(ValueError, match="tokens"):
        make()


async def test_a_session_manager_for_a_missing_id_fails_on_first_use_with_create_false(
    store: InMemorySessionStore,
) -> None:
    sm = SessionManager(session_id="does-not-exist", create=False)
    with pytest.raises(ValueError, match="does-not-exist") as info:
        await sm.user_says("hello")
    assert isinstance(info.value, SessionNotFound)
    with pytest.raises(SessionNotFound):
        await sm.get_stats()
    with pytest.raises(SessionNotFound):
        await sm.ai_responds("hi")
    assert await store.count() == 0


async def test_an_infinite_session_manager_for_a_missing_id_fails_with_create_false(
    store: InMemorySessionStore,
) -> None:
    sm = SessionManager(session_id="does-not-exist", infinite_context=True, create=False)
    with pytest.raises(SessionNotFound):
        await sm.user_says("hello")
    with pytest.raises(SessionNotFound):
        await sm.get_conversation()
    assert await store.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"token_threshold": -5}, "token_threshold"),
        ({"max_turns_per_segment": 0}, "max_turns_per_segment"),
    ],
)
def test_session_manager_rejects_nonsense_limits(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        SessionManager(infinite_context=True, **kwargs)


def test_nan_is_refused_even_deep_inside_a_message() -> None:
    with pytest.raises(ValueError, match="NaN"):
        SessionEvent(message={"scores": [1.0, math.nan]})


# -- properties -----------------------------------------------------------------------------


def _is_valid_id(value: str) -> bool:
    return (
        0 < len(value) <= 256
        and value not in (".", "..")
        and not any(c in "/\\" or unicodedata.category(c) in ("Cc", "Cs") for c in value)
    )


# C1 controls (U+0080-U+009F) have their own test below; left out here so one bug fails once.
_ID_TEXT = st.text(
    alphabet=st.characters(blacklist_characters=[chr(c) for c in range(0x80, 0xA0)]),
    max_size=300,
)


@settings(max_examples=300, deadline=None)
@given(_ID_TEXT | st.sampled_from([".", "..", "a" * 256, "a" * 257, "/", "\\", "\x7f"]))
def test_an_id_is_accepted_exactly_when_it_is_safe(value: str) -> None:
    if _is_valid_id(value):
        assert Session(id=value).id == value
    else:
        with pytest.raises(ValueError):
            Session(id=value)


@pytest.mark.parametrize("bad_id", ["nel\x85", "csi\x9b[2J", "\x80"])
async def test_c1_control_characters_are_control_characters_too(bad_id: str) -> None:
    with pytest.raises(ValueError):
        Session(id=bad_id)
    with pytest.raises(ValueError):
        await InMemorySessionStore().get(bad_id)
    with pytest.raises(ValueError):
        SessionManager(session_id=bad_id)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(message=_json_values, metadata=st.dictionaries(st.text(max_size=8), _json_values))
def test_every_json_value_is_accepted_and_survives_serialisation(
    message: Any, metadata: dict[str, Any]
) -> None:
    event = SessionEvent(message=message, metadata=metadata)
    copy = SessionEvent.model_validate_json(event.model_dump_json())
    assert copy.message == message
    assert copy.metadata == metadata
