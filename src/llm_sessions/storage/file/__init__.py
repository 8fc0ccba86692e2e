"""The file store: one JSON-lines file per session, appended to and compacted."""

from .._side_records import SIDE_RECORDS, FileRecords
from .._vectors import VECTORS
from ._store import (
    FileSessionStore,
    create_file_session_store,
)
from ._vectors import FileVectors

__all__ = [
    "FileSessionStore",
    "create_file_session_store",
]

VECTORS.declare(FileSessionStore, lambda store: FileVectors(store.directory))
SIDE_RECORDS.declare(FileSessionStore, lambda store: FileRecords(store.directory))
