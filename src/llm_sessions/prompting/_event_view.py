"""``EventView``: a read-only sequence of events that is computed, not stored.

The prompt planners index events by position. Some of the lists they get are views over other
storage (a log without its system prompt events, the two ends of a stored log); this base class
gives them Python's sequence rules (slices, negative indexes, ``IndexError``) in one place.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, overload

from ..models._session_event import SessionEvent

__all__ = ["EventView"]


class EventView(Sequence[SessionEvent[Any]]):
    """A sequence whose subclasses give ``__len__`` and ``_event_at`` (an index in range)."""

    @abstractmethod
    def _event_at(self, index: int) -> SessionEvent[Any]:
        """The event at ``index``, with ``0 <= index < len(self)``."""

    @overload
    def __getitem__(self, index: int) -> SessionEvent[Any]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[SessionEvent[Any]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(index)
        return self._event_at(index)
