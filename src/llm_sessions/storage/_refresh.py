"""Bringing a session a caller already holds up to date with its store, reading only what is new.

A session read from (or written to) a durable store remembers how many of its first events are
the store's log as it read it, and the id of the last row it read. A refresh reads the stored
header and the rows stored after that one, in store order: events this object wrote itself
(kept as the same objects), events other writers added (decoded and put in their store place),
and removal records (the events they name leave the session). Its own unsaved events stay at
the end, still to be written, and so do its unsaved header edits
(``sync.unsaved_header_edits``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models._base import as_utc, set_listener
from ..models._session import Session
from ..models._session_event import SessionEvent
from ._records import (
    StoredSession,
    decode_rows,
    event_id_of,
    header_parts,
    header_session,
    install_events,
    last_row_id,
    note_header_read,
    snapshot_of,
)
from ._removals import split_removals
from ._sync import SyncState, unsaved_header_edits

__all__ = ["apply_refresh"]

_HEADER_FIELDS = ("parent_id", "child_ids", "task_ids", "runs", "state", "metadata")


def apply_refresh(session: Session[Any], sync: SyncState, stored: StoredSession) -> None:
    """Update ``session`` in place from ``stored``: its header (with the session's unsaved
    header edits kept on top), and the rows stored after ``sync.read_through``
    (``stored.events``, in store order)."""
    rows, removed = split_removals(stored.events, stored.location)
    held = {event.id: event for event in session.events[sync.read_count : sync.events_written]}
    unsaved = session.events[sync.events_written :]
    page, added = _page_events(session, rows, held, stored.location)
    if removed:
        known = session.events[: sync.read_count]
        read = [event for event in (*known, *page) if event.id not in removed]
        for event in (*known, *page, *unsaved):
            if event.id in removed:
                set_listener(event, None)
        install_events(session, [*read, *(e for e in unsaved if e.id not in removed)])
        read_count = len(read)
    else:
        # Only the end of the list changes: replacing just that keeps a refresh as cheap at
        # the 100,000th event as at the 10th.
        _replace_tail(session, sync.read_count, [*page, *unsaved])
        read_count = sync.read_count + len(page)
    for event_id in removed:
        sync.edited_events.pop(event_id, None)
    added = [event for event in added if event.id not in removed]
    session.watch_events(added)
    if held or removed:  # events left the session: totals from scratch
        session.rebuild_token_summary()
    else:
        for event in added:
            if event.token_usage is not None:
                session.token_summary.add(event.token_usage)
    sync.events_written = sync.read_count = read_count
    sync.read_through = last_row_id(stored.events) or sync.read_through
    _refresh_header(session, sync, stored)
    sync.stored = True  # read back from the store: it holds the session


def _refresh_header(session: Session[Any], sync: SyncState, stored: StoredSession) -> None:
    """Put the stored header in the session, its unsaved header edits kept on top."""
    seen = sync.header_read
    if seen is not None and seen.current_for(sync):
        if stored.header_unchanged or seen.parts == header_parts(stored.header):
            # Nobody moved it since this object installed it, and no save of this object did:
            # the session's header is that one plus its unsaved edits. Rebuilding a parent
            # with thousands of children on every turn is what this saves.
            metadata = session.metadata.__dict__
            metadata["created_at"] = as_utc(stored.header.created_at)
            metadata["updated_at"] = as_utc(stored.header.updated_at)
            seen.tag = stored.header_tag
            return
    if stored.header_unchanged:  # the tag is named only while the reading is current
        raise AssertionError("a store skipped a header this session does not hold")
    fresh_header = header_session(type(session), session.id, stored)
    edits = unsaved_header_edits(session, sync.snapshot)
    for name in _HEADER_FIELDS:
        session.__dict__[name] = fresh_header.__dict__[name]
    sync.snapshot = snapshot_of(session)
    note_header_read(sync, stored)
    edits.reapply(session)  # still to be saved, as unsaved events are


def _replace_tail(session: Session[Any], start: int, tail: list[SessionEvent[Any]]) -> None:
    """Put ``tail`` in place of the session's events from ``start`` on (the list's own slice
    assignment: the session's list refuses edits from callers, not from the store)."""
    list.__setitem__(session.events, slice(start, None), tail)


def _page_events(
    session: Session[Any],
    rows: Sequence[str | bytes],
    held: dict[str, SessionEvent[Any]],
    location: str,
) -> tuple[list[SessionEvent[Any]], list[SessionEvent[Any]]]:
    """The events of ``rows`` in order, reusing the ones this object wrote (taken out of
    ``held``), and which of them are new to it."""
    local = [held.pop(event_id_of(row) or "", None) for row in rows]
    to_decode = [row for row, event in zip(rows, local, strict=True) if event is None]
    decoded = iter(decode_rows(type(session), to_decode, location))
    page: list[SessionEvent[Any]] = []
    added: list[SessionEvent[Any]] = []
    for event in local:
        if event is None:
            event = next(decoded)
            if event is None:  # unreadable, already logged
                continue
            added.append(event)
        page.append(event)
    return page, added
