"""The shared machinery of the durable stores: header plus append-only event log."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from ..exceptions import InvalidInputError
from ..models.session import Session
from ..validation import validate_id, validate_seconds
from .base import SessionStore
from .records import StoredSession, build_session
from .sync import WriteBatch, sync_state_for

__all__ = ["EventLogStore"]


class EventLogStore(SessionStore):
    """A store that keeps a session as a small header plus an append-only event log.

    Subclasses implement ``_read`` (header and events in log order) and ``_write`` (apply one
    ``WriteBatch`` atomically: merge the header changes, append the events whose ids are new,
    rewrite edited events, refresh the expiry). Saving costs the same at the 10th and the
    10,000th event, and concurrent writers to one session all land.
    """

    def __init__(
        self,
        *,
        session_class: type[Session[Any]] = Session,
        expiration_seconds: float | None = None,
    ) -> None:
        self.session_class = session_class
        self.expiration_seconds = validate_seconds(expiration_seconds, "expiration_seconds")

    async def get(self, session_id: str) -> Session[Any] | None:
        validate_id(session_id)
        self._ensure_open()
        stored = await self._read(session_id)
        if stored is None:
            return None
        session = build_session(self.session_class, session_id, stored, self)
        session._store = self
        return session

    async def save(self, session: Session[Any]) -> None:
        self._ensure_open()
        if not isinstance(session, Session):
            raise InvalidInputError("session", session, "must be a Session")
        validate_id(session.id)  # also for sessions built without validation (model_construct)
        sync = sync_state_for(session, self)
        async with sync.lock:
            batch = sync.prepare(session)
            await self._write(batch)
            sync.commit(batch, session)
        session._store = self

    @abstractmethod
    async def _read(self, session_id: str) -> StoredSession | None:
        """The stored header and events, or None if absent or expired."""

    @abstractmethod
    async def _write(self, batch: WriteBatch) -> None:
        """Apply one batch atomically (see the class docstring)."""
