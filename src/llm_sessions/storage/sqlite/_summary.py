"""The SQLite store's summary columns: kept by each save, recounted when marked stale.

A session's summary lives in its own row of ``sessions``, with the counters of its first model.
A save adds its ``SummaryDelta`` in the statement that writes that row
(``_summary_increments.increments``: only the columns the delta changes, so SQLite moves only
those index entries), and the usage of any other model to its ``summary_models`` rows with one
upsert per model. A save that counts the session for the first time or may change its
owner (parent, ``user_id``, root) reads and writes the whole summary instead. A save that
removes or edits events, or that finds some of its events already stored (a retry), cannot add
a delta: it marks the row ``stale``, and the store recounts it from a full load before it next
answers a listing.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ...models._session_metadata import RESERVED_PROPERTIES
from .._summaries import ModelCount, SessionSummary
from .._summary_delta import SummaryDelta, Totals, add_delta
from ._summary_increments import Increments, add_models

__all__ = ["keep_summary", "stale_rows", "write_recount"]

_ROOT_KEY = RESERVED_PROPERTIES["root_id"]
_USER_KEY = RESERVED_PROPERTIES["user_id"]

_WRITE_SUMMARY = """
    UPDATE sessions SET root_id = ?, user_id = ?, event_count = ?, total_tokens = ?,
        total_cost_usd = ?, has_errors = ?, stale = ?, model = ?, model_events = ?,
        model_tokens = ?, model_cost_usd = ?, model_priced = ?, revision = revision + 1
    WHERE id = ?
"""
_HEAD_AND_SUMMARY = (
    "SELECT parent_id, event_count, total_tokens, total_cost_usd, has_errors, stale, user_id,"
    " root_id, model, model_events, model_tokens, model_cost_usd, model_priced"
    " FROM sessions WHERE id = ?"
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
    row = conn.execute("SELECT root_id FROM sessions WHERE id = ?", (parent_id,)).fetchone()
    return parent_id if row is None or row[0] is None else str(row[0])


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
    added: Increments | None,
    owner_changed: bool,
    complete: bool,
) -> None:
    """Finish adding ``delta`` to the session's summary (in the caller's transaction, after
    the session's row and events are written).

    Args:
        conn: the connection, in the save's transaction.
        session_id: the session saved.
        delta: what the save appended.
        added: what the statement that wrote the session's row added of ``delta``
            (``increments``; what is left is its other models), or None.
        owner_changed: the save may have changed the parent or the reserved properties.
        complete: every appended event was new (none was stored already).
    """
    if added is not None:
        if not complete:
            conn.execute("UPDATE sessions SET stale = 1 WHERE id = ?", (session_id,))
        add_models(conn, session_id, delta, added.row_model)
        return
    parent_id, *found = conn.execute(_HEAD_AND_SUMMARY, (session_id,)).fetchone()
    counted = found[6] is not None  # a root is set from the first count on
    if not counted or owner_changed:
        user_id, root_id = _owner(conn, session_id, parent_id)
    else:
        user_id, root_id = found[5], found[6]
    totals = Totals(found[0], found[1], found[2], bool(found[3])) if counted else Totals()
    row_model = found[7]
    models = _model_rows(conn, session_id, {model for model, _, _ in delta.usages} - {row_model})
    if row_model is not None:
        models[row_model] = ModelCount(found[8], found[9], found[10], bool(found[11]))
    elif delta.usages and delta.usages[0][0] not in models:
        row_model = delta.usages[0][0]  # the session's first model: counted in its row
    add_delta(totals, models, delta)
    mine = models.pop(row_model) if row_model is not None else ModelCount()
    stale = delta.recount or not complete or (counted and bool(found[4]))
    conn.execute(
        _WRITE_SUMMARY,
        (
            root_id,
            user_id,
            totals.events,
            totals.tokens,
            totals.cost_usd,
            int(totals.has_errors),
            int(stale),
            row_model,
            mine.events,
            mine.tokens,
            mine.cost_usd,
            int(mine.priced),
            session_id,
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
        "SELECT id, revision FROM sessions WHERE stale = 1"
        " AND (expires_at IS NULL OR expires_at > ?) ORDER BY id LIMIT ?",
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
    row = conn.execute(
        "SELECT revision, model FROM sessions WHERE id = ?", (summary.id,)
    ).fetchone()
    if row is None or row[0] != revision:
        return False
    root_id = _root_of(conn, summary.id, summary.parent_id, root)
    models = {
        name: ModelCount(m.events, m.tokens, m.cost_usd, m.priced)
        for name, m in summary.model_usage.items()
    }
    row_model = row[1] if row[1] in models else min(models, default=None)
    mine = models.pop(row_model) if row_model is not None else ModelCount()
    conn.execute(
        _WRITE_SUMMARY,
        (
            root_id,
            summary.user_id,
            summary.event_count,
            summary.total_tokens,
            summary.total_cost_usd,
            int(summary.has_errors),
            0,
            row_model,
            mine.events,
            mine.tokens,
            mine.cost_usd,
            int(mine.priced),
            summary.id,
        ),
    )
    conn.execute("DELETE FROM summary_models WHERE session_id = ?", (summary.id,))
    _write_models(conn, summary.id, models)
    return True
