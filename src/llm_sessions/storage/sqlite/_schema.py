"""The SQLite store's tables, triggers and upgrades, and the header upsert."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ._search import SEARCH_SCHEMA

__all__ = ["SCHEMA_VERSION", "use_wal"]

SCHEMA_VERSION = 6
"""The schema this code writes, kept in ``PRAGMA user_version``. Version 2 added
``sessions.header_tag``: triggers give it a new random value whenever a row of a header part
changes (children, tasks, runs, state, or the session's parent or properties), whichever code
writes it, so a refresh reads those tables only when they moved. Version 3 added the summary
tables (``summaries``, ``summary_models``), kept by every save; an upgraded file's sessions
start as stale rows, counted from their logs before the first listing. Version 4 added the
text index (``search_docs``, ``search_text``, see ``_search``); the upgrade indexes every
stored event. Version 5 finds the index rows waiting for FTS5 by their ids instead of a
``pending`` mark and its index (which an append wrote). Version 6 moves each summary row into
its session's row of ``sessions``: an append, which rewrites that row anyway, adds to the
counters in the same statement instead of writing a second table (about 3% of an append)."""

_SUMMARY_COLUMNS = (
    "root_id TEXT",
    "user_id TEXT",
    "event_count INTEGER NOT NULL DEFAULT 0",
    "total_tokens INTEGER NOT NULL DEFAULT 0",
    "total_cost_usd REAL NOT NULL DEFAULT 0",
    "has_errors INTEGER NOT NULL DEFAULT 0",
    "stale INTEGER NOT NULL DEFAULT 0",
    "revision INTEGER NOT NULL DEFAULT 0",
    "model TEXT",
    "model_events INTEGER NOT NULL DEFAULT 0",
    "model_tokens INTEGER NOT NULL DEFAULT 0",
    "model_cost_usd REAL NOT NULL DEFAULT 0",
    "model_priced INTEGER NOT NULL DEFAULT 1",
)
"""A session's summary, in its own row of ``sessions`` (so that an append, which rewrites that
row anyway, adds to its counters in the same statement). ``root_id`` is NULL until the first
save counts the session; ``stale``: removed or edited events (or an upgrade) left counts to redo
from the log; ``revision`` lets that recount write only if no save came in between. ``model``
and the ``model_*`` counters: the session's first model (most sessions use one; in a file
upgraded from version 5, the first by name), whose usage is added here too; each other model has
a row in ``summary_models``. ``model`` is NULL only in a session without token usage."""

_SCHEMA = [
    f"""CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        parent_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        expires_at REAL,
        properties TEXT NOT NULL DEFAULT '{{}}',
        header_tag TEXT,
        {", ".join(_SUMMARY_COLUMNS)}
    )""",
    "CREATE INDEX sessions_expiry ON sessions (expires_at) WHERE expires_at IS NOT NULL",
    """CREATE TABLE children (
        session_id TEXT NOT NULL, child_id TEXT NOT NULL, PRIMARY KEY (session_id, child_id)
    )""",
    """CREATE TABLE tasks (
        session_id TEXT NOT NULL, task_id TEXT NOT NULL, PRIMARY KEY (session_id, task_id)
    )""",
    """CREATE TABLE runs (
        session_id TEXT NOT NULL, run_id TEXT NOT NULL, json TEXT NOT NULL,
        PRIMARY KEY (session_id, run_id)
    )""",
    """CREATE TABLE state (
        session_id TEXT NOT NULL, key TEXT NOT NULL, json TEXT NOT NULL,
        PRIMARY KEY (session_id, key)
    )""",
    """CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (session_id, event_id)
    )""",
    "CREATE INDEX events_order ON events (session_id, seq)",
]
_RANDOM_TAG = "lower(hex(randomblob(8)))"
_NEW_TAG = f"UPDATE sessions SET header_tag = {_RANDOM_TAG} WHERE id = {{id}}"


def _header_tag_triggers() -> list[str]:
    """The triggers that give a session a new header tag when a header part changes."""
    triggers = [
        f"""CREATE TRIGGER header_created AFTER INSERT ON sessions
        BEGIN {_NEW_TAG.format(id="NEW.id")}; END""",
        f"""CREATE TRIGGER header_updated AFTER UPDATE OF parent_id, properties ON sessions
        WHEN OLD.parent_id IS NOT NEW.parent_id OR OLD.properties IS NOT NEW.properties
        BEGIN {_NEW_TAG.format(id="NEW.id")}; END""",
    ]
    for table in ("children", "tasks", "runs", "state"):
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            triggers.append(
                f"""CREATE TRIGGER {table}_{event.lower()} AFTER {event} ON {table}
                BEGIN {_NEW_TAG.format(id=f"{row}.session_id")}; END"""
            )
    return triggers


_SUMMARY_SCHEMA = [
    # Per model of each session but the one in its row: what ``usage(group_by=model)`` adds.
    """CREATE TABLE summary_models (
        session_id TEXT NOT NULL,
        model TEXT NOT NULL,
        events INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        priced INTEGER NOT NULL,
        PRIMARY KEY (session_id, model)
    ) WITHOUT ROWID""",
    "CREATE INDEX summary_models_model ON summary_models (model, session_id)",
    # The owners of the sessions ``vacuum`` set aside whole (their rows moved to the
    # quarantine file): an erasure by user still finds them.
    """CREATE TABLE set_aside (
        id TEXT PRIMARY KEY, parent_id TEXT, root_id TEXT, user_id TEXT, event_count INTEGER
    ) WITHOUT ROWID""",
]
_LISTING_INDEXES = [
    "CREATE INDEX sessions_updated ON sessions (updated_at, id)",
    "CREATE INDEX sessions_created ON sessions (created_at, id)",
    "CREATE INDEX sessions_cost ON sessions (total_cost_usd, id)",
    "CREATE INDEX sessions_tokens ON sessions (total_tokens, id)",
    "CREATE INDEX sessions_user ON sessions (user_id, updated_at, id)",
    "CREATE INDEX sessions_root ON sessions (root_id)",
    "CREATE INDEX sessions_stale ON sessions (id) WHERE stale = 1",
]
_VERSION_3_SUMMARIES = [
    """CREATE TABLE summaries (
        id TEXT PRIMARY KEY,
        parent_id TEXT,
        root_id TEXT NOT NULL,
        user_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        event_count INTEGER NOT NULL DEFAULT 0,
        total_tokens INTEGER NOT NULL DEFAULT 0,
        total_cost_usd REAL NOT NULL DEFAULT 0,
        has_errors INTEGER NOT NULL DEFAULT 0,
        stale INTEGER NOT NULL DEFAULT 0,
        revision INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID""",
    _SUMMARY_SCHEMA[0],
    _SUMMARY_SCHEMA[1],
    """INSERT INTO summaries (id, parent_id, root_id, created_at, updated_at, stale)
    SELECT id, parent_id, coalesce(parent_id, id), created_at, updated_at, 1 FROM sessions""",
]
"""Version 3's summary tables, as that upgrade made them (version 6 moves them into
``sessions``)."""
_SUMMARY_FIELDS = "root_id, user_id, event_count, total_tokens, total_cost_usd, has_errors, stale"
_VERSION_6 = [
    *(f"ALTER TABLE sessions ADD COLUMN {column}" for column in _SUMMARY_COLUMNS),
    f"""UPDATE sessions SET ({_SUMMARY_FIELDS}) = (SELECT {_SUMMARY_FIELDS} FROM summaries s
        WHERE s.id = sessions.id) WHERE id IN (SELECT id FROM summaries)""",
    "UPDATE sessions SET root_id = coalesce(parent_id, id), stale = 1 WHERE root_id IS NULL",
    # Each session's first model by name moves into its row.
    """UPDATE sessions SET (model, model_events, model_tokens, model_cost_usd, model_priced) =
        (SELECT model, events, tokens, cost_usd, priced FROM summary_models m
        WHERE m.session_id = sessions.id ORDER BY model LIMIT 1)
        WHERE id IN (SELECT session_id FROM summary_models)""",
    """DELETE FROM summary_models
        WHERE (session_id, model) IN (SELECT id, model FROM sessions WHERE model IS NOT NULL)""",
    _SUMMARY_SCHEMA[2],
    """INSERT INTO set_aside SELECT id, parent_id, root_id, user_id, event_count FROM summaries
    WHERE id NOT IN (SELECT id FROM sessions)""",
    "DROP TABLE summaries",
    *_LISTING_INDEXES,
]
_SCHEMA += _header_tag_triggers()
_SCHEMA += _SUMMARY_SCHEMA
_SCHEMA += _LISTING_INDEXES
_SCHEMA += SEARCH_SCHEMA
_UPGRADES = {
    2: [
        "ALTER TABLE sessions ADD COLUMN header_tag TEXT",
        f"UPDATE sessions SET header_tag = {_RANDOM_TAG}",
        *_header_tag_triggers(),
    ],
    3: _VERSION_3_SUMMARIES,
    4: SEARCH_SCHEMA,  # the store then indexes the stored events (``backfill_index``)
    5: ["DROP INDEX IF EXISTS search_docs_pending"],
    6: _VERSION_6,
}
"""The statements that bring a file from the version before each key to that version."""
_SESSION_TABLES = ("events", "children", "tasks", "runs", "state", "summary_models")
_SYNCHRONOUS = ("off", "normal", "full", "extra")

_UPSERT_SESSION = """
    INSERT INTO sessions (id, parent_id, created_at, updated_at, expires_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET
        parent_id = CASE WHEN ? THEN excluded.parent_id ELSE sessions.parent_id END,
        updated_at = max(updated_at, excluded.updated_at),
        expires_at = excluded.expires_at
"""
_UPDATE_SESSION = """
    UPDATE sessions SET
        parent_id = CASE WHEN ? THEN ? ELSE parent_id END,
        updated_at = max(updated_at, ?),
        expires_at = ?
"""
"""What ``_UPSERT_SESSION`` does to a row the save's transaction has just read, without first
trying an insert. Its ``SET`` list is left open (a save adds its summary increments to it) and
takes ``WHERE id = ?`` after them."""


def _stamp(moment: datetime) -> str:
    # A fixed-width UTC form, so that text order is time order (for max(updated_at, ?)).
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def use_wal(
    connection: sqlite3.Connection,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Put the database in WAL mode, waiting up to ``timeout`` seconds for other connections.

    Changing the journal mode needs the file to itself for a moment, and while another
    connection creates or migrates the database SQLite can answer "database is locked" at once
    instead of through its busy handler: so the change is retried, with a growing pause.
    """
    deadline = clock() + timeout
    pause = 0.005
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or clock() >= deadline:
                raise
        sleep(pause)
        pause = min(pause * 2, 0.1)
