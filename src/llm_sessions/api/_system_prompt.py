"""A conversation's system prompt, kept as a system event and always sent first.

The prompt is a ``MESSAGE`` event from ``EventSource.SYSTEM`` marked ``system_prompt`` in its
metadata. Changing it appends a new such event (the log stays append-only); the newest one is
the prompt, and it is rendered once, at the top of the messages for the model.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from ..exceptions import InvalidInputError, TokenLimitExceeded
from ..models._event_source import EventSource
from ..models._event_type import EventType
from ..models._session import Session
from ..models._session_event import SessionEvent
from ..prompting._appended_index import AppendedIndex
from ..prompting._budget import message_cache
from ..prompting._event_view import EventView

__all__ = [
    "SYSTEM_PROMPT_KEY",
    "SystemPromptIndex",
    "check_system_prompt",
    "current_system_prompt",
    "is_system_prompt",
    "system_prompt_event",
    "with_system_prompt",
]

SYSTEM_PROMPT_KEY = "system_prompt"
"""The metadata key that marks an event as the system prompt."""


def check_system_prompt(value: Any) -> str | None:
    """``value`` if it is a system prompt (a string) or None; else ``InvalidInputError``."""
    if value is not None and not isinstance(value, str):
        raise InvalidInputError("system_prompt", value, "must be a string or None")
    return value


def is_system_prompt(event: SessionEvent[Any]) -> bool:
    """Whether ``event`` records a system prompt."""
    return (
        event.source is EventSource.SYSTEM
        and event.type is EventType.MESSAGE
        and event.metadata.get(SYSTEM_PROMPT_KEY) is True
    )


def current_system_prompt(session: Session[Any]) -> str | None:
    """The newest system prompt recorded in ``session``, or None."""
    for event in reversed(session.events):
        if is_system_prompt(event):
            text: str = event.message
            return text
    return None


async def system_prompt_event(text: str, model: str) -> SessionEvent[Any]:
    """A system prompt event, its tokens counted as input of ``model``."""
    return await SessionEvent.create_with_tokens(
        message=text,
        prompt=text,
        model=model,
        source=EventSource.SYSTEM,
        type=EventType.MESSAGE,
        metadata={SYSTEM_PROMPT_KEY: True},
    )


class SystemPromptIndex:
    """Where a conversation's system prompt events are (an ``AppendedIndex``), so finding the
    current prompt does not grow with the conversation."""

    def __init__(self) -> None:
        self._index = AppendedIndex(is_system_prompt)

    def current(self, events: Sequence[SessionEvent[Any]]) -> str | None:
        """The newest system prompt among ``events``, or None."""
        positions = self._index.positions(events)
        if not positions:
            return None
        text: str = events[positions[-1]].message
        return text

    def history(self, events: Sequence[SessionEvent[Any]]) -> Sequence[SessionEvent[Any]]:
        """``events`` without the system prompt events (a view, not a copy)."""
        positions = self._index.positions(events)
        return _Without(events, tuple(positions)) if positions else events


class _Without(EventView):
    """A read-only view of ``events`` that skips the (few, sorted) ``excluded`` positions."""

    def __init__(self, events: Sequence[SessionEvent[Any]], excluded: tuple[int, ...]) -> None:
        self._events = events
        self._excluded = excluded

    def __len__(self) -> int:
        return len(self._events) - len(self._excluded)

    def _event_at(self, index: int) -> SessionEvent[Any]:
        # The view's index plus the excluded positions at or before the event it lands on.
        position = index
        while True:
            skipped = bisect_right(self._excluded, position)
            if index + skipped == position:
                return self._events[position]
            position = index + skipped


def with_system_prompt(
    prompts: SystemPromptIndex,
    events: Sequence[SessionEvent[Any]],
    max_tokens: int | None,
    model: str,
) -> tuple[Sequence[SessionEvent[Any]], dict[str, Any] | None, int | None]:
    """The events without their system prompt events, the prompt as a chat message, and what
    is left of ``max_tokens`` once the prompt is counted.

    Raises ``TokenLimitExceeded`` when the system prompt alone does not fit.
    """
    text = prompts.current(events)
    if text is None:
        return events, None, max_tokens
    message = {"role": "system", "content": text}
    if max_tokens is not None:
        cost = message_cache.tokens(message, model)
        if cost >= max_tokens:
            raise TokenLimitExceeded(max_tokens, cost)
        max_tokens -= cost
    return prompts.history(events), message, max_tokens
