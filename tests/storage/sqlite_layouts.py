"""Older layouts of a SQLite store's file, made from a current one, for the upgrade tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from llm_sessions.storage.sqlite._schema import _LISTING_INDEXES, _SUMMARY_COLUMNS

_VERSION_5_SUMMARIES = [
    """CREATE TABLE summaries (
        id TEXT PRIMARY KEY, parent_id TEXT, root_id TEXT NOT NULL, user_id TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        event_count INTEGER NOT NULL DEFAULT 0, total_tokens INTEGER NOT NULL DEFAULT 0,
        total_cost_usd REAL NOT NULL DEFAULT 0, has_errors INTEGER NOT NULL DEFAULT 0,
        stale INTEGER NOT NULL DEFAULT 0, revision INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID""",
    "CREATE INDEX summaries_updated ON summaries (updated_at, id)",
    "CREATE INDEX summaries_created ON summaries (created_at, id)",
    "CREATE INDEX summaries_cost ON summaries (total_cost_usd, id)",
    "CREATE INDEX summaries_tokens ON summaries (total_tokens, id)",
    "CREATE INDEX summaries_user ON summaries (user_id, updated_at, id)",
    "CREATE INDEX summaries_root ON summaries (root_id)",
    "CREATE INDEX summaries_stale ON summaries (id) WHERE stale = 1",
]


def back_to_version_5(path: Path) -> None:
    """Give the file at ``path`` (closed) the layout of schema version 5: its summaries in a
    table of their own (those of sessions set aside whole without a session row), and every
    model of a session in ``summary_models``."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        for statement in _LISTING_INDEXES:
            connection.execute(f"DROP INDEX {statement.split()[2]}")
        for statement in _VERSION_5_SUMMARIES:
            connection.execute(statement)
        connection.execute(
            "INSERT INTO summaries SELECT id, parent_id, root_id, user_id, created_at,"
            " updated_at, event_count, total_tokens, total_cost_usd, has_errors, stale,"
            " revision FROM sessions WHERE root_id IS NOT NULL"
        )
        connection.execute(
            "INSERT INTO summaries (id, parent_id, root_id, user_id, created_at, updated_at,"
            " event_count) SELECT id, parent_id, root_id, user_id, '2026-01-01T00:00:00+00:00',"
            " '2026-01-01T00:00:00+00:00', event_count FROM set_aside"
        )
        connection.execute(
            "INSERT INTO summary_models SELECT id, model, model_events, model_tokens,"
            " model_cost_usd, model_priced FROM sessions WHERE model IS NOT NULL"
        )
        connection.execute("DROP TABLE set_aside")
        for column in _SUMMARY_COLUMNS:
            connection.execute(f"ALTER TABLE sessions DROP COLUMN {column.split()[0]}")
        connection.execute("COMMIT")
        connection.execute("PRAGMA user_version = 5")
    finally:
        connection.close()
