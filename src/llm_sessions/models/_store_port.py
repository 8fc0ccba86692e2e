"""What a session needs from the store that keeps it, defined here and filled in by the stores.

The model layer knows no store: a session reaches its store through a ``StoreBinding`` that the
store puts on it when it reads or writes it (``storage._binding``), and a session that no store
has seen yet saves to the default store, whose source the storage layer registers here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from ..exceptions import InvalidSessionOperation

__all__ = ["SessionStorePort", "StoreBinding", "default_store", "set_default_store_source"]


class SessionStorePort(Protocol):
    """The two store methods a session calls: read a session (or its parent) and save one."""

    async def get(self, session_id: str) -> Any:
        """The session with this id (a ``Session``), or None."""
        ...

    async def save(self, session: Any) -> None:
        """Write what changed in ``session`` (a ``Session``)."""
        ...


class StoreBinding(Protocol):
    """What a store keeps on a session object it read or wrote: the store, and its sync state."""

    @property
    def store(self) -> SessionStorePort | None:
        """The store the session was last read from or written to."""
        ...

    @property
    def lock(self) -> asyncio.Lock | None:
        """Held while the store saves this object (None: no save can be under way)."""
        ...

    async def prepare_event(self, event: Any) -> None:
        """The store's append path for a new event, before it is counted (redaction)."""
        ...

    def note_edit(self, event: Any) -> None:
        """``event``, already in the session, was edited."""
        ...

    def note_removed(self, positions: list[int], event_ids: set[str]) -> None:
        """The events at ``positions`` of the session's list were taken out of it."""
        ...

    def note_removal(self, event_ids: list[str], at: datetime) -> None:
        """Events were removed through this object; the next save records the removal."""
        ...


_sources: list[Callable[[], SessionStorePort]] = []


def set_default_store_source(source: Callable[[], SessionStorePort]) -> None:
    """Make ``source`` the function that gives the default store (the storage layer's).

    Args:
        source: called each time a session that no store has seen needs a store.
    """
    _sources[:] = [source]


def default_store() -> SessionStorePort:
    """The default store, from the registered source.

    Returns:
        The store a session that no store has seen saves to.

    Raises:
        InvalidSessionOperation: when no source is registered (``llm_sessions.storage`` not
            imported).
    """
    if not _sources:
        raise InvalidSessionOperation(
            "use the default store", "import llm_sessions.storage, or pass a store"
        )
    return _sources[0]()
