"""Old path of the store contract (now ``storage._base``), kept for imports (see ``compat``)."""

from ._base import (
    EventPage,
    SessionStore,
    SessionStoreInterface,
    StoreState,
    check_prefix,
    page_of_events,
    refreshed,
    unknown_event,
)
from .provider import SessionStoreProvider

__all__ = [
    "EventPage",
    "SessionStore",
    "SessionStoreInterface",
    "SessionStoreProvider",
    "StoreState",
    "check_prefix",
    "page_of_events",
    "refreshed",
    "unknown_event",
]
