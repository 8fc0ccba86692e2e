"""The process-wide default store."""

from __future__ import annotations

import os
import threading
from typing import ClassVar

from ..models._store_port import set_default_store_source
from ._base import SessionStoreInterface

__all__ = ["STORE_ENV_VAR", "SessionStoreProvider"]

STORE_ENV_VAR = "LLM_SESSIONS_STORE"


class SessionStoreProvider:
    """Holds the store that sessions use when none is given.

    The setting is process-wide (not per task or thread), so a store set in a web app's startup
    hook is the one every request sees. Until one is set, the first ``get_store()`` opens the
    store named by ``LLM_SESSIONS_STORE`` (a URL, see ``open_store``), or an in-memory store.
    """

    _store: ClassVar[SessionStoreInterface | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def get_store(cls) -> SessionStoreInterface:
        """The default store, created on first use."""
        store = cls._store
        if store is None:
            with cls._lock:
                if cls._store is None:
                    cls._store = _store_from_environment()
                store = cls._store
        return store

    @classmethod
    def set_store(cls, store: SessionStoreInterface) -> None:
        """Make ``store`` the default store of this process."""
        if not isinstance(store, SessionStoreInterface):
            from ..exceptions import InvalidInputError

            raise InvalidInputError(
                "store", store, "must have async get, save, delete and list_sessions"
            )
        cls._store = store

    @classmethod
    def reset(cls) -> None:
        """Forget the default store (the next ``get_store()`` creates a new one)."""
        cls._store = None


def _store_from_environment() -> SessionStoreInterface:
    from ._url import open_store

    return open_store(os.environ.get(STORE_ENV_VAR) or "memory://")


# Sessions that no store has seen save to the default store; the model layer asks for it here.
set_default_store_source(SessionStoreProvider.get_store)
