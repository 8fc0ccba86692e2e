"""Sessions kept in this process's memory."""

from __future__ import annotations

from typing import Any

from .. import telemetry
from ..exceptions import InvalidInputError, SessionAlreadyExists, SessionNotFound
from ..models._session import Session
from ..validation import validate_id
from ._base import SessionStore
from ._binding import binding_of
from ._options import DEFAULT_MAX_SCAN_EVENTS
from ._prefix import check_prefix
from ._redaction import Redactor, check_redactor, redact_events
from ._side_records import SIDE_RECORDS, MemoryRecords
from ._summaries import SessionSummary, SummaryScan, default_root
from ._vectors import VECTORS, MemoryVectors

__all__ = ["InMemorySessionStore"]


class InMemorySessionStore(SessionStore):
    """A dict of sessions. ``get`` returns the very object that was saved, so every holder of a
    session sees every change at once and saving costs nothing per event.

    ``redact`` (see ``storage.redaction``) redacts each event's message when it is first saved.
    ``search`` reads the sessions in scope; one without ``where`` reads at most
    ``max_scan_events`` events.
    Each save updates the session's summary, counting only the events added since the last
    one, so ``find_sessions`` and ``usage`` read summaries, never events.
    """

    def __init__(
        self, *, redact: Redactor | None = None, max_scan_events: int = DEFAULT_MAX_SCAN_EVENTS
    ) -> None:
        if isinstance(max_scan_events, bool) or not isinstance(max_scan_events, int):
            raise InvalidInputError(
                "max_scan_events", max_scan_events, "must be a whole number > 0"
            )
        if max_scan_events <= 0:
            raise InvalidInputError(
                "max_scan_events", max_scan_events, "must be a whole number > 0"
            )
        self.max_scan_events = max_scan_events
        self._sessions: dict[str, Session[Any]] = {}
        self.redact = check_redactor(redact)
        self._redacted_up_to: dict[str, int] = {}
        self._summaries: dict[str, SessionSummary] = {}
        self._scans: dict[str, SummaryScan] = {}
        self._roots: dict[str, str] = {}
        self._stale: set[str] = set()
        """Sessions saved since their summary was last built."""

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
        held = self._sessions.get(session.id)
        if held is None and binding_of(session).deleted_from is self:
            raise SessionNotFound(session.id)  # deleted through this store: stays deleted
        if held is not None and held is not session:
            raise SessionAlreadyExists(session.id)  # a new object over a stored session
        if self.redact is not None:
            await self._redact_new_events(session)
        async with telemetry.store_span("save", self, session.id):
            self._sessions[session.id] = session
            self._summarise(session)
        if self._vector_index is not None:
            self._vector_index.note_session(session)
        binding_of(session).store = self

    def _summarise(self, session: Session[Any]) -> None:
        # Counting the new events is all a save pays; the summary itself is built when a
        # listing next asks (a conversation saves far more often than anyone lists).
        scan = self._scans.get(session.id)
        if scan is None:
            scan = self._scans[session.id] = SummaryScan()
        scan.advance(session.events)
        parent_id = session.parent_id
        parent_root = self._roots.get(parent_id) if parent_id is not None else None
        self._roots[session.id] = session.metadata.root_id or parent_root or default_root(session)
        self._stale.add(session.id)

    async def session_summaries(self) -> list[SessionSummary]:
        """Every session's summary, as its last save left it.

        Returns:
            The summaries, in no particular order.
        """
        self._ensure_open()
        for session_id in self._stale:
            session = self._sessions[session_id]
            summary = self._scans[session_id].summary(session, self._roots[session_id])
            self._summaries[session_id] = summary
        self._stale.clear()
        return list(self._summaries.values())

    async def _redact_new_events(self, session: Session[Any]) -> None:
        assert self.redact is not None
        start = self._redacted_up_to.get(session.id, 0)
        if start > len(session.events):  # events were removed: each is redacted once anyway
            start = 0
        await redact_events(session.events[start:], self.redact)
        self._redacted_up_to[session.id] = len(session.events)

    async def delete(self, session_id: str) -> bool:
        validate_id(session_id)
        self._ensure_open()
        session = self._sessions.pop(session_id, None)
        if session is None:
            return False
        for kept in (self._summaries, self._scans, self._roots):
            kept.pop(session_id, None)
        self._stale.discard(session_id)
        binding_of(session).deleted_from = self
        return True

    async def list_sessions(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        self._ensure_open()
        return sorted(sid for sid in self._sessions if sid.startswith(prefix))

    async def clear(self) -> None:
        """Remove every session."""
        self._ensure_open()
        self._sessions.clear()
        for kept in (self._summaries, self._scans, self._roots, self._stale):
            kept.clear()

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


VECTORS.declare(InMemorySessionStore, MemoryVectors)
SIDE_RECORDS.declare(InMemorySessionStore, MemoryRecords)
