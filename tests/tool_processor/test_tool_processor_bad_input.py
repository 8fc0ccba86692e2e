"""Bad input is rejected with an error naming the field, before anything is recorded."""

from __future__ import annotations

from typing import Any

import pytest

from chat_messages import call
from llm_sessions.exceptions import InvalidInputError, InvalidSessionId
from llm_sessions.models.session import Session
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tools import ToolRegistry


@pytest.mark.parametrize(
    ("llm_msg", "field"),
    [
        ("not a message", "llm_msg"),
        (None, "llm_msg"),
        (["a", "list"], "llm_msg"),
        ({"tool_calls": "get_weather"}, "llm_msg.tool_calls"),
        ({"tool_calls": {"function": {"name": "x"}}}, "llm_msg.tool_calls"),
        ({"tool_calls": ["get_weather"]}, "llm_msg.tool_calls[0]"),
        ({"tool_calls": [{"type": "function"}]}, "llm_msg.tool_calls[0].function"),
        (
            {"tool_calls": [{"function": {"arguments": "{}"}}]},
            "llm_msg.tool_calls[0].function.name",
        ),
        ({"tool_calls": [{"function": {"name": ""}}]}, "llm_msg.tool_calls[0].function.name"),
        ({"tool_calls": [{"function": {"name": "x", "arguments": 3}}]}, "arguments"),
        ({"tool_calls": [{"id": 7, "function": {"name": "x"}}]}, "llm_msg.tool_calls[0].id"),
        ({"tool_calls": [{"type": "custom", "function": {"name": "x"}}]}, "type"),
        ({"content": object()}, "llm_msg"),
        ({"choices": []}, "llm_msg.choices"),
    ],
)
async def test_a_message_of_the_wrong_shape_is_rejected_before_recording(
    session: Session[Any], registry: ToolRegistry, llm_msg: Any, field: str
) -> None:
    processor = SessionAwareToolProcessor(session.id, registry=registry)

    with pytest.raises(InvalidInputError) as raised:
        await processor.process_llm_message(llm_msg, None)

    assert field in str(raised.value)
    assert session.events == []
    assert session.runs == []


async def test_a_callback_that_is_not_callable_is_rejected(
    session: Session[Any], registry: ToolRegistry
) -> None:
    processor = SessionAwareToolProcessor(session.id, registry=registry)

    with pytest.raises(InvalidInputError, match="llm_callback"):
        await processor.process_llm_message({"tool_calls": [call("x")]}, "not callable")  # type: ignore[arg-type]

    assert session.events == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_retries", 1.5),
        ("max_retries", True),
        ("max_llm_retries", -1),
        ("retry_delay", -0.1),
        ("retry_delay", float("nan")),
        ("timeout", 0),
        ("timeout", "30"),
        ("llm_retry_prompt", ""),
        ("model", ""),
        ("cache_size", 0),
        ("registry", {}),
        ("store", "memory://"),
    ],
)
async def test_bad_settings_name_the_setting(
    store: InMemorySessionStore, option: str, value: Any
) -> None:
    with pytest.raises(InvalidInputError, match=option):
        SessionAwareToolProcessor("some-session", **{option: value})


@pytest.mark.parametrize("session_id", ["", "../escape", "a/b", 42])
async def test_a_bad_session_id_is_rejected(store: InMemorySessionStore, session_id: Any) -> None:
    with pytest.raises(InvalidSessionId):
        SessionAwareToolProcessor(session_id)


async def test_timeout_none_means_no_limit(store: InMemorySessionStore) -> None:
    processor = SessionAwareToolProcessor("some-session", timeout=None)
    assert processor.policy.timeout is None
