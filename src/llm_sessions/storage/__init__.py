"""Where sessions are kept: the store contract, the default store and the stores themselves."""

from ._fleet_query import SessionPage, UsageRow
from ._summaries import ModelTotals, SessionSummary
from .base import SessionStore, SessionStoreInterface, StoreState
from .event_log import EventLogStore
from .provider import SessionStoreProvider
from .providers.file import FileSessionStore, create_file_session_store
from .providers.memory import InMemorySessionStore
from .providers.postgres import PostgresSessionStore
from .providers.redis import RedisSessionStore, create_redis_session_store
from .providers.sqlite import SQLiteSessionStore
from .url import open_store, supported_schemes

__all__ = [
    "EventLogStore",
    "FileSessionStore",
    "InMemorySessionStore",
    "ModelTotals",
    "PostgresSessionStore",
    "RedisSessionStore",
    "SQLiteSessionStore",
    "SessionPage",
    "SessionStore",
    "SessionStoreInterface",
    "SessionStoreProvider",
    "SessionSummary",
    "StoreState",
    "UsageRow",
    "create_file_session_store",
    "create_redis_session_store",
    "open_store",
    "supported_schemes",
]
