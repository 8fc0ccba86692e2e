"""A session's header and its event rows as stored, for readers that decode the rows themselves.

A framework service that keeps its own objects whole inside our events (the ADK service keeps
each ADK event as JSON in the event's metadata) needs those objects, not our typed events:
decoding every row into a ``SessionEvent`` first would double the cost of a load. This read
goes through the same steps as ``get`` (the store's read, the cipher, removal records) and
stops before the rows are decoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import telemetry
from ..models._session import Session
from ..validation import validate_id
from ._event_log import EventLogStore
from ._records import header_session
from ._removals import split_removals

__all__ = ["RawLog", "read_log"]


@dataclass
class RawLog:
    """A session as stored: its header, its event rows and the ids removal records remove."""

    header: Session[Any]
    """The session's header, with no events."""
    rows: Sequence[str | bytes]
    """The event rows (JSON, opened if they were encrypted) in log order; removal records
    left out, the events they remove still in (``removed`` names them)."""
    removed: set[str]
    """The ids of the events that removal records remove."""
    location: str
    """Where the rows live, for messages about an unreadable one."""


async def read_log(store: EventLogStore, session_id: str) -> RawLog | None:
    """The session's header and event rows as ``store`` holds them, in one read.

    Args:
        store: The store.
        session_id: The session's id.

    Returns:
        The header and rows, or None if the session is absent.

    Raises:
        InvalidInputError: A bad id.
        StorageError: The store failed or timed out.
        CorruptSessionData: The header cannot be read.
    """
    validate_id(session_id)
    store._ensure_open()
    async with telemetry.store_span("get", store, session_id):
        stored = await store._read(session_id)
    if stored is None:
        return None
    stored = store._cipher.open_session(stored)
    rows, removed = split_removals(stored.events, stored.location)
    header = header_session(store.session_class, session_id, stored)
    return RawLog(header, rows, removed, stored.location)
