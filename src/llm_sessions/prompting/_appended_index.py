"""Where the events of one kind are in a conversation, kept by reading only the events added
since the last look, so that finding them does not grow with the conversation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..models._session_event import SessionEvent

__all__ = ["AppendedIndex"]


class AppendedIndex:
    """The positions of the events for which ``predicate`` held when the index first saw them.

    The index remembers the last event it scanned (by identity): when the sequence no longer
    holds that event at that place (events were removed, or it is another conversation's), it
    scans again from the start. A predicate over what an event may lose later (a reply's
    ``incomplete`` mark) is checked again by the caller at the positions given.
    """

    def __init__(self, predicate: Callable[[SessionEvent[Any]], bool]) -> None:
        self._predicate = predicate
        self._scanned = 0
        self._last: SessionEvent[Any] | None = None
        self._positions: list[int] = []

    def positions(self, events: Sequence[SessionEvent[Any]]) -> list[int]:
        """The positions in ``events``, oldest first, of those that matched when seen.

        Args:
            events: The conversation's events (the same sequence, or a longer one, each time).

        Returns:
            The positions (the index's own list: do not change it).
        """
        scanned, predicate = self._scanned, self._predicate
        if scanned > len(events) or (scanned and events[scanned - 1] is not self._last):
            scanned, self._positions = 0, []
        positions = self._positions
        for index in range(scanned, len(events)):
            if predicate(events[index]):
                positions.append(index)
        self._scanned = len(events)
        self._last = events[-1] if events else None
        return positions
