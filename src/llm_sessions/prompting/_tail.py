"""Prompts built from the end of a stored log, read page by page, instead of a full load.

A CONVERSATION prompt under a budget needs the session's opening system messages and its
newest events back to the first group that does not fit. The planner runs over a window that
holds the first few events and a tail of the log; the unread middle raises ``NeedOlder`` when
touched, and the tail grows (each page twice the last) until the plan is made without touching
it. So the prompt equals the one built from a full load, and a 4,000-token prompt from a
100,000-event session reads a few hundred events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..exceptions import SessionNotFound
from ..models._session_event import SessionEvent
from ._event_view import EventView
from ._strategies import LEADING_SYSTEM_LIMIT

__all__ = ["FIRST_PAGE", "NeedOlder", "TailReader", "TailWindow"]

FIRST_PAGE = 128
"""Events read from the end of the log before the first attempt at a prompt."""

# Where the tail starts in a window whose middle was not read: any number past the head keeps
# the events' order, which is all a plan's positions are used for.
_UNREAD_GAP = 1 << 48


class NeedOlder(Exception):
    """The planner reached events older than the tail read so far."""


class TailWindow(EventView):
    """The events of a log as a planner sees them: ``head`` (its first events) and ``tail``
    (its newest, oldest first), with the unread events between them raising ``NeedOlder``."""

    def __init__(self, head: list[SessionEvent[Any]], tail: list[SessionEvent[Any]]) -> None:
        self._head = head
        self._tail = tail
        self._tail_start = len(head) + _UNREAD_GAP

    def __len__(self) -> int:
        return self._tail_start + len(self._tail)

    def _event_at(self, index: int) -> SessionEvent[Any]:
        if 0 <= index < len(self._head):
            return self._head[index]
        if self._tail_start <= index < len(self):
            return self._tail[index - self._tail_start]
        raise NeedOlder(index)


class TailReader:
    """Reads a session's log from the end, page by page, for a planner (see the module)."""

    def __init__(self, store: Any, session_id: str) -> None:
        self._store = store
        self._session_id = session_id
        self._head: list[SessionEvent[Any]] = []
        self._tail: list[SessionEvent[Any]] = []
        self._complete = False

    async def start(self) -> Sequence[SessionEvent[Any]]:
        """The first window: the log's first events and its newest ``FIRST_PAGE``."""
        self._head = await self._read(limit=LEADING_SYSTEM_LIMIT)
        return await self._read_older(FIRST_PAGE)

    async def more(self) -> Sequence[SessionEvent[Any]]:
        """A window with twice as long a tail."""
        return await self._read_older(max(len(self._tail), 1))

    async def _read_older(self, count: int) -> Sequence[SessionEvent[Any]]:
        before = self._tail[0].id if self._tail else None
        page = await self._read(before=before, limit=count, newest_first=True)
        self._tail = [*reversed(page), *self._tail]
        self._complete = len(page) < count
        return self._window()

    def _window(self) -> Sequence[SessionEvent[Any]]:
        if self._complete:
            return self._tail
        tail_ids = {event.id for event in self._tail}
        for index, event in enumerate(self._head):
            if event.id in tail_ids:  # the tail reaches the head: the whole log is read
                return [*self._head[:index], *self._tail]
        return TailWindow(self._head, self._tail)

    async def _read(self, **page: Any) -> list[SessionEvent[Any]]:
        events: list[SessionEvent[Any]] | None = await self._store.read_events(
            self._session_id, **page
        )
        if events is None:
            raise SessionNotFound(self._session_id)
        return events
