"""The text of an event as prompts render it.

The prompt builder (``prompting``) turns these into chat messages, and the search index of
every store indexes the same text (``search_text``), so a search finds what a prompt would
have shown the model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._event_source import EventSource
from ._event_type import EventType
from ._session_event import SessionEvent

__all__ = [
    "TEXT_KEYS",
    "ToolRecord",
    "as_text",
    "event_text",
    "reply_parts",
    "reply_text",
    "search_text",
    "tool_record",
]

TEXT_KEYS = ("content", "summary", "text")
_TOOL_NAME_KEYS = ("tool", "tool_name", "name")


def as_text(value: Any) -> str:
    """A JSON value as text: strings unchanged, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def event_text(message: Any) -> str:
    """The text of a user, system or summary message (a string, or a dict holding one)."""
    if isinstance(message, Mapping):
        for key in TEXT_KEYS:
            value = message.get(key)
            if isinstance(value, str):
                return value
    return as_text(message)


def reply_text(message: Any) -> str | None:
    """The text of an assistant reply, or None when it has none (only tool calls)."""
    content = reply_parts(message)[0]
    if isinstance(content, str):
        return content or None
    if isinstance(content, list):
        text = "".join(part.get("text", "") for part in content if isinstance(part, Mapping))
        return text or None
    return None


def reply_parts(message: Any) -> tuple[Any, list[Mapping[str, Any]]]:
    """(content, declared tool calls) of an assistant message: a string or an OpenAI dict."""
    if isinstance(message, Mapping) and ("content" in message or "tool_calls" in message):
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            content = as_text(content)
        declared = message.get("tool_calls") or []
        calls = (
            [call for call in declared if isinstance(call, Mapping)]
            if isinstance(declared, list)
            else []
        )
        return content, calls
    return as_text(message), []


@dataclass(frozen=True, slots=True)
class ToolRecord:
    """A tool event as a prompt renders it."""

    name: str
    arguments: str
    explicit_id: str | None
    content: str
    event_id: str


def tool_record(event: SessionEvent[Any]) -> ToolRecord:
    """The name, arguments, call id and result of a tool event, as a prompt sends them."""
    message = event.message
    data: Mapping[str, Any] = message if isinstance(message, Mapping) else {"result": message}
    name = _first_str(data, _TOOL_NAME_KEYS) or _first_str(event.metadata, _TOOL_NAME_KEYS)
    call_id = _first_str(data, ("tool_call_id",)) or _first_str(event.metadata, ("tool_call_id",))
    return ToolRecord(
        name=name or "unknown_tool",
        arguments=_arguments_text(data.get("arguments")),
        explicit_id=call_id,
        content=_tool_content(data.get("result"), data.get("error")),
        event_id=event.id,
    )


def _arguments_text(arguments: Any) -> str:
    """Call arguments as the JSON text OpenAI expects; text that is not JSON is quoted."""
    if arguments is None or arguments == "":
        return "{}"
    if isinstance(arguments, str):
        try:
            json.loads(arguments)
        except ValueError:
            return json.dumps(arguments, ensure_ascii=False)
        return arguments
    return as_text(arguments)


def _first_str(data: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _tool_content(result: Any, error: Any) -> str:
    """A tool result as message content, as the tool processor sends it to the model: a string
    result as is, any other as JSON, an error as ``{"error": ...}``."""
    if error is not None:
        return json.dumps({"error": error}, ensure_ascii=False)
    if isinstance(result, str):
        return result
    return json.dumps(result, ensure_ascii=False)


def search_text(event: SessionEvent[Any]) -> str:
    """What a search indexes of ``event``: the text a prompt renders for it.

    Messages and summaries give their text (the text parts of a message with attachments), an
    assistant reply also the names and arguments of the tools it calls, a tool event its
    name, arguments and result; an event of a custom type gives its message's text. A
    REFERENCE event is a pointer that prompts leave out: it gives ``""``.
    """
    if event.type is EventType.REFERENCE:
        return ""
    if event.type is EventType.TOOL_CALL:
        record = tool_record(event)
        return "\n".join((record.name, record.arguments, record.content))
    if event.type is EventType.MESSAGE and event.source is EventSource.LLM:
        content, calls = reply_parts(event.message)
        lines = [_parts_text(content) if isinstance(content, list) else content or ""]
        for call in calls:
            function = call.get("function")
            if isinstance(function, Mapping):
                lines.extend(as_text(function.get(key) or "") for key in ("name", "arguments"))
        return "\n".join(line for line in lines if line)
    content = event.message.get("content") if isinstance(event.message, Mapping) else None
    if isinstance(content, list):
        return _parts_text(content)
    return event_text(event.message)


def _parts_text(parts: Sequence[Any]) -> str:
    """The text parts of a content list, one per line (attachments give their name)."""
    texts = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, Mapping):
            value = part.get("text", part.get("name"))
            if isinstance(value, str):
                texts.append(value)
    return "\n".join(texts)
