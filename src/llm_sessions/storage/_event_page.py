"""Which events a ``read_events`` call asks for, and that page of an in-memory list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInputError

if TYPE_CHECKING:
    from ..models._session_event import SessionEvent

__all__ = ["EventPage", "page_of_events", "unknown_event"]


@dataclass(frozen=True)
class EventPage:
    """Which events a ``read_events`` call asks for (see ``SessionStore.read_events``)."""

    after: str | None = None
    before: str | None = None
    limit: int | None = None
    newest_first: bool = False

    @classmethod
    def checked(
        cls, after: str | None, before: str | None, limit: int | None, newest_first: bool
    ) -> EventPage:
        """The page, or ``InvalidInputError`` naming the argument that is not valid."""
        for name, value in (("after", after), ("before", before)):
            if value is not None and not isinstance(value, str):
                raise InvalidInputError(name, value, "must be an event id (a string) or None")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise InvalidInputError("limit", limit, "must be a whole number >= 0 or None")
        return cls(after, before, limit, bool(newest_first))

    def bounds(self, positions: Mapping[Any, int], length: int, session_id: str) -> tuple[int, int]:
        """The page's positions ``[start, end)`` in a log of ``length`` events whose ids are
        at ``positions``; a cursor not among them raises ``unknown_event``."""

        def position(field: str, event_id: str) -> int:
            if event_id not in positions:
                raise unknown_event(field, event_id, session_id)
            return positions[event_id]

        start = position("after", self.after) + 1 if self.after is not None else 0
        end = position("before", self.before) if self.before is not None else length
        return self.window(start, end)

    def window(self, start: int, end: int) -> tuple[int, int]:
        """The positions ``[start, end)`` of a range of the log, cut to ``limit`` at the end
        the page is read from."""
        if self.limit is not None:
            if self.newest_first:
                start = max(start, end - self.limit)
            else:
                end = min(end, start + self.limit)
        return start, max(start, end)


def unknown_event(field: str, event_id: str, session_id: str) -> InvalidInputError:
    """The error for a cursor that is not an event of the session."""
    return InvalidInputError(field, event_id, f"is not an event of session {session_id!r}")


def page_of_events(
    events: list[SessionEvent[Any]], session_id: str, page: EventPage
) -> list[SessionEvent[Any]]:
    """The ``read_events`` page of an in-memory list of events (see ``SessionStore``)."""
    positions = {event.id: n for n, event in enumerate(events)}
    start, end = page.bounds(positions, len(events), session_id)
    window = events[start:end]
    return window[::-1] if page.newest_first else window
