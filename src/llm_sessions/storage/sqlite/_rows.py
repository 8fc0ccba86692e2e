"""Row-level helpers of the SQLite store: transactions, columns and the header merge."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from .._event_page import unknown_event
from .._reseal import SealedSwap, swap_into
from .._sync import HeaderChanges, WriteBatch
from ._schema import _SESSION_TABLES, _UPDATE_SESSION, _UPSERT_SESSION, _stamp
from ._search import delete_session_index
from ._summary_increments import Increments, increments
from ._write_lock import begin_immediate

_UPDATE_HEAD = _UPDATE_SESSION.rstrip() + " WHERE id = ?"
"""The update of a stored session's row when the save adds nothing to its summary there."""


class _transaction:
    """``with _transaction(conn, "BEGIN IMMEDIATE"):`` commits, or rolls back on error (a
    ``BEGIN IMMEDIATE`` waits for the write lock as ``begin_immediate`` does)."""

    def __init__(self, connection: sqlite3.Connection, begin: str) -> None:
        self.connection = connection
        self.begin = begin

    def __enter__(self) -> None:
        if self.begin == "BEGIN IMMEDIATE":
            begin_immediate(self.connection)
        else:
            self.connection.execute(self.begin)

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.connection.execute("COMMIT")
        elif self.connection.in_transaction:
            self.connection.execute("ROLLBACK")


def _column(conn: sqlite3.Connection, select: str, session_id: str) -> list[Any]:
    query = f"{select} WHERE session_id = ? ORDER BY rowid"
    return [value for (value,) in conn.execute(query, (session_id,))]


def _seq_of(conn: sqlite3.Connection, session_id: str, field: str, event_id: str) -> int:
    row = conn.execute(
        "SELECT seq FROM events WHERE session_id = ? AND event_id = ?", (session_id, event_id)
    ).fetchone()
    if row is None:
        raise unknown_event(field, event_id, session_id)
    seq: int = row[0]
    return seq


def _delete_rows(conn: sqlite3.Connection, session_id: str) -> None:
    delete_session_index(conn, session_id)
    for table in _SESSION_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
    conn.execute("DELETE FROM set_aside WHERE id = ?", (session_id,))
    conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))


def _merge_header(conn: sqlite3.Connection, session_id: str, changes: HeaderChanges) -> None:
    """Apply the merge operations of a batch's header (set union, upsert, per-key writes)."""
    if changes.unchanged():  # an append: no header part to merge
        return
    for table, column, added, removed in (
        ("children", "child_id", changes.children_added, changes.children_removed),
        ("tasks", "task_id", changes.tasks_added, changes.tasks_removed),
    ):
        _run_many(conn, f"INSERT OR IGNORE INTO {table} VALUES (?, ?)", session_id, added)
        _run_many(
            conn, f"DELETE FROM {table} WHERE session_id = ? AND {column} = ?", session_id, removed
        )
    for table, column, upserted, removed in (
        ("runs", "run_id", changes.runs_upserted, changes.runs_removed),
        ("state", "key", changes.state_set, changes.state_removed),
    ):
        _run_many(
            conn, f"DELETE FROM {table} WHERE session_id = ? AND {column} = ?", session_id, removed
        )
        if upserted:
            conn.executemany(
                f"INSERT INTO {table} VALUES (?, ?, ?)"
                f" ON CONFLICT (session_id, {column}) DO UPDATE SET json = excluded.json",
                [(session_id, key, text) for key, text in upserted.items()],
            )
    if changes.properties_set or changes.properties_removed:
        (text,) = conn.execute(
            "SELECT properties FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        properties = json.loads(text)
        for key in changes.properties_removed:
            properties.pop(key, None)
        properties.update((key, json.loads(value)) for key, value in changes.properties_set.items())
        conn.execute(
            "UPDATE sessions SET properties = ? WHERE id = ?",
            (json.dumps(properties, ensure_ascii=False), session_id),
        )


def _run_many(conn: sqlite3.Connection, sql: str, session_id: str, items: Iterable[str]) -> None:
    rows = [(session_id, item) for item in items]
    if rows:
        conn.executemany(sql, rows)


def swap_sealed(conn: sqlite3.Connection, session_id: str, swaps: list[SealedSwap]) -> None:
    """Apply header swaps of a key rotation (see ``reseal``) in the caller's transaction."""
    row = conn.execute("SELECT properties FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        return
    properties = json.loads(row[0])
    applied = [swap_into(properties, s) for s in swaps if s.place == "properties"]
    if any(applied):
        conn.execute(
            "UPDATE sessions SET properties = ? WHERE id = ?",
            (json.dumps(properties, ensure_ascii=False), session_id),
        )
    for swap in swaps:
        if swap.place == "properties":
            continue
        table, column = ("state", "key") if swap.place == "state" else ("runs", "run_id")
        where = f" WHERE session_id = ? AND {column} = ?"
        found = conn.execute(f"SELECT json FROM {table}{where}", (session_id, swap.key))
        held = found.fetchone()
        if held is not None and swap_into({swap.key: json.loads(held[0])}, swap):
            conn.execute(f"UPDATE {table} SET json = ?{where}", (swap.new, session_id, swap.key))


def write_head(
    conn: sqlite3.Connection,
    batch: WriteBatch,
    expires_at: float | None,
    stored: bool,
    counted: bool,
    row_model: str | None,
) -> Increments | None:
    """Write the session's row of a save (in its transaction).

    Args:
        conn: the connection.
        batch: the save.
        expires_at: the row's new expiry (seconds since the epoch), or None.
        stored: the save's transaction read the row (it is updated, not upserted).
        counted: the row holds a summary whose owner the save leaves as it is: the update
            adds the save's summary delta.
        row_model: the model whose counters the row keeps (``sessions.model``), or None.

    Returns:
        What the statement added of the delta (else ``keep_summary`` writes the whole
        summary), or None.
    """
    changes = batch.header
    added = None
    if stored:
        if counted and batch.summary is not None:
            added = increments(batch.summary, row_model)
        head = [changes.parent_changed, changes.parent_id, _stamp(changes.updated_at), expires_at]
        if added is None:
            conn.execute(_UPDATE_HEAD, [*head, batch.session_id])
        else:
            conn.execute(added.statement, [*head, *added.args, batch.session_id])
        return added
    conn.execute(
        _UPSERT_SESSION,
        (
            batch.session_id,
            changes.parent_id,
            _stamp(changes.created_at),
            _stamp(changes.updated_at),
            expires_at,
            changes.parent_changed,
        ),
    )
    return None
