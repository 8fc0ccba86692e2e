"""Session events as OpenAI-style chat messages."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from ..models._event_source import EventSource
from ..models._event_text import (
    ToolRecord,
    event_text,
    reply_parts,
    reply_text,
    tool_record,
)
from ..models._event_type import EventType
from ..models._session_event import SessionEvent
from ._attachment_parts import attachment_content, chat_parts

__all__ = [
    "ChatRole",
    "Message",
    "event_role",
    "event_text",
    "render_message",
    "render_reply",
    "render_tool_calls",
    "reply_text",
]

Message = dict[str, Any]
"""One chat message: ``{"role": ..., "content": ...}`` plus ``tool_calls`` / ``tool_call_id``."""


class ChatRole(StrEnum):
    """The role of a chat message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


_ROLE_BY_SOURCE = {
    EventSource.USER: ChatRole.USER,
    EventSource.LLM: ChatRole.ASSISTANT,
    EventSource.SYSTEM: ChatRole.SYSTEM,
}
_SYSTEM_TYPES = frozenset({EventType.SUMMARY, EventType.CONTEXT_BRIDGE})
_MAX_CALL_ID_BODY = 35


def event_role(event: SessionEvent[Any]) -> ChatRole | None:
    """The role an event speaks with, or None for events that are not messages.

    Tool calls are rendered with their reply (see ``render_reply``); REFERENCE events are
    pointers, not conversation, and are left out.
    """
    if event.type is EventType.MESSAGE:
        return _ROLE_BY_SOURCE[event.source]
    if event.type in _SYSTEM_TYPES:
        return ChatRole.SYSTEM
    return None


def render_message(event: SessionEvent[Any], role: ChatRole) -> Message:
    """A user, system or tool-less assistant message for ``event``."""
    if role is ChatRole.ASSISTANT:
        return render_reply(event, ())[0]
    content = attachment_content(event.message)
    if content is not None:
        return {"role": role.value, "content": chat_parts(content)}
    return {"role": role.value, "content": event_text(event.message)}


def render_reply(event: SessionEvent[Any], tools: Sequence[SessionEvent[Any]]) -> list[Message]:
    """An assistant reply with its tool calls, each call followed by its ``tool`` result.

    Tool calls the reply declares (an OpenAI message dict with ``tool_calls``) are matched to
    the tool events by ``tool_call_id``, else by function name in order; declared calls that no
    tool event answers are left out, so no call is ever without its result.
    """
    content, declared = reply_parts(event.message)
    calls, results = _calls_and_results(declared, tools)
    if calls:
        return [
            {"role": ChatRole.ASSISTANT.value, "content": content, "tool_calls": calls},
            *results,
        ]
    return [{"role": ChatRole.ASSISTANT.value, "content": "" if content is None else content}]


def render_tool_calls(tools: Sequence[SessionEvent[Any]]) -> list[Message]:
    """Tool events with no assistant reply to carry them: a content-less assistant message
    holding the calls, then the results."""
    calls, results = _calls_and_results((), tools)
    return [{"role": ChatRole.ASSISTANT.value, "content": None, "tool_calls": calls}, *results]


def _calls_and_results(
    declared: Sequence[Mapping[str, Any]], tools: Sequence[SessionEvent[Any]]
) -> tuple[list[Message], list[Message]]:
    unused = list(declared)
    used_ids: set[str] = set()
    calls: list[Message] = []
    results: list[Message] = []
    for event in tools:
        record = tool_record(event)
        call = _claim_declared(unused, record) or _new_call(record, used_ids)
        used_ids.add(call["id"])
        calls.append(call)
        results.append(
            {"role": ChatRole.TOOL.value, "tool_call_id": call["id"], "content": record.content}
        )
    return calls, results


def _claim_declared(unused: list[Mapping[str, Any]], record: ToolRecord) -> Message | None:
    """The declared call this tool event answers (removed from ``unused``), normalised."""
    for index, call in enumerate(unused):
        function = call.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id:
            continue
        matches = (
            call_id == record.explicit_id if record.explicit_id is not None else name == record.name
        )
        if matches:
            del unused[index]
            raw = function.get("arguments") if isinstance(function, Mapping) else None
            arguments = raw if isinstance(raw, str) else record.arguments
            return _call(call_id, record.name if name is None else str(name), arguments)
    return None


def _new_call(record: ToolRecord, used_ids: set[str]) -> Message:
    call_id = record.explicit_id
    if call_id is None or call_id in used_ids:
        call_id = derived_call_id(record.event_id)
    return _call(call_id, record.name, record.arguments)


def _call(call_id: str, name: str, arguments: str) -> Message:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def derived_call_id(event_id: str) -> str:
    """A tool call id made from a tool event's id: ``call_<uuid hex>``, or a short hash."""
    body = event_id.replace("-", "")
    if not (body.isascii() and body.isalnum() and len(body) <= _MAX_CALL_ID_BODY):
        body = hashlib.blake2b(event_id.encode(), digest_size=12).hexdigest()
    return f"call_{body}"
