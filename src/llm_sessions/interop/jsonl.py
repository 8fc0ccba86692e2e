"""The ``jsonl`` format: sessions as JSON Lines that read back exactly.

Each session is a header line followed by one line per event, in log order::

    {"record": "session", "version": 1, "id": ..., "parent_id": ..., "child_ids": [...],
     "task_ids": [...], "metadata": {...}, "state": {...}, "runs": [...],
     "token_summary": {...}, "event_count": 2}
    {"record": "event", "session_id": ..., "id": ..., "message": ..., "timestamp": ..., ...}
    {"record": "event", "session_id": ..., ...}

Several sessions (the segments of one conversation) follow one another in one file. After
them, one line per blob their events name (attachments' bytes, see ``_blob_lines``)::

    {"record": "blob", "ref": "sha256:<hex>", "size": 1234, "data": "<base64>"}
 Ids and
timestamps are kept, so ``load(dump(sessions))`` equals ``sessions``. ``token_summary`` is
written for readers of the file; on load it is derived again from the events.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..exceptions import InvalidFileError, InvalidInputError
from ..models import Session, SessionEvent
from ..validation import validate_id
from ._blob_lines import BLOB_RECORD, blob_lines, check_named, read_blob

__all__ = ["VERSION", "dump", "dump_session", "load", "parse_with_blobs"]

VERSION = 1
"""The version this module writes and the only one it reads."""

_SESSION = "session"
_EVENT = "event"


def dump_session(session: Session[Any]) -> str:
    """One session as JSON Lines: its header line, then its events."""
    header = session.model_dump(mode="json", exclude={"events"})
    header = {
        "record": _SESSION,
        "version": VERSION,
        **header,
        "event_count": len(session.events),
    }
    lines = [_line(header)]
    for event in session.events:
        record = {"record": _EVENT, "session_id": session.id, **event.model_dump(mode="json")}
        lines.append(_line(record))
    return "".join(lines)


async def dump(sessions: Sequence[Session[Any]]) -> str:
    """Sessions as JSON Lines, one after another, then the blobs their events name."""
    return "".join(dump_session(session) for session in sessions) + await blob_lines(sessions)


async def load(text: str) -> list[Session[Any]]:
    """The sessions of a JSON Lines text; ``InvalidFileError`` names the first bad line."""
    return parse(text)


def parse(text: str) -> list[Session[Any]]:
    """The synchronous form of ``load``."""
    return parse_with_blobs(text)[0]


def parse_with_blobs(text: str) -> tuple[list[Session[Any]], dict[str, bytes]]:
    """The sessions of a JSON Lines text and the blobs it holds (by reference), each named
    blob checked to be there.

    Raises:
        InvalidFileError: The first bad line, or a named blob the file does not hold.
    """
    reader = _Reader()
    # Only "\n" ends a line: JSON text may hold other characters str.splitlines() splits on.
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            reader.read(number, line)
    sessions = reader.finish()
    check_named(sessions, reader.blobs, reader.last_line)
    return sessions, reader.blobs


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass
class _Pending:
    """A session whose header was read and whose events are being collected."""

    line: int
    header: dict[str, Any]
    expected: int
    events: list[SessionEvent[Any]] = field(default_factory=list)
    event_ids: set[str] = field(default_factory=set)


class _Reader:
    """Reads a JSON Lines text line by line, checking its structure as it goes."""

    def __init__(self) -> None:
        self.sessions: list[Session[Any]] = []
        self.session_ids: set[str] = set()
        self.pending: _Pending | None = None
        self.last_line = 0
        self.blobs: dict[str, bytes] = {}

    def read(self, number: int, line: str) -> None:
        self.last_line = number
        record = _decode(number, line)
        kind = record.pop("record", None)
        if kind == _SESSION:
            self._close_pending()
            self._start(number, record)
        elif kind == _EVENT:
            self._add_event(number, record)
        elif kind == BLOB_RECORD:
            self._close_pending()
            ref, data = read_blob(number, record)
            self.blobs[ref] = data
        else:
            raise InvalidFileError(number, f'"record" is {kind!r}; expected "session" or "event"')

    def finish(self) -> list[Session[Any]]:
        if self.pending is None and not self.sessions:
            raise InvalidFileError(max(self.last_line, 1), "the file holds no session")
        self._close_pending()
        return self.sessions

    def _start(self, number: int, record: dict[str, Any]) -> None:
        if "version" not in record:
            raise InvalidFileError(
                number,
                f'the session header has no "version" (this reader reads "version": {VERSION}, '
                "as llm-sessions export writes it)",
            )
        version = record.pop("version")
        if version != VERSION:
            raise InvalidFileError(
                number, f"version {version!r} is not supported (this reader reads {VERSION})"
            )
        session_id = record.get("id")
        try:
            session_id = validate_id(session_id, "id")
        except InvalidInputError as exc:
            raise InvalidFileError(number, str(exc)) from exc
        if session_id in self.session_ids:
            raise InvalidFileError(number, f"session {session_id!r} appears twice")
        expected = record.pop("event_count", None)
        if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
            raise InvalidFileError(number, f"event_count {expected!r} is not a count")
        record.pop("token_summary", None)
        self.pending = _Pending(number, record, expected)
        self.session_ids.add(session_id)

    def _add_event(self, number: int, record: dict[str, Any]) -> None:
        pending = self.pending
        if pending is None:
            raise InvalidFileError(number, "an event before any session header")
        owner = record.pop("session_id", None)
        if owner != pending.header.get("id"):
            raise InvalidFileError(
                number,
                f"event of session {owner!r} inside session {pending.header.get('id')!r}",
            )
        if len(pending.events) == pending.expected:
            raise InvalidFileError(
                number, f"more events than the header's event_count {pending.expected}"
            )
        try:
            event: SessionEvent[Any] = SessionEvent.model_validate(record)
        except (ValidationError, ValueError) as exc:
            raise InvalidFileError(number, f"not a valid event: {_first_line(exc)}") from exc
        if event.id in pending.event_ids:
            raise InvalidFileError(number, f"event {event.id!r} appears twice")
        pending.event_ids.add(event.id)
        pending.events.append(event)

    def _close_pending(self) -> None:
        pending = self.pending
        if pending is None:
            return
        if len(pending.events) != pending.expected:
            raise InvalidFileError(
                self.last_line,
                f"session {pending.header.get('id')!r} (line {pending.line}) declares "
                f"{pending.expected} events but has {len(pending.events)}: the file is truncated",
            )
        try:
            session: Session[Any] = Session.model_validate(
                {**pending.header, "events": pending.events}
            )
        except (ValidationError, ValueError) as exc:
            raise InvalidFileError(
                pending.line, f"not a valid session header: {_first_line(exc)}"
            ) from exc
        self.sessions.append(session)
        self.pending = None


def _decode(number: int, line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise InvalidFileError(number, f"not JSON ({exc}); the file may be truncated") from exc
    if not isinstance(record, dict):
        raise InvalidFileError(number, f"a JSON {type(record).__name__}, expected an object")
    return record


def _first_line(exc: Exception) -> str:
    lines = str(exc).splitlines()
    return " ".join(lines[:3]) if lines else type(exc).__name__
