"""What a save changes in a store's text index (SQLite, PostgreSQL), worked out once.

The index holds, per event, the text a prompt renders for it (``search_text``) with the facts
a hit shows. A save adds its new events, replaces the events it edits and drops the events its
removal records remove; the store writes these changes in the same transaction as the events,
so the index never holds what the log does not. Redaction runs before this (the save redacts
new events first), so the index holds only redacted text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..models._event_text import search_text
from ._removals import is_removal_row

if TYPE_CHECKING:
    from ..models._session import Session
    from ..models._session_event import SessionEvent
    from ._sync import WriteBatch

__all__ = ["IndexChanges", "IndexRow", "index_changes", "index_row", "stamp"]


def stamp(moment: datetime) -> str:
    """A time as the index keeps it: fixed-width UTC text, so text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class IndexRow:
    """One event as the index holds it."""

    event_id: str
    event_type: str
    created_at: str
    user_id: str | None
    text: str


@dataclass
class IndexChanges:
    """The index rows a save adds, and the event ids whose rows it drops first."""

    rows: list[IndexRow] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def index_row(event: SessionEvent[Any], user_id: str | None) -> IndexRow | None:
    """The index row of ``event``, or None when a prompt renders no text for it."""
    text = search_text(event)
    if not text.strip():
        return None
    kind = event.type.value if hasattr(event.type, "value") else str(event.type)
    return IndexRow(event.id, kind, stamp(event.timestamp), user_id, text)


def index_changes(session: Session[Any], first_new: int, batch: WriteBatch) -> IndexChanges:
    """The index changes of ``batch``, a save of ``session`` whose events from ``first_new``
    on are new.

    Args:
        session: the session being saved (its events already redacted).
        first_new: the position of its first event not yet written.
        batch: the save's batch, before it is sealed.

    Returns:
        The ``IndexChanges``.
    """
    user_id = session.metadata.user_id
    changes = IndexChanges()
    edited = {event_id for event_id, _ in batch.updated}
    for event in session.events[first_new : batch.events_end]:
        row = index_row(event, user_id)
        if row is not None:
            changes.rows.append(row)
    if edited:
        changes.dropped.extend(sorted(edited))
        for event in session.events:
            if event.id in edited and (row := index_row(event, user_id)) is not None:
                changes.rows.append(row)
    for _, body in batch.appended:
        if is_removal_row(body):
            changes.dropped.extend(json.loads(body)["removed_event_ids"])
    return changes
