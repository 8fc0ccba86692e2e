"""Where sessions are kept: the store contract, the default store and the stores themselves."""

from .base import SessionStore, SessionStoreInterface, StoreState
from .event_log import EventLogStore
from .provider import SessionStoreProvider
from .providers.memory import InMemorySessionStore
from .url import open_store, supported_schemes

__all__ = [
    "EventLogStore",
    "InMemorySessionStore",
    "SessionStore",
    "SessionStoreInterface",
    "SessionStoreProvider",
    "StoreState",
    "open_store",
    "supported_schemes",
]
