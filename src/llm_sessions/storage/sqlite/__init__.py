"""The SQLite store: one file, WAL mode, a header row and an event log per session."""

from .._side_records import SIDE_RECORDS, SQLiteRecords
from .._vectors import VECTORS
from ._store import (
    SCHEMA_VERSION,
    SQLiteSessionStore,
)
from ._vectors import SQLiteVectors

__all__ = [
    "SCHEMA_VERSION",
    "SQLiteSessionStore",
]

VECTORS.declare(SQLiteSessionStore, lambda store: SQLiteVectors(store.path))
SIDE_RECORDS.declare(SQLiteSessionStore, lambda store: SQLiteRecords(store.path))
