"""A page of items written straight from the stored event rows, without building events.

A page read builds a validated, tracked event per row, then an item model per event, then
serialises the page: most of a page read's CPU. A stored text message (what a
Conversations append of text writes) already holds the item's fields, so for such a row the
item is its message's fields in the order ``MessageOut`` gives them. ``page_json`` writes the
page from the rows when every row has that plain shape, byte for byte what the models would
give; for any other row (attachments, function calls, library events, annotations with
content) it answers None and the caller takes the model path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = ["page_json"]

_ROLES = frozenset({"user", "assistant", "system", "developer", "tool", "unknown"})
_MESSAGE_KEYS = frozenset({"type", "role", "content", "status", "phase"})
_PART_TYPES = frozenset({"input_text", "output_text", "text"})
_PART_KEYS = frozenset({"type", "text", "annotations"})
_STATUSES = frozenset({"completed", "incomplete"})
_PHASES = frozenset({None, "commentary", "final_answer"})
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def page_json(rows: Sequence[str | bytes], limit: int) -> bytes | None:
    """The JSON of an items page (``ItemList``) of the first ``limit`` of ``rows`` (stored event
    rows, one more than ``limit`` when more follow), or None when a row is not a plain text
    message.

    Args:
        rows: The stored rows, in page order.
        limit: The page's size.

    Returns:
        The page's JSON, or None.
    """
    items = []
    for row in rows[:limit]:
        item = _plain_item(row)
        if item is None:
            return None
        items.append(item)
    page = {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": len(rows) > limit,
    }
    try:
        return _encode(page).encode()
    except UnicodeEncodeError:  # a lone surrogate: the models' path says what it does
        return None


def _plain_item(row: str | bytes) -> dict[str, Any] | None:
    """The item of a stored plain text message row, as ``MessageOut`` dumps it; else None."""
    try:
        event = json.loads(row)
    except ValueError:
        return None
    message = event.get("message") if isinstance(event, dict) else None
    event_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(message, dict) or not isinstance(event_id, str):
        return None
    status = message.get("status", "completed")
    phase = message.get("phase")
    content = message.get("content")
    if (
        message.get("type") != "message"
        or not message.keys() <= _MESSAGE_KEYS
        or message.get("role") not in _ROLES
        or status not in _STATUSES
        or phase not in _PHASES
        or not isinstance(content, list)
    ):
        return None
    parts = []
    for part in content:
        if not _plain_part(part):
            return None
        parts.append(
            {"type": part["type"], "text": part["text"], "annotations": part.get("annotations")}
        )
    return {
        "id": event_id,
        "type": "message",
        "role": message["role"],
        "status": status,
        "content": parts,
        "phase": phase,
    }


def _plain_part(part: Any) -> bool:
    """A text part whose annotations (if any) are an empty list or null."""
    return (
        isinstance(part, dict)
        and part.keys() <= _PART_KEYS
        and part.get("type") in _PART_TYPES
        and isinstance(part.get("text"), str)
        and part.get("annotations") in (None, [])
    )
