"""What the SQLite store does with rows it cannot read: refuse them with
``CorruptSessionData`` (``expired``, ``check_row``), and ``vacuum()`` them out of the database.

What cannot be read back (a session row whose times, expiry or properties are not what the
store writes, unreadable state or runs, event rows that are not one event, empty ones included)
is appended as JSON lines to ``<database>.quarantine.jsonl`` (fsync'ed) and then deleted, in
one write transaction per session; the rest of the database is untouched. A session whose
header is unreadable goes as a whole; from a readable one only the bad event rows go.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from ...exceptions import CorruptSessionData
from .._records import unreadable_rows

__all__ = ["check_row", "drop_quarantined", "expired", "is_time", "vacuum_database"]

logger = logging.getLogger("llm_sessions.storage")

_TABLES = {"sessions": "id", "children": "session_id", "tasks": "session_id", "runs": "session_id",
           "state": "session_id", "events": "session_id"}  # fmt: skip


def expired(expires_at: object, now: float, location: str) -> bool:
    """True if an ``expires_at`` value has passed; ``CorruptSessionData`` if it is no time."""
    if expires_at is None:
        return False
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
        raise _corrupt(location, f"expires_at {expires_at!r} is not a Unix time")
    return expires_at <= now


def is_time(value: object) -> bool:
    return value is None or (not isinstance(value, bool) and isinstance(value, int | float))


def check_row(row: tuple[Any, ...], location: str) -> None:
    """Refuse to write over a session row whose own columns cannot be read back."""
    _, created_at, properties = row
    try:
        datetime.fromisoformat(created_at)
        if properties != "{}" and not isinstance(json.loads(properties), dict):
            raise ValueError("properties is not a JSON object")
    except (TypeError, ValueError) as exc:
        raise _corrupt(location, str(exc)) from exc


def _corrupt(location: str, reason: str) -> CorruptSessionData:
    logger.warning("Unreadable session header at %s: %s", location, reason)
    return CorruptSessionData(location, reason)


HeaderCheck = Callable[[str], None]
"""Reads a session's header as ``get`` would; raises ``CorruptSessionData`` if it cannot."""


def vacuum_database(
    conn: sqlite3.Connection,
    quarantine: str,
    session_class: Any,
    check_header: HeaderCheck,
    transaction: Callable[[sqlite3.Connection, str], Any],
) -> int:
    """Quarantine every unreadable row; returns how many sessions were affected."""
    affected = 0
    for (session_id,) in conn.execute("SELECT id FROM sessions").fetchall():
        try:
            check_header(session_id)
        except CorruptSessionData as exc:
            with transaction(conn, "BEGIN IMMEDIATE"):
                _move_session(conn, quarantine, session_id, exc.reason)
            affected += 1
            continue
        with transaction(conn, "BEGIN IMMEDIATE"):
            if _move_bad_events(conn, quarantine, session_id, session_class):
                # Its summary counted the events moved out: recounted before the next listing.
                conn.execute("UPDATE sessions SET stale = 1 WHERE id = ?", (session_id,))
                affected += 1
    return affected


def _move_session(conn: sqlite3.Connection, quarantine: str, session_id: str, why: str) -> None:
    records = []
    for table, column in _TABLES.items():
        cursor = conn.execute(f"SELECT * FROM {table} WHERE {column} = ?", (session_id,))
        names = [d[0] for d in cursor.description]
        records += [_record(session_id, table, dict(zip(names, row, strict=True)), why)
                    for row in cursor.fetchall()]  # fmt: skip
    _append(quarantine, records)
    conn.execute(
        "INSERT OR REPLACE INTO set_aside"
        " SELECT id, parent_id, root_id, user_id, event_count FROM sessions WHERE id = ?",
        (session_id,),
    )
    for table, column in _TABLES.items():
        conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (session_id,))
    logger.warning("Moved unreadable session %r (%s) to %s", session_id, why, quarantine)


def _move_bad_events(
    conn: sqlite3.Connection, quarantine: str, session_id: str, session_class: Any
) -> bool:
    rows = conn.execute(
        "SELECT seq, event_id, body FROM events WHERE session_id = ? ORDER BY seq", (session_id,)
    ).fetchall()
    bad = [rows[n] for n in unreadable_rows(session_class, [row[2] for row in rows])]
    if not bad:
        return False
    _append(
        quarantine,
        [_record(session_id, "events", {"seq": s, "event_id": e, "body": b}, "unreadable event")
         for s, e, b in bad],
    )  # fmt: skip
    conn.executemany("DELETE FROM events WHERE seq = ?", [(row[0],) for row in bad])
    logger.warning(
        "Moved %d unreadable event rows of session %r to %s", len(bad), session_id, quarantine
    )
    return True


def _record(session_id: str, table: str, row: dict[str, Any], why: str) -> dict[str, Any]:
    return {"session_id": session_id, "table": table, "row": row, "reason": why,
            "moved_at": time.time()}  # fmt: skip


def _append(path: str, records: list[dict[str, Any]]) -> None:
    data = "".join(json.dumps(r, default=_text) + "\n" for r in records).encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)  # the copy is safe on disk before the rows are deleted
    finally:
        os.close(fd)


def drop_quarantined(path: str, session_ids: Collection[str]) -> int:
    """Rewrite the quarantine file at ``path`` without the records of ``session_ids`` (an
    erasure's); returns how many went. Call it holding the write lock: ``vacuum`` appends under
    it."""
    try:
        with open(path, "rb") as file:
            lines = file.readlines()
    except FileNotFoundError:
        return 0
    kept = [line for line in lines if _session_of(line) not in session_ids]
    if len(kept) < len(lines):
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as file:
            file.writelines(kept)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    return len(lines) - len(kept)


def _session_of(line: bytes) -> object:
    try:
        record = json.loads(line)
    except ValueError:
        return None  # not one of ours: kept
    return record.get("session_id") if isinstance(record, dict) else None


def _text(value: object) -> str:
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else repr(value)
