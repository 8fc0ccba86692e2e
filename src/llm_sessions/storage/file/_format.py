"""The file store's formats: the header document, and what a store has read of an event log.

The header (``<name>.json``) is one JSON object: the session's ``id``; a ``generation``, new
each time the session is created afresh (a log read under another generation is dropped);
``created_at``, ``updated_at``, ``parent_id``, ``child_ids``, ``task_ids``, ``runs``, ``state``
and ``properties``; ``log_offset``, the length of the event log when the header was written;
and ``expires_at`` (a Unix time, or null). Once the log has grown past ``log_offset``, a reader
takes ``updated_at`` from the event on the last line when that is later, so a plain append
need not rewrite the header.

The event log (``<name>.events.jsonl``) holds one event JSON per line. ``Log`` indexes the
lines by event id: a later line with an id already seen replaces the earlier one in place.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...exceptions import CorruptSessionData
from .._records import StoredHeader, StoredSession, event_id_of
from .._sync import HeaderChanges, WriteBatch

logger = logging.getLogger("llm_sessions.storage")


def _event_time(line: str) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(line)["timestamp"])
    except (ValueError, KeyError, TypeError):
        return None


@dataclass
class Log:
    """What this store object has read of one session's event file."""

    generation: str
    inode: int = -1
    offset: int = 0
    lines: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    last_line: str | None = None
    _last_time: tuple[str, datetime | None] | None = None
    header: ReadHeader | None = None
    """The header file as this store object last read or wrote it, parsed once."""

    def last_time(self) -> datetime | None:
        """The timestamp of the event on the file's last line (parsed once)."""
        line = self.last_line
        if line is None:
            return None
        if self._last_time is None or self._last_time[0] is not line:
            self._last_time = (line, _event_time(line))
        return self._last_time[1]

    def consume(self, lines: list[str]) -> None:
        for line in lines:
            if not line:
                continue
            event_id = event_id_of(line)
            position = self.index.get(event_id) if event_id is not None else None
            if position is not None:
                self.lines[position] = line
            else:
                if event_id is not None:
                    self.index[event_id] = len(self.lines)
                self.lines.append(line)
            self.last_line = line

    def plan(self, batch: WriteBatch) -> list[str]:
        """The lines a batch adds: edits of events in the file, then events not yet in it."""
        lines = [text for event_id, text in batch.updated if event_id in self.index]
        seen: set[str] = set()
        for event_id, text in batch.appended:
            if event_id not in self.index and event_id not in seen:
                seen.add(event_id)
                lines.append(text)
        return lines

    def copy(self) -> Log:
        return Log(
            self.generation,
            self.inode,
            self.offset,
            list(self.lines),
            dict(self.index),
            self.last_line,
            header=self.header,
        )


# -- the header document -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReadHeader:
    """A header file's bytes, and the document they hold.

    The document is shared by every read of the same bytes: nothing may change it. A writer
    that changes the header works on its own copy (``private``).
    """

    raw: bytes
    doc: dict[str, Any]
    tag: str
    """Names these bytes: a refresh that holds it need not be given the header again."""

    def private(self, path: str) -> dict[str, Any]:
        """A copy of the document to change."""
        return parse_header(self.raw, path)


def read_header_file(path: str, known: ReadHeader | None = None) -> ReadHeader | None:
    """The header file at ``path`` (None if there is none), parsed only if its bytes are not
    those of ``known``; raises ``CorruptSessionData`` if it does not hold a header."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None
    if known is not None and known.raw == raw:
        return known
    return ReadHeader(raw, parse_header(raw, path), uuid.uuid4().hex)


def read_header(path: str) -> dict[str, Any] | None:
    """The header document at ``path`` (None if there is no file); raises
    ``CorruptSessionData`` if it is not one."""
    found = read_header_file(path)
    return None if found is None else found.doc


def parse_header(raw: bytes, path: str) -> dict[str, Any]:
    """The header document in ``raw`` (read from ``path``); ``CorruptSessionData`` if it is
    not one."""
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict) or not all(
            isinstance(doc.get(key), str) for key in ("id", "generation")
        ):
            raise ValueError("not a session header")
        expires = doc.get("expires_at")
        if expires is not None and (
            isinstance(expires, bool) or not isinstance(expires, int | float)
        ):
            raise ValueError(f"expires_at {expires!r} is not a Unix time")
    except ValueError as exc:
        logger.warning("Unreadable session header at %s: %s", path, exc)
        raise CorruptSessionData(str(path), str(exc)) from exc
    return doc


def new_header(session_id: str, changes: HeaderChanges) -> dict[str, Any]:
    """The header document of a session created by a batch with these header changes."""
    return {
        "id": session_id,
        "generation": uuid.uuid4().hex,
        "created_at": changes.created_at.isoformat(),
        "updated_at": changes.updated_at.isoformat(),
        "log_offset": 0,
        "parent_id": None,
        "child_ids": [],
        "task_ids": [],
        "runs": {},
        "state": {},
        "properties": {},
        "expires_at": None,
    }


def _merge_ids(target: list[str], added: list[str], removed: list[str]) -> None:
    target.extend(item for item in dict.fromkeys(added) if item not in target)
    if removed:
        gone = set(removed)
        target[:] = [item for item in target if item not in gone]


def merge_header(doc: dict[str, Any], changes: HeaderChanges) -> bool:
    """Merge a batch's header changes into ``doc``; True if anything but time changed."""
    changed = changes.parent_changed and doc["parent_id"] != changes.parent_id
    if changes.parent_changed:
        doc["parent_id"] = changes.parent_id
    _merge_ids(doc["child_ids"], changes.children_added, changes.children_removed)
    _merge_ids(doc["task_ids"], changes.tasks_added, changes.tasks_removed)
    for key, removed, upserted in (
        ("runs", changes.runs_removed, changes.runs_upserted),
        ("state", changes.state_removed, changes.state_set),
        ("properties", changes.properties_removed, changes.properties_set),
    ):
        target = doc[key]
        for name in removed:
            target.pop(name, None)
        for name, text in upserted.items():
            target[name] = json.loads(text)
        changed = changed or bool(removed or upserted)
    return changed or bool(
        changes.children_added
        or changes.children_removed
        or changes.tasks_added
        or changes.tasks_removed
    )


def updated_at(doc: dict[str, Any], log: Log) -> datetime:
    """The header's ``updated_at``, or the last event's time if events were appended since."""
    stamp = datetime.fromisoformat(doc["updated_at"])
    if log.offset > doc.get("log_offset", 0):
        last = log.last_time()
        if last is not None and last > stamp:
            return last
    return stamp


def expired(doc: dict[str, Any], now: float) -> bool:
    """True if the session's time to live ended at or before ``now`` (a Unix time)."""
    expires = doc.get("expires_at")
    return expires is not None and expires <= now


def stored(
    doc: dict[str, Any],
    log: Log,
    location: str,
    first: int = 0,
    *,
    known_tag: str | None = None,
) -> StoredSession:
    """The session as the store contract returns it, from its header document and log (the
    events from position ``first`` on). The header's tag is that of the bytes ``log`` read it
    from; when it is ``known_tag``, the header parts are left out (the reader holds them)."""
    tag = None if log.header is None else log.header.tag
    unchanged = known_tag is not None and known_tag == tag
    try:
        header = StoredHeader(
            created_at=datetime.fromisoformat(doc["created_at"]),
            updated_at=updated_at(doc, log),
            parent_id=doc["parent_id"],
        )
        if not unchanged:
            header.child_ids = list(doc["child_ids"])
            header.task_ids = list(doc["task_ids"])
            header.runs = [json.dumps(run) for run in doc["runs"].values()]
            header.state = dict(doc["state"])
            header.properties = dict(doc["properties"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        logger.warning("Unreadable session header at %s: %r", location, exc)
        raise CorruptSessionData(location, repr(exc)) from exc
    return StoredSession(header, log.lines[first:], location, tag, unchanged)


def apply_in_memory(
    session_id: str, doc: dict[str, Any] | None, log: Log, batches: list[WriteBatch]
) -> tuple[dict[str, Any], Log]:
    """Stored data as it will be once the buffered ``batches`` are written."""
    for batch in batches:
        if doc is None:
            doc = new_header(session_id, batch.header)
        current = updated_at(doc, log)
        merge_header(doc, batch.header)
        log.consume(log.plan(batch))
        doc["updated_at"] = max(current, batch.header.updated_at).isoformat()
        doc["log_offset"] = log.offset
    assert doc is not None  # there is at least one batch
    return doc, log
