"""Small builders of events and sessions, and the invariants every prompt must satisfy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent


def user(text: Any, event_id: str | None = None) -> SessionEvent[Any]:
    return _event(text, EventSource.USER, EventType.MESSAGE, event_id)


def assistant(message: Any, event_id: str | None = None) -> SessionEvent[Any]:
    return _event(message, EventSource.LLM, EventType.MESSAGE, event_id)


def system(text: str, event_id: str | None = None) -> SessionEvent[Any]:
    return _event(text, EventSource.SYSTEM, EventType.MESSAGE, event_id)


def summary(text: Any, event_id: str | None = None, **metadata: Any) -> SessionEvent[Any]:
    event = _event(text, EventSource.SYSTEM, EventType.SUMMARY, event_id)
    event.metadata.update(metadata)
    return event


def tool(
    parent: SessionEvent[Any] | None,
    name: str,
    result: Any = None,
    *,
    event_id: str | None = None,
    arguments: Any = None,
    error: Any = None,
    call_id: str | None = None,
    name_key: str = "tool",
) -> SessionEvent[Any]:
    arguments = {} if arguments is None else arguments
    message: dict[str, Any] = {name_key: name, "arguments": arguments, "result": result}
    if error is not None:
        message["error"] = error
    if call_id is not None:
        message["tool_call_id"] = call_id
    event = _event(message, EventSource.SYSTEM, EventType.TOOL_CALL, event_id)
    if parent is not None:
        event.parent_event_id = parent.id
    return event


def _event(
    message: Any, source: EventSource, type_: EventType, event_id: str | None
) -> SessionEvent[Any]:
    extra = {} if event_id is None else {"id": event_id}
    return SessionEvent(message=message, source=source, type=type_, **extra)


def session_of(*events: SessionEvent[Any]) -> Session[Any]:
    """A session holding ``events`` (not stored anywhere)."""
    return Session(events=list(events))


def u(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def a(text: str | None) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def s(text: str) -> dict[str, Any]:
    return {"role": "system", "content": text}


def call(call_id: str, name: str, arguments: str = "{}") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def a_calls(text: str | None, *calls: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": text, "tool_calls": list(calls)}


def t(call_id: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def assert_tool_pairs_whole(prompt: Sequence[Mapping[str, Any]]) -> None:
    """Every assistant tool call is answered right after it, and every tool message answers a
    call of the assistant message just before its run of tool messages."""
    index = 0
    while index < len(prompt):
        message = prompt[index]
        assert message["role"] != "tool", f"orphan tool message at {index}: {message}"
        index += 1
        calls = message.get("tool_calls") or []
        if message["role"] != "assistant" or not calls:
            continue
        expected = [c["id"] for c in calls]
        answered = []
        while index < len(prompt) and prompt[index]["role"] == "tool":
            answered.append(prompt[index]["tool_call_id"])
            index += 1
        assert answered == expected, f"calls {expected} answered by {answered}"


def is_subsequence(part: Sequence[Any], whole: Sequence[Any]) -> bool:
    """Whether ``part`` is ``whole`` with some items left out, in the same order."""
    remaining = iter(whole)
    return all(any(item == candidate for candidate in remaining) for item in part)
