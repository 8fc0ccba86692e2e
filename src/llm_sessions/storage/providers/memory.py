"""Sessions kept in this process's memory."""

from __future__ import annotations

from typing import Any

from ... import telemetry
from ...exceptions import InvalidInputError
from ...models.session import Session
from ...validation import validate_id
from ..base import SessionStore, check_prefix

__all__ = ["InMemorySessionStore"]


class InMemorySessionStore(SessionStore):
    """A dict of sessions. ``get`` returns the very object that was saved, so every holder of a
    session sees every change at once and saving costs nothing per event."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session[Any]] = {}

    async def get(self, session_id: str) -> Session[Any] | None:
        validate_id(session_id)
        self._ensure_open()
        async with telemetry.store_span("get", self, session_id):
            return self._sessions.get(session_id)

    async def save(self, session: Session[Any]) -> None:
        self._ensure_open()
        if not isinstance(session, Session):
            raise InvalidInputError("session", session, "must be a Session")
        validate_id(session.id)
        async with telemetry.store_span("save", self, session.id):
            self._sessions[session.id] = session
        session._store = self

    async def delete(self, session_id: str) -> bool:
        validate_id(session_id)
        self._ensure_open()
        return self._sessions.pop(session_id, None) is not None

    async def list_sessions(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        self._ensure_open()
        return sorted(sid for sid in self._sessions if sid.startswith(prefix))

    async def clear(self) -> None:
        """Remove every session."""
        self._ensure_open()
        self._sessions.clear()

    async def count(self) -> int:
        """How many sessions are stored."""
        self._ensure_open()
        return len(self._sessions)

    async def get_by_property(self, key: str, value: Any) -> list[Session[Any]]:
        """Sessions whose metadata property ``key`` equals ``value``."""
        self._ensure_open()
        return [s for s in self._sessions.values() if s.metadata.properties.get(key) == value]

    async def get_by_state(self, key: str, value: Any) -> list[Session[Any]]:
        """Sessions whose state ``key`` equals ``value``."""
        self._ensure_open()
        return [s for s in self._sessions.values() if s.state.get(key) == value]
