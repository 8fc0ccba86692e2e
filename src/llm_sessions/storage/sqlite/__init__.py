"""The SQLite store: one file, WAL mode, a header row and an event log per session."""

from ._store import (
    SCHEMA_VERSION,
    SQLiteSessionStore,
)

__all__ = [
    "SCHEMA_VERSION",
    "SQLiteSessionStore",
]
