"""What a store keeps on a session object: the store, its sync state and the removals to write.

A session (``models``) holds one ``StoreBinding`` and calls it through the model layer's
``StoreBinding`` protocol; only the stores read its fields.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..models._session import Session
from ._redaction import redact_event
from ._sync import HeaderSnapshot, SyncState

__all__ = ["StoreBinding", "binding_of", "bound_sync", "sync_state_for"]


@dataclass(eq=False)
class StoreBinding:
    """The store side of one session object."""

    store: Any = None
    """The store the session was last read from or written to (None: not stored yet)."""
    sync: SyncState | None = None
    """What a durable store has written of this object (None for the memory store)."""
    removals: list[tuple[list[str], datetime]] = field(default_factory=list)
    """Removals made through this object, oldest first: (event ids, when)."""
    deleted_from: object = None
    """The memory store that deleted this object: saving it there again is refused."""

    @property
    def lock(self) -> asyncio.Lock | None:
        """Held while a durable store saves this object."""
        return self.sync.lock if self.sync is not None else None

    async def prepare_event(self, event: Any) -> None:
        """Redact a new event with the store's ``redact=`` hook, if it has one."""
        redact = getattr(self.store, "redact", None)
        if redact is not None:
            await redact_event(event, redact)

    def note_edit(self, event: Any) -> None:
        """Record that ``event`` changed, for the sync state."""
        if self.sync is not None:
            self.sync.note_edit(event)

    def note_removed(self, positions: list[int], event_ids: set[str]) -> None:
        """Record that events left the session's list, for the sync state."""
        if self.sync is not None:
            self.sync.note_removed(positions, event_ids)

    def note_removal(self, event_ids: list[str], at: datetime) -> None:
        """Record a removal for the next save to write."""
        self.removals.append((event_ids, at))


def binding_of(session: Session[Any]) -> StoreBinding:
    """The session's binding, made on first use."""
    binding = session._binding
    if not isinstance(binding, StoreBinding):
        binding = StoreBinding()
        session._binding = binding
    return binding


def bound_sync(session: Session[Any], store_token: object) -> SyncState | None:
    """The session's sync state with this store, or None if it has none."""
    binding = session._binding
    sync = binding.sync if isinstance(binding, StoreBinding) else None
    return sync if sync is not None and sync.store_token is store_token else None


def sync_state_for(session: Session[Any], store_token: object) -> SyncState:
    """The session's sync state with this store; a fresh one if it was synced elsewhere.

    A session object that no store has seen is new: saving it over a stored id raises
    ``SessionAlreadyExists``, as ``Session.create`` does.
    """
    binding = binding_of(session)
    sync = binding.sync
    if sync is None or sync.store_token is not store_token:
        # A session that another store object saved or loaded may be stored here too: its
        # first save through this object merges into it, wherever it stands.
        stored = None if sync is not None and sync.stored is not False else False
        sync = SyncState(store_token, 0, HeaderSnapshot(), stored=stored)
        binding.sync = sync
    return sync
