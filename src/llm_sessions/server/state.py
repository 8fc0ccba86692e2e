"""What one app holds: the store (opened on first use), the keys, the limits and the metrics.

Nothing here is per-request state: several processes over one store serve the same sessions.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

from fastapi import Request

from ..storage import SessionStore, open_store
from .auth import ApiKeys
from .idempotency import Idempotency
from .inspector.logins import Logins, SessionTokens
from .metrics import Metrics
from .retention_task import RetentionSchedule
from .tail_limits import TailLimits, TailSlots
from .tail_wakeups import TailWakeups

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TAIL_IDLE_POLL_SECONDS",
    "DEFAULT_TAIL_POLL_SECONDS",
    "ServerState",
    "server_state",
]

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
"""Largest request body accepted by default (bytes); larger ones get 413."""


DEFAULT_TAIL_POLL_SECONDS = 0.25
"""How often a live tail reads the store for new events while they come."""
DEFAULT_TAIL_IDLE_POLL_SECONDS = 2.0
"""How often, at the least, an idle tail reads the store (the wait doubles from
``DEFAULT_TAIL_POLL_SECONDS`` up to this while no event comes; a write through this process
wakes it at once)."""


@dataclass
class ServerState:
    """The app's configuration and its store."""

    store_source: SessionStore | str
    keys: ApiKeys = field(default_factory=ApiKeys)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    metrics: Metrics = field(default_factory=Metrics)
    tail_poll_seconds: float = DEFAULT_TAIL_POLL_SECONDS
    tail_idle_poll_seconds: float = DEFAULT_TAIL_IDLE_POLL_SECONDS
    wakeups: TailWakeups = field(default_factory=TailWakeups)
    idempotency: Idempotency = field(default_factory=Idempotency)
    logins: Logins = field(default_factory=lambda: Logins(SessionTokens(secrets.token_bytes(32))))
    tail_limits: TailLimits = field(default_factory=TailLimits)
    metrics_key: str | None = None
    metrics_public: bool = False
    retention: RetentionSchedule | None = None
    tails: TailSlots = field(init=False)
    _store: SessionStore | None = None
    _opening: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.tails = TailSlots(self.tail_limits, self.metrics)

    @property
    def owns_store(self) -> bool:
        """True when the app opened the store from a URL (and so closes it)."""
        return isinstance(self.store_source, str)

    async def store(self) -> SessionStore:
        """The store, opened from its URL the first time it is needed."""
        if isinstance(self.store_source, SessionStore):
            return self.store_source
        async with self._opening:
            if self._store is None:
                self._store = open_store(self.store_source)
            return self._store

    async def close(self) -> None:
        """Close the store if the app opened it (and what the idempotency keys hold)."""
        await self.idempotency.close()
        if self.owns_store and self._store is not None:
            await self._store.close()
            self._store = None


async def server_state(request: Request) -> ServerState:
    """The ``ServerState`` of the app serving ``request``."""
    # async so that FastAPI calls it on the event loop: a plain function dependency is run in
    # the thread pool, a thread hand-off on every request.
    state: ServerState = request.app.state.llm_sessions
    return state
