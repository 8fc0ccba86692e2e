"""Where sessions are kept: the store contract, the default store and the stores themselves."""

from ._base import SessionStore, SessionStoreInterface, StoreState, refreshed
from ._event_log import EventLogStore
from ._provider import SessionStoreProvider
from ._url import open_store, supported_schemes
from .file import FileSessionStore, create_file_session_store
from .memory import InMemorySessionStore
from .postgres import PostgresSessionStore
from .redis import RedisSessionStore, create_redis_session_store
from .sqlite import SQLiteSessionStore

__all__ = [
    "EventLogStore",
    "FileSessionStore",
    "InMemorySessionStore",
    "PostgresSessionStore",
    "RedisSessionStore",
    "SQLiteSessionStore",
    "SessionStore",
    "SessionStoreInterface",
    "SessionStoreProvider",
    "StoreState",
    "create_file_session_store",
    "create_redis_session_store",
    "open_store",
    "refreshed",
    "supported_schemes",
]
