"""The messages of a session's events as stored, without building typed events.

A reader that needs only what each event carries (the Agents SDK session hands its items back
as plain dicts) reads the stored rows, applies the removal records and parses each event's
message once, instead of building, validating and tracking an event per row.

Rows are written as ``{"id":"<id>","message":<message>,"timestamp":"...`` (the event's fields
in order). Of such a row only what comes before its timestamp is parsed, all rows in one call:
the rest of the event (its timestamp, usage and metadata, most of its bytes) never becomes
Python objects. A row without a message there (a removal record, a sealed event) is read
whole; if the rows cut so do not parse, every row is read whole.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import getitem
from typing import Any

from pydantic_core import from_json

from .._collector import collector_paused
from ..validation import validate_id
from ._base import SessionStoreInterface
from ._event_log import EventLogStore
from ._event_page import EventPage
from ._records import StoredPage, _as_text, joined_rows, last_row_id
from ._removals import is_removal_row, split_removals

__all__ = ["MessageLog", "read_messages"]

logger = logging.getLogger("llm_sessions.storage")

_TAIL = ',"timestamp":"'
_TEXT = ('{"id":"', _TAIL, '{"~row~":0', "[", "},", "}]")
_BYTES = tuple(mark.encode() for mark in _TEXT)
_MARKS: dict[type, tuple[Any, ...]] = {str: _TEXT, bytes: _BYTES}
"""A row's start, what follows its message, a stand-in for a row not laid out as events
are, and how the rows' leading fields are joined into one JSON array."""


@dataclass
class MessageLog:
    """What ``read_messages`` read."""

    ids: list[str]
    """The ids of the events read, in log order, removed events left out."""
    messages: list[Any]
    """Their messages, in the same order (two lists: no object per event beside its message)."""
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
        EncryptionKeyError: A sealed row cannot be opened with the store's keys.
    """
    validate_id(session_id)
    if not isinstance(store, EventLogStore):
        session = await store.get(session_id)
        if session is None:
            return None
        events = session.events
        return MessageLog([event.id for event in events], [event.message for event in events])
    store._ensure_open()
    page = await store._read_page(session_id, EventPage(after=after))
    if page is None:
        return None
    with collector_paused():  # many objects, no cycles
        ids, messages, removed = _read_rows(store, page)
        if removed:
            kept = [n for n, event_id in enumerate(ids) if event_id not in removed]
            ids, messages = [ids[n] for n in kept], [messages[n] for n in kept]
    return MessageLog(ids, messages, removed, last_row_id(page.events) or after)


def _read_rows(store: EventLogStore, page: StoredPage) -> tuple[list[str], list[Any], set[str]]:
    """The ids and messages of the page's events in log order, removed ones still in, and
    the ids its removal records remove."""
    rows, location = page.events, page.location
    values = _leading_fields(rows)
    if values is not None:
        try:
            return [value["id"] for value in values], [value["message"] for value in values], set()
        except KeyError:  # a removal record, or a row not laid out as events are written
            pairs, removed = _sorted_out(store, rows, location, values)
    else:
        events, removed = split_removals(store._cipher.open_page(page).events, location)
        pairs = _parsed(events, location)
    return [event_id for event_id, _ in pairs], [message for _, message in pairs], removed


def _leading_fields(rows: Sequence[str | bytes]) -> list[dict[str, Any]] | None:
    """The fields before ``,"timestamp":"`` of each row that starts with its id, as one dict
    per row (a stand-in for the other rows), parsed in one call; None if they do not parse.

    A message that holds ``,"timestamp":"`` outside its strings is cut short there, and the
    object or list cut short leaves a bracket open: the rows then do not parse.
    """
    if not rows:
        return []
    kind: Any = type(rows[0])
    if kind not in _MARKS:
        return None
    head, tail, stand_in, start, between, end = _MARKS[kind]
    try:  # no Python call per row: each step is one C loop over the rows
        heads = list(map(kind.startswith, rows, repeat(head)))
        stops = list(map(kind.find, rows, repeat(tail)))
        pieces = list(map(getitem, rows, map(slice, repeat(None), stops)))
    except TypeError:  # text and bytes mixed
        return None
    if not all(heads) or min(stops) < 0:
        for n, (starts_with_id, stop) in enumerate(zip(heads, stops, strict=True)):
            if not starts_with_id or stop < 0:
                pieces[n] = stand_in
    try:
        values = from_json(start + between.join(pieces) + end)
    except ValueError:
        return None
    return values if isinstance(values, list) and len(values) == len(rows) else None


def _sorted_out(
    store: EventLogStore,
    rows: Sequence[str | bytes],
    location: str,
    values: list[dict[str, Any]],
) -> tuple[list[tuple[str, Any]], set[str]]:
    """The messages of the rows whose leading fields hold one, each other row read whole
    (a removal record, a sealed event opened, an unreadable row logged and skipped)."""
    messages: list[tuple[str, Any]] = []
    removed: set[str] = set()
    for n, value in enumerate(values):
        if "message" in value and "id" in value:
            messages.append((value["id"], value["message"]))
        elif is_removal_row(rows[n]):
            removed |= split_removals([rows[n]], location)[1]
        else:
            messages.extend(_parsed([store._cipher.open_row(rows[n], location)], location, n))
    return messages, removed


def _parsed(rows: Sequence[str | bytes], location: str, first: int = 0) -> list[tuple[str, Any]]:
    """``(id, message)`` of each event row; an unreadable row is logged and skipped."""
    if not rows:
        return []
    try:
        values = from_json(joined_rows(rows))
        pairs = [(value["id"], value["message"]) for value in values]
        if len(pairs) == len(rows) and all(type(event_id) is str for event_id, _ in pairs):
            return pairs
    except (ValueError, TypeError, KeyError):
        pass
    found = []
    for index, row in enumerate(rows, first):
        try:
            found.append(_pair(from_json(_as_text(row))))
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            logger.warning("Skipping unreadable event #%d at %s: %s", index, location, exc)
    return found


def _pair(value: Any) -> tuple[str, Any]:
    if not isinstance(value, dict) or "message" not in value or type(value.get("id")) is not str:
        raise ValueError("not an event: it needs an id and a message")
    return value["id"], value["message"]
