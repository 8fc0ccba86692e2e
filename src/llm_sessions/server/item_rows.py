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

# Tuples, not sets: a stored value may be a list, which a set cannot be asked about.
_ROLES = ("user", "assistant", "system", "developer", "tool", "unknown")
_MESSAGE_KEYS = frozenset({"type", "role", "content", "status", "phase"})
_PART_TYPES = ("input_text", "output_text", "text")
_PART_KEYS = frozenset({"type", "text", "annotations"})
_STATUSES = ("completed", "incomplete")
_PHASES = (None, "commentary", "final_answer")
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
    events = _parsed(rows[:limit])
    if events is None:
        return None
    items = []
    for event in events:
        item = _plain_item(event)
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


def _parsed(rows: Sequence[str | bytes]) -> list[Any] | None:
    """The rows parsed in one call (one JSON array), or None if they are not one value each."""
    try:
        text = "[" + ",".join(r if isinstance(r, str) else r.decode() for r in rows) + "]"
        events = json.loads(text)
    except ValueError:  # bad JSON or UTF-8
        return None
    return events if len(events) == len(rows) else None


def _plain_item(event: Any) -> dict[str, Any] | None:
    """The item of a stored plain text message (parsed JSON, so of exact types), as
    ``MessageOut`` dumps it; else None."""
    try:
        event_id, message = event["id"], event["message"]
        role, content = message["role"], message["content"]
        plain = message["type"] == "message" and message.keys() <= _MESSAGE_KEYS
    except (KeyError, TypeError):  # not an object, or a field missing
        return None
    status = message.get("status", "completed")
    phase = message.get("phase")
    if (
        not plain
        or type(event_id) is not str
        or type(content) is not list
        or role not in _ROLES
        or status not in _STATUSES
        or phase not in _PHASES
    ):
        return None
    parts = []
    for part in content:
        if type(part) is not dict or not part.keys() <= _PART_KEYS:
            return None
        kind, text, annotations = part.get("type"), part.get("text"), part.get("annotations")
        if kind not in _PART_TYPES or type(text) is not str or annotations not in (None, []):
            return None
        parts.append({"type": kind, "text": text, "annotations": annotations})
    item = {"id": event_id, "type": "message", "role": role, "status": status}
    return {**item, "content": parts, "phase": phase}
