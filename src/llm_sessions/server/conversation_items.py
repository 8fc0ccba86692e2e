"""How a Conversations item becomes a session event, and how any event reads back as an item.

An item is stored as the event's message (the item's fields, without its id: the event id is the
item id). Events recorded by the library itself, whose messages are plain text or other JSON, read
back as messages whose role comes from the event's source.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal
from uuid import uuid4

from ..models import EventSource, EventType, Session, SessionEvent
from .conversation_attachments import item_part
from .conversation_schema import (
    ConversationOut,
    FunctionCallIn,
    FunctionCallOut,
    FunctionCallOutputOut,
    ItemIn,
    ItemOut,
    MessageIn,
    MessageOut,
    OutputTextPart,
)

__all__ = [
    "METADATA_PROPERTY",
    "conversation_of",
    "event_from_item",
    "item_of",
    "set_conversation_metadata",
]

METADATA_PROPERTY = "conversation_metadata"
"""The session property that holds a conversation's OpenAI-style metadata."""
_NOT_COPIED = {METADATA_PROPERTY, "user_id", "root_id"}
"""Metadata keys kept only in ``METADATA_PROPERTY``: filters read these names as columns."""


def set_conversation_metadata(session: Session[Any], metadata: Mapping[str, str]) -> None:
    """Give ``session`` a conversation's ``metadata``: kept whole in ``METADATA_PROPERTY``
    (what reads back), and each pair as a top-level property too, so that lists show it and
    filter by it (``where``, the inspector's property filter). The pairs of the metadata it
    replaces are removed; a property the metadata did not set is never overwritten.

    Args:
        session: The conversation's session (not saved here).
        metadata: The new metadata (OpenAI's: text keys and values).
    """
    properties = session.metadata.properties
    previous = properties.get(METADATA_PROPERTY)
    for key, value in (previous if isinstance(previous, dict) else {}).items():
        if key not in _NOT_COPIED and properties.get(key) == value:
            del properties[key]
    properties[METADATA_PROPERTY] = dict(metadata)
    for key, value in metadata.items():
        if key not in _NOT_COPIED and not key.startswith("llm_sessions.") and key not in properties:
            properties[key] = value


_SOURCE_OF_ROLE = {
    "user": EventSource.USER,
    "assistant": EventSource.LLM,
    "system": EventSource.SYSTEM,
    "developer": EventSource.SYSTEM,
}
Role = Literal["user", "assistant", "system", "tool"]
_ROLE_OF_SOURCE: dict[EventSource, Role] = {EventSource.USER: "user", EventSource.LLM: "assistant"}
_ID_PREFIX = {"message": "msg_", "function_call": "fc_", "function_call_output": "fco_"}


def conversation_of(session: Session[Any]) -> ConversationOut:
    """A session seen as a conversation."""
    metadata = session.metadata.properties.get(METADATA_PROPERTY)
    return ConversationOut(
        id=session.id,
        created_at=int(session.metadata.created_at.timestamp()),
        metadata=metadata if isinstance(metadata, dict) else {},
    )


def event_from_item(
    item: ItemIn,
    new_id: Callable[[str], str] | None = None,
    attachments: Mapping[int, dict[str, Any]] | None = None,
) -> SessionEvent[Any]:
    """The event that records ``item`` (its id is the new item's id: ``new_id(prefix)``, by
    default the prefix and a random hex); ``attachments`` are its stored image and file parts,
    by part index."""
    event_id = (new_id or _random_id)(_ID_PREFIX[item.type])
    if isinstance(item, MessageIn):
        return SessionEvent(
            id=event_id,
            message=_stored_message(item, attachments or {}),
            source=_SOURCE_OF_ROLE[item.role],
            type=EventType.MESSAGE,
        )
    source = EventSource.LLM if isinstance(item, FunctionCallIn) else EventSource.SYSTEM
    return SessionEvent(
        id=event_id,
        message=item.model_dump(exclude_none=True),
        source=source,
        type=EventType.TOOL_CALL,
    )


def _random_id(prefix: str) -> str:
    return f"{prefix}{uuid4().hex}"


def _stored_message(item: MessageIn, attachments: Mapping[int, dict[str, Any]]) -> dict[str, Any]:
    part_type = "output_text" if item.role == "assistant" else "input_text"
    if isinstance(item.content, str):
        parts: list[dict[str, Any]] = [{"type": part_type, "text": item.content}]
    else:
        parts = [attachments.get(at) or part.model_dump() for at, part in enumerate(item.content)]
    for part in parts:
        if part["type"] == "output_text":
            part["annotations"] = []
    return {**item.model_dump(exclude_none=True), "content": parts}


def item_of(event: SessionEvent[Any]) -> ItemOut:
    """Any event seen as a Conversations item."""
    message = event.message
    kind = message.get("type") if isinstance(message, dict) else None
    try:
        if kind == "message" and isinstance(message, dict):
            content = message.get("content")
            if isinstance(content, list):
                message = {**message, "content": [item_part(part) for part in content]}
            return MessageOut.model_validate({**message, "id": event.id})
        if kind == "function_call" and isinstance(message, dict):
            return FunctionCallOut.model_validate({**message, "id": event.id})
        if kind == "function_call_output" and isinstance(message, dict):
            return FunctionCallOutputOut.model_validate({**message, "id": event.id})
    except ValueError:
        # A library event whose message merely has a "type" key is not an item: show its text.
        return _as_text_message(event)
    return _as_text_message(event)


def _as_text_message(event: SessionEvent[Any]) -> MessageOut:
    message = event.message
    if isinstance(message, dict) and _is_streamed_reply(event):
        message = message.get("content") or ""  # its tool calls stay in the session's events
    text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
    role: Role = _ROLE_OF_SOURCE.get(event.source, "system")
    if event.type is EventType.TOOL_CALL:
        role = "tool"
    part = (
        OutputTextPart(type="output_text", text=text, annotations=[])
        if role == "assistant"
        else OutputTextPart(type="input_text", text=text)
    )
    status = "incomplete" if event.metadata.get("incomplete") is True else "completed"
    return MessageOut(id=event.id, role=role, content=[part], status=status)


def _is_streamed_reply(event: SessionEvent[Any]) -> bool:
    """A reply recorded by ``ai_stream``: an assistant message dict with text content."""
    message = event.message
    return (
        event.metadata.get("streamed") is True
        and message.get("role") == "assistant"
        and isinstance(message.get("content"), str)
    )
