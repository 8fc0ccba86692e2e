"""The messages of a session's events as stored, without building typed events.

A reader that needs only what each event carries (the Agents SDK session hands its items back
as plain dicts) reads the stored rows, applies the removal records and parses each event's
JSON once, instead of building, validating and tracking an event per row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import from_json

from ..validation import validate_id
from ._base import SessionStoreInterface
from ._event_log import EventLogStore
from ._event_page import EventPage
from ._records import _as_text, _collector_paused, _joined, last_row_id
from ._removals import split_removals

__all__ = ["MessageLog", "read_messages"]

logger = logging.getLogger("llm_sessions.storage")


@dataclass
class MessageLog:
    """What ``read_messages`` read."""

    messages: list[tuple[str, Any]]
    """``(event id, message)`` of each event read, in log order, removed events left out."""
    removed: set[str] = field(default_factory=set)
    """The ids that the removal records read remove (events read earlier among them)."""
    read_through: str | None = None
    """The id of the last row read, where a later read resumes (None: reread it whole)."""


async def read_messages(
    store: SessionStoreInterface, session_id: str, *, after: str | None = None
) -> MessageLog | None:
    """The messages of the session's events, or None if the session is absent.

    Args:
        store: The store to read.
        session_id: The session.
        after: A ``read_through`` of an earlier read: only the rows stored since are read
            (our durable stores; the others are read whole).

    Returns:
        The messages, the ids removed, and where the read ended.

    Raises:
        InvalidInputError: ``after`` is not a row of the session (read it whole instead).
        StorageError: The store failed.
    """
    validate_id(session_id)
    if not isinstance(store, EventLogStore):
        session = await store.get(session_id)
        if session is None:
            return None
        return MessageLog([(event.id, event.message) for event in session.events])
    store._ensure_open()
    page = await store._read_page(session_id, EventPage(after=after))
    if page is None:
        return None
    page = store._cipher.open_page(page)
    rows, removed = split_removals(page.events, page.location)
    messages = [(event_id, message) for event_id, message in _parsed(rows, page.location)]
    kept = [pair for pair in messages if pair[0] not in removed] if removed else messages
    return MessageLog(kept, removed, last_row_id(page.events) or after)


def _parsed(rows: Sequence[str | bytes], location: str) -> list[tuple[str, Any]]:
    """``(id, message)`` of each event row; an unreadable row is logged and skipped."""
    if not rows:
        return []
    try:
        with _collector_paused():
            values = from_json(_joined(rows))
            pairs = [(value["id"], value["message"]) for value in values]
        if len(pairs) == len(rows) and all(type(event_id) is str for event_id, _ in pairs):
            return pairs
    except (ValueError, TypeError, KeyError):
        pass
    found = []
    for index, row in enumerate(rows):
        try:
            found.append(_pair(from_json(_as_text(row))))
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            logger.warning("Skipping unreadable event #%d at %s: %s", index, location, exc)
    return found


def _pair(value: Any) -> tuple[str, Any]:
    if not isinstance(value, dict) or "message" not in value or type(value.get("id")) is not str:
        raise ValueError("not an event: it needs an id and a message")
    return value["id"], value["message"]
