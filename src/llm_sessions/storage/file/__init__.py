"""The file store: one JSON-lines file per session, appended to and compacted."""

from ._store import (
    FileSessionStore,
    create_file_session_store,
)

__all__ = [
    "FileSessionStore",
    "create_file_session_store",
]
