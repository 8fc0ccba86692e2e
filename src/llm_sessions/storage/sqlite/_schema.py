"""The SQLite store's tables, triggers and upgrades, and the header upsert."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["SCHEMA_VERSION"]

SCHEMA_VERSION = 2
"""The schema this code writes, kept in ``PRAGMA user_version``. Version 2 added
``sessions.header_tag``: triggers give it a new random value whenever a row of a header part
changes (children, tasks, runs, state, or the session's parent or properties), whichever code
writes it, so a refresh reads those tables only when they moved."""

_SCHEMA = [
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        parent_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        expires_at REAL,
        properties TEXT NOT NULL DEFAULT '{}',
        header_tag TEXT
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


_SCHEMA += _header_tag_triggers()
_UPGRADES = {
    2: [
        "ALTER TABLE sessions ADD COLUMN header_tag TEXT",
        f"UPDATE sessions SET header_tag = {_RANDOM_TAG}",
        *_header_tag_triggers(),
    ],
}
"""The statements that bring a file from the version before each key to that version."""
_SESSION_TABLES = ("events", "children", "tasks", "runs", "state")
_SYNCHRONOUS = ("off", "normal", "full", "extra")

_UPSERT_SESSION = """
    INSERT INTO sessions (id, parent_id, created_at, updated_at, expires_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET
        parent_id = CASE WHEN ? THEN excluded.parent_id ELSE sessions.parent_id END,
        updated_at = max(updated_at, excluded.updated_at),
        expires_at = excluded.expires_at
"""


def _stamp(moment: datetime) -> str:
    # A fixed-width UTC form, so that text order is time order (for max(updated_at, ?)).
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
