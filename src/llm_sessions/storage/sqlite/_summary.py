"""The SQLite store's summary rows: kept by each save, recounted when marked stale.

Each save adds its ``SummaryDelta`` to the session's ``summaries`` row and its
``summary_models`` rows inside the save's transaction: as increments in one ``UPDATE`` that
sets only the columns the delta changes (SQLite moves an index entry only when the ``UPDATE``
sets one of the index's columns), and one upsert per model. A save that creates the row or may
change its owner (parent, ``user_id``, root) reads and writes the whole row instead. A save
that removes or edits events, or that finds some of its events already stored (a retry),
cannot add a delta: it marks the row ``stale``, and the store recounts it from a full load
before it next answers a listing.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ...models._session_metadata import RESERVED_PROPERTIES
from .._summaries import ModelCount, SessionSummary
from .._summary_delta import SummaryDelta, Totals, add_delta
from ._summary_increments import add_in_place

__all__ = ["keep_summary", "stale_rows", "write_recount"]

_ROOT_KEY = RESERVED_PROPERTIES["root_id"]
_USER_KEY = RESERVED_PROPERTIES["user_id"]

_UPSERT = """
    INSERT INTO summaries (id, parent_id, root_id, user_id, created_at, updated_at,
        event_count, total_tokens, total_cost_usd, has_errors, stale, revision)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
    ON CONFLICT (id) DO UPDATE SET
        parent_id = excluded.parent_id, root_id = excluded.root_id, user_id = excluded.user_id,
        created_at = excluded.created_at, updated_at = excluded.updated_at,
        event_count = excluded.event_count, total_tokens = excluded.total_tokens,
        total_cost_usd = excluded.total_cost_usd, has_errors = excluded.has_errors,
        stale = excluded.stale, revision = summaries.revision + 1
"""
_HEAD_AND_SUMMARY = (
    "SELECT x.parent_id, x.created_at, x.updated_at, s.event_count, s.total_tokens,"
    " s.total_cost_usd, s.has_errors, s.stale, s.user_id, s.root_id"
    " FROM sessions x LEFT JOIN summaries s ON s.id = x.id WHERE x.id = ?"
)
_UPSERT_MODEL = """
    INSERT INTO summary_models VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (session_id, model) DO UPDATE SET events = excluded.events,
        tokens = excluded.tokens, cost_usd = excluded.cost_usd, priced = excluded.priced
"""


def _root_of(conn: sqlite3.Connection, session_id: str, parent_id: str | None, root: Any) -> str:
    """The root a session's row names: the one it was created with, else its parent's."""
    if isinstance(root, str):
        return root
    if parent_id is None:
        return session_id
    row = conn.execute("SELECT root_id FROM summaries WHERE id = ?", (parent_id,)).fetchone()
    return parent_id if row is None else str(row[0])


def _owner(conn: sqlite3.Connection, session_id: str, parent_id: str | None) -> tuple[Any, str]:
    """The session's ``user_id`` and root, read from its stored properties."""
    (text,) = conn.execute("SELECT properties FROM sessions WHERE id = ?", (session_id,)).fetchone()
    try:
        properties = json.loads(text)
    except ValueError:
        properties = {}
    if not isinstance(properties, dict):
        properties = {}
    user = properties.get(_USER_KEY)
    root = _root_of(conn, session_id, parent_id, properties.get(_ROOT_KEY))
    return (user if isinstance(user, str) else None), root


def keep_summary(
    conn: sqlite3.Connection,
    session_id: str,
    delta: SummaryDelta,
    owner_changed: bool,
    complete: bool,
) -> None:
    """Add ``delta`` to the session's summary rows (in the caller's transaction, after the
    session's row and events are written).

    Args:
        conn: the connection, in the save's transaction.
        session_id: the session saved.
        delta: what the save appended.
        owner_changed: the save may have changed the parent or the reserved properties.
        complete: every appended event was new (none was stored already).
    """
    stale = delta.recount or not complete
    if not owner_changed and add_in_place(conn, session_id, delta, stale):
        return
    # One statement for the session's row and its summary row (event_count is never NULL
    # in a summary row: NULL here means there is none yet).
    parent_id, created_at, updated_at, *found = conn.execute(
        _HEAD_AND_SUMMARY, (session_id,)
    ).fetchone()
    row = None if found[0] is None else found
    if row is None or owner_changed:
        user_id, root_id = _owner(conn, session_id, parent_id)
    else:
        user_id, root_id = row[5], row[6]
    totals = Totals() if row is None else Totals(row[0], row[1], row[2], bool(row[3]))
    models = _model_rows(conn, session_id, {model for model, _, _ in delta.usages})
    add_delta(totals, models, delta)
    stale = stale or (row is not None and bool(row[4]))
    conn.execute(
        _UPSERT,
        (
            session_id,
            parent_id,
            root_id,
            user_id,
            created_at,
            updated_at,
            totals.events,
            totals.tokens,
            totals.cost_usd,
            int(totals.has_errors),
            int(stale),
        ),
    )
    _write_models(conn, session_id, models)


def _model_rows(
    conn: sqlite3.Connection, session_id: str, names: set[str]
) -> dict[str, ModelCount]:
    if not names:
        return {}
    marks = ",".join("?" * len(names))
    found = conn.execute(
        "SELECT model, events, tokens, cost_usd, priced FROM summary_models"
        f" WHERE session_id = ? AND model IN ({marks})",
        (session_id, *sorted(names)),
    )
    return {
        name: ModelCount(events, tokens, cost, bool(priced))
        for name, events, tokens, cost, priced in found
    }


def _write_models(conn: sqlite3.Connection, session_id: str, models: dict[str, ModelCount]) -> None:
    if models:
        conn.executemany(
            _UPSERT_MODEL,
            [
                (session_id, name, m.events, m.tokens, m.cost_usd, int(m.priced))
                for name, m in models.items()
            ],
        )


def stale_rows(conn: sqlite3.Connection, limit: int, now: float) -> list[tuple[str, int]]:
    """Up to ``limit`` stale rows of live sessions: (session id, revision)."""
    found = conn.execute(
        "SELECT s.id, s.revision FROM summaries s JOIN sessions x ON x.id = s.id"
        " WHERE s.stale = 1 AND (x.expires_at IS NULL OR x.expires_at > ?)"
        " ORDER BY s.id LIMIT ?",
        (now, limit),
    )
    return [(session_id, revision) for session_id, revision in found]


def write_recount(
    conn: sqlite3.Connection, revision: int, summary: SessionSummary, root: str | None
) -> bool:
    """Replace a stale row with ``summary`` (counted from a full load) if no save changed the
    row since it was read at ``revision``; True if written.

    Args:
        conn: the connection, in a write transaction.
        revision: the row's revision when it was found stale.
        summary: the session's summary; its ``root_id`` is replaced by ``root`` if given.
        root: the root the session was created with, or None to take its parent's.
    """
    row = conn.execute("SELECT revision FROM summaries WHERE id = ?", (summary.id,)).fetchone()
    if row is None or row[0] != revision:
        return False
    root_id = _root_of(conn, summary.id, summary.parent_id, root)
    conn.execute(
        "UPDATE summaries SET parent_id = ?, root_id = ?, user_id = ?, event_count = ?,"
        " total_tokens = ?, total_cost_usd = ?, has_errors = ?, stale = 0,"
        " revision = revision + 1 WHERE id = ?",
        (
            summary.parent_id,
            root_id,
            summary.user_id,
            summary.event_count,
            summary.total_tokens,
            summary.total_cost_usd,
            int(summary.has_errors),
            summary.id,
        ),
    )
    conn.execute("DELETE FROM summary_models WHERE session_id = ?", (summary.id,))
    models = {
        name: ModelCount(m.events, m.tokens, m.cost_usd, m.priced)
        for name, m in summary.model_usage.items()
    }
    _write_models(conn, summary.id, models)
    return True
