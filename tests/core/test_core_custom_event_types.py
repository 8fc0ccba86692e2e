"""Custom event types: names, assignment, and how prompts treat them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from llm_sessions import EventSource, EventType, Session, SessionEvent
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models.event_type import CUSTOM_EVENT_TYPE_PATTERN, parse_event_type
from llm_sessions.session_prompt_builder import (
    PromptStrategy,
    build_prompt_from_session,
    register_event_renderer,
    unregister_event_renderer,
)


@pytest.fixture
def retrieval_renderer() -> Iterator[None]:
    def render(event: SessionEvent[Any]) -> dict[str, str]:
        return {"role": "system", "content": f"Retrieved: {', '.join(event.message['hits'])}"}

    register_event_renderer("retrieval", render)
    yield
    unregister_event_renderer("retrieval")


@pytest.mark.parametrize("name", ["retrieval", "rag.query", "acme:audit", "a", "x-1_2"])
def test_custom_names_that_match_the_pattern_are_kept_as_given(name: str) -> None:
    assert SessionEvent(message="m", type=name).type == name


@pytest.mark.parametrize("value", ["message", "tool_call", EventType.SUMMARY])
def test_built_in_values_become_the_enum_member(value: str) -> None:
    event = SessionEvent(message="m", type=value)
    assert isinstance(event.type, EventType)
    assert event.type.value == value


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Retrieval", CUSTOM_EVENT_TYPE_PATTERN),
        ("1st", CUSTOM_EVENT_TYPE_PATTERN),
        ("has space", CUSTOM_EVENT_TYPE_PATTERN),
        ("", CUSTOM_EVENT_TYPE_PATTERN),
        ("x" * 65, CUSTOM_EVENT_TYPE_PATTERN),
        ("tool-call", "'tool_call' spelled differently"),
        ("TOOL_CALL", "'tool_call' spelled differently"),
        ("Message", "'message' spelled differently"),
        ("context.bridge", "'context_bridge' spelled differently"),
    ],
)
def test_bad_names_are_refused_naming_the_value_and_the_rule(name: str, reason: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        SessionEvent(message="m", type=name)
    message = str(caught.value)
    assert f"event.type={name!r}" in message
    assert reason in message
    assert CUSTOM_EVENT_TYPE_PATTERN in message


def test_a_type_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="must be an EventType or a string"):
        parse_event_type(42)


def test_assigning_a_bad_type_leaves_the_event_unchanged() -> None:
    event = SessionEvent(message="m", type="retrieval")
    with pytest.raises(InvalidInputError, match="spelled differently"):
        event.type = "Summary"
    assert event.type == "retrieval"
    event.type = "summary"
    assert event.type is EventType.SUMMARY


async def test_create_with_tokens_takes_a_custom_type() -> None:
    event = await SessionEvent.create_with_tokens("found 3 documents", "q", type="retrieval")
    assert event.type == "retrieval"
    assert event.token_usage is not None and event.token_usage.prompt_tokens > 0


async def _session_with_retrieval() -> Session[Any]:
    session: Session[Any] = Session()
    await session.add_event(SessionEvent(message="Which docs?", source=EventSource.USER))
    await session.add_event(
        SessionEvent(
            message={"hits": ["doc-1", "doc-2"]}, type="retrieval", source=EventSource.SYSTEM
        )
    )
    await session.add_event(SessionEvent(message="Two docs.", source=EventSource.LLM))
    return session


async def test_prompts_leave_out_custom_events_without_a_renderer() -> None:
    session = await _session_with_retrieval()
    messages = await build_prompt_from_session(session, PromptStrategy.CONVERSATION)
    assert messages == [
        {"role": "user", "content": "Which docs?"},
        {"role": "assistant", "content": "Two docs."},
    ]


async def test_a_registered_renderer_puts_the_event_in_the_prompt(retrieval_renderer: None) -> None:
    session = await _session_with_retrieval()
    messages = await build_prompt_from_session(session, PromptStrategy.CONVERSATION)
    assert messages == [
        {"role": "user", "content": "Which docs?"},
        {"role": "system", "content": "Retrieved: doc-1, doc-2"},
        {"role": "assistant", "content": "Two docs."},
    ]


async def test_rendered_custom_events_count_against_the_budget(retrieval_renderer: None) -> None:
    session = await _session_with_retrieval()
    full = await build_prompt_from_session(session, PromptStrategy.CONVERSATION)
    # A budget that fits the user message and the reply but not the rendered retrieval: the
    # budget keeps the newest messages first and drops what does not fit.
    tight = await build_prompt_from_session(session, PromptStrategy.CONVERSATION, max_tokens=14)
    assert {"role": "system", "content": "Retrieved: doc-1, doc-2"} in full
    assert {"role": "system", "content": "Retrieved: doc-1, doc-2"} not in tight
    assert {"role": "user", "content": "Which docs?"} in tight


def test_renderers_are_only_for_custom_types() -> None:
    with pytest.raises(InvalidInputError, match="built-in type"):
        register_event_renderer("tool_call", lambda event: None)
    with pytest.raises(InvalidInputError, match=re.escape(CUSTOM_EVENT_TYPE_PATTERN)):
        register_event_renderer("Not Valid", lambda event: None)
    with pytest.raises(InvalidInputError, match="callable"):
        register_event_renderer("retrieval", "not a function")  # type: ignore[arg-type]


async def test_a_renderer_that_returns_a_bad_message_is_named() -> None:
    register_event_renderer("retrieval", lambda event: {"role": "tool", "content": "x"})
    try:
        session = await _session_with_retrieval()
        with pytest.raises(InvalidInputError, match="renderer output for 'retrieval'"):
            await build_prompt_from_session(session, PromptStrategy.CONVERSATION)
    finally:
        unregister_event_renderer("retrieval")


async def test_stats_count_events_by_type_including_custom_ones() -> None:
    from llm_sessions import SessionManager
    from llm_sessions.storage import InMemorySessionStore

    sm = SessionManager(store=InMemorySessionStore())
    await sm.user_says("Which docs?")
    session = await sm.store.get(sm.session_id)
    assert session is not None
    await session.add_event_and_save(SessionEvent(message={"hits": []}, type="retrieval"))
    await sm.ai_responds("None found.", model="gpt-4o-mini")

    stats = await sm.get_stats()
    assert stats["events_by_type"] == {"message": 2, "retrieval": 1}
    assert stats["total_events"] == 3


def test_events_built_by_validation_are_checked_like_constructed_ones() -> None:
    # model_validate does not go through SessionEvent.__init__: the validator checks the type.
    assert SessionEvent.model_validate({"message": "m", "type": "tool_call"}).type is (
        EventType.TOOL_CALL
    )
    assert SessionEvent.model_validate({"message": "m", "type": "retrieval"}).type == "retrieval"
    with pytest.raises(ValueError, match="'tool_call' spelled differently"):
        SessionEvent.model_validate({"message": "m", "type": "Tool-Call"})
