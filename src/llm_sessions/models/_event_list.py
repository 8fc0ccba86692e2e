"""A session's events: a list you can append to, and nothing else.

Stores keep events in an append-only log, so removing, replacing or reordering events in memory
would make the session show what its store does not hold (and a later save could drop a new
event). Those list operations raise ``InvalidSessionOperation`` instead; appending (``append``,
``extend``, ``+=``) costs what it costs on a plain list.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ..exceptions import InvalidSessionOperation

__all__ = ["EventList", "take_back"]


class EventList(list[Any]):
    """The append-only list behind ``Session.events``."""

    HOW_TO_REMOVE = (
        "events are append-only, so that a session shows what its store holds; "
        "remove events with `await session.remove_events(ids)` (or SessionManager's "
        "pop_last_turn() and clear()), which records the removal in the store"
    )

    def _refuse(self, operation: str) -> NoReturn:
        raise InvalidSessionOperation(f"{operation} session.events", self.HOW_TO_REMOVE)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (EventList, (list(self),))

    def pop(self, *args: Any) -> NoReturn:
        self._refuse("pop from")

    def remove(self, *args: Any) -> NoReturn:
        self._refuse("remove from")

    def insert(self, *args: Any) -> NoReturn:
        self._refuse("insert into")

    def clear(self) -> NoReturn:
        self._refuse("clear")

    def sort(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse("sort")

    def reverse(self) -> NoReturn:
        self._refuse("reverse")

    def __setitem__(self, *args: Any) -> NoReturn:
        self._refuse("replace items of")

    def __delitem__(self, *args: Any) -> NoReturn:
        self._refuse("delete from")

    def __imul__(self, *args: Any) -> NoReturn:  # type: ignore[misc]
        self._refuse("repeat")


def take_back(events: list[Any], event: Any) -> None:
    """Drop ``event``, the last one, which its store refused (it was never written)."""
    if events and events[-1] is event:
        list.pop(events)
