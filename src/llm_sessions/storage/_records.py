"""Turning stored rows back into sessions, the same way for every durable store."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, get_args

from pydantic import TypeAdapter, ValidationError

from .._collector import collector_paused
from ..exceptions import CorruptSessionData
from ..models._base import STORED_DATA
from ..models._event_list import EventList
from ..models._session import Session
from ..models._session_metadata import split_reserved
from ..models._session_run import SessionRun
from ..models._stored_events import stored_events
from ._binding import binding_of
from ._removals import is_removal_row, split_removals
from ._sync import HeaderReading, HeaderSnapshot, SyncState, copy_json, run_marks

__all__ = [
    "StoredHeader",
    "StoredPage",
    "StoredSession",
    "build_session",
    "decode_events",
    "decode_rows",
    "event_id_of",
    "header_parts",
    "header_session",
    "install_events",
    "joined_rows",
    "last_row_id",
    "note_header_read",
    "snapshot_of",
    "unreadable_rows",
]

logger = logging.getLogger("llm_sessions.storage")


@dataclass
class StoredHeader:
    """A session's header as a store holds it (JSON values already decoded)."""

    created_at: datetime
    updated_at: datetime
    parent_id: str | None = None
    child_ids: list[str] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)
    runs: list[str | bytes] = field(default_factory=list)
    """Each run as its JSON text."""
    state: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoredSession:
    """A header and the session's events as JSON texts, in log order."""

    header: StoredHeader
    events: Sequence[str | bytes]
    location: str
    """Where the data lives (a path, a key, a table), for error messages."""
    header_tag: str | None = None
    """The store's tag for the header as read, in stores that keep one: SQLite and PostgreSQL
    give the session a new tag with every write that changes a header part; the Redis store
    tags what it read with a digest of it."""
    header_unchanged: bool = False
    """The reader named the session's current tag: ``header`` holds its timestamps only, and
    the header parts are those the reader already holds."""


@dataclass
class StoredPage:
    """Some of a session's events as JSON texts, in the order they were asked for."""

    events: Sequence[str | bytes]
    location: str


_ID_PREFIX = '{"id":"'


def event_id_of(row: str | bytes) -> str | None:
    """The id of the event in a stored row (None if the row is unreadable)."""
    line = _as_text(row)
    if line.startswith(_ID_PREFIX):  # how events are written: a fast path without parsing
        end = line.find('"', len(_ID_PREFIX))
        candidate = line[len(_ID_PREFIX) : end]
        if end > 0 and "\\" not in candidate:
            return candidate
    try:
        value = json.loads(line)
    except ValueError:
        return None
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def last_row_id(rows: Sequence[str | bytes]) -> str | None:
    """The id of the last row of a log whose id can be read (an event or a removal record):
    where a reader that has read these rows resumes."""
    for row in reversed(rows):
        if (row_id := event_id_of(row)) is not None:
            return row_id
    return None


@lru_cache(maxsize=32)
def _events_adapter(session_class: type[Session[Any]]) -> TypeAdapter[list[Any]]:
    event_type: Any = session_class.model_fields["events"].annotation
    return TypeAdapter(event_type)


def _event_class(session_class: type[Session[Any]]) -> type[Any] | None:
    found = get_args(session_class.model_fields["events"].annotation)
    return found[0] if len(found) == 1 else None


def _as_text(raw: str | bytes) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def decode_events(
    session_class: type[Session[Any]], rows: Sequence[str | bytes], location: str
) -> list[Any]:
    """The events of stored log rows, in order, without removal records and the events they
    remove (every read path decodes through here)."""
    rows, removed = split_removals(rows, location)
    return [
        event
        for event in decode_rows(session_class, rows, location)
        if event is not None and event.id not in removed
    ]


def decode_rows(
    session_class: type[Session[Any]], rows: Sequence[str | bytes], location: str
) -> list[Any]:
    """One event per stored event row (trusted: no re-validation of what we wrote), None for
    a row that cannot be read (logged at WARNING with its location)."""
    adapter = _events_adapter(session_class)
    if not rows:
        return []
    event_class = _event_class(session_class)
    joined = joined_rows(rows)
    try:
        # One call for the whole log is several times faster than one per row.
        with collector_paused():
            decoded = None if event_class is None else stored_events(event_class, joined)
            if decoded is None:
                decoded = adapter.validate_json(joined, context=STORED_DATA)
        if len(decoded) == len(rows):  # else an empty row vanished or one row held two
            return decoded
    except (ValidationError, ValueError):
        pass
    events: list[Any] = []
    for index, row in enumerate(rows):
        try:
            found = adapter.validate_json("[" + _as_text(row) + "]", context=STORED_DATA)
            if len(found) != 1:
                raise ValueError(f"the row holds {len(found)} events, not one")
            events.extend(found)
        except (ValidationError, ValueError, UnicodeDecodeError) as exc:
            logger.warning(
                "Skipping unreadable event #%d at %s: %s", index, location, _first_line(exc)
            )
            events.append(None)
    return events


def joined_rows(rows: Sequence[str | bytes]) -> str | bytes:
    """The rows as one JSON array; rows read as bytes (Redis) are joined without decoding."""
    try:  # all text or all bytes, as each store reads them: joined without a call per row
        if rows and isinstance(rows[0], bytes):
            return b"[" + b",".join(rows) + b"]"  # type: ignore[arg-type]
        return "[" + ",".join(rows) + "]"  # type: ignore[arg-type]
    except TypeError:  # text and bytes mixed (opened encrypted rows among stored bytes)
        return "[" + ",".join(_as_text(row) for row in rows) + "]"


SEALED_MARK = '","enc":"'
"""What follows the id in an encrypted event row (see ``storage.encryption``)."""


def is_sealed_row(row: str | bytes) -> bool:
    """Whether a row is an encrypted event, of which only the id can be read without its key."""
    text = _as_text(row)
    if not text.startswith(_ID_PREFIX):
        return False
    return text.startswith(SEALED_MARK, text.find('"', len(_ID_PREFIX)))


def unreadable_rows(session_class: type[Session[Any]], rows: Sequence[str | bytes]) -> list[int]:
    """Positions of the log rows that are not one readable event (removal records aside):
    what ``vacuum()`` moves out of a log. Encrypted rows are left alone: their content can
    only be checked with their key."""
    adapter = _events_adapter(session_class)
    bad: list[int] = []
    for index, row in enumerate(rows):
        if is_removal_row(row) or is_sealed_row(row):
            continue
        try:
            if len(adapter.validate_json("[" + _as_text(row) + "]", context=STORED_DATA)) != 1:
                bad.append(index)
        except (ValidationError, ValueError, UnicodeDecodeError):
            bad.append(index)
    return bad


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def build_session(
    session_class: type[Session[Any]],
    session_id: str,
    stored: StoredSession,
    store_token: object,
) -> Session[Any]:
    """Rebuild a session from stored rows and mark it as in sync with the store.

    An unreadable event is logged at WARNING with its location and skipped (the stored row is
    left as it is); an unreadable header raises ``CorruptSessionData``.
    """
    session = header_session(session_class, session_id, stored)
    with collector_paused():  # the events and their totals: many objects, no cycles
        events = decode_events(session_class, stored.events, stored.location)
        install_events(session, events)
        session.rebuild_token_summary()
        session.watch_events(events)
    sync = SyncState(store_token, len(events), snapshot_of(session), stored=True)
    sync.read_through = last_row_id(stored.events)
    note_header_read(sync, stored)
    binding_of(session).sync = sync
    return session


def header_session(
    session_class: type[Session[Any]], session_id: str, stored: StoredSession
) -> Session[Any]:
    """A session with the stored header and no events; ``CorruptSessionData`` if the header
    cannot be read."""
    header = stored.header
    try:
        # Trusted as events are: it passed every check when it was written, and a refresh
        # reads it on every turn (a parent with thousands of children, say).
        runs = [SessionRun.model_validate_json(raw, context=STORED_DATA) for raw in header.runs]
        reserved, properties = split_reserved(header.properties)
        return session_class.model_validate(
            {
                "id": session_id,
                "parent_id": header.parent_id,
                "child_ids": header.child_ids,
                "task_ids": header.task_ids,
                "runs": runs,
                "state": header.state,
                "metadata": {
                    "created_at": header.created_at,
                    "updated_at": header.updated_at,
                    **reserved,
                    "properties": properties,
                },
            },
            context=STORED_DATA,
        )
    except (ValidationError, ValueError, TypeError) as exc:
        logger.warning("Unreadable session header at %s: %s", stored.location, _first_line(exc))
        raise CorruptSessionData(stored.location, _first_line(exc)) from exc


def header_parts(header: StoredHeader) -> object:
    """What a header holds apart from its timestamps, to compare with another read of it."""
    return (
        header.parent_id,
        header.child_ids,
        header.task_ids,
        header.runs,
        header.state,
        header.properties,
    )


def note_header_read(sync: SyncState, stored: StoredSession) -> None:
    """Record that the session now holds ``stored``'s header, as ``sync.snapshot`` shows it."""
    sync.header_read = HeaderReading(header_parts(stored.header), sync.snapshot, stored.header_tag)


def install_events(session: Session[Any], events: list[Any]) -> None:
    """Make ``events`` the session's event list (as read from a store, not new events)."""
    session.__dict__["events"] = EventList(events)


def snapshot_of(session: Session[Any]) -> HeaderSnapshot:
    """The session's header as a store that has just written or read it holds it."""
    return HeaderSnapshot(
        parent_id=session.parent_id,
        child_ids=tuple(session.child_ids),
        task_ids=tuple(session.task_ids),
        runs=run_marks(session.runs),
        state=copy_json(session.state),
        properties=copy_json(session.metadata.stored_properties()),
    )
