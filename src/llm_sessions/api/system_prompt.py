"""A conversation's system prompt, kept as a system event and always sent first.

The prompt is a ``MESSAGE`` event from ``EventSource.SYSTEM`` marked ``system_prompt`` in its
metadata. Changing it appends a new such event (the log stays append-only); the newest one is
the prompt, and it is rendered once, at the top of the messages for the model.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import InvalidInputError, TokenLimitExceeded
from ..models.event_source import EventSource
from ..models.event_type import EventType
from ..models.session import Session
from ..models.session_event import SessionEvent
from ..tokens import count_chat_message

__all__ = [
    "SYSTEM_PROMPT_KEY",
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


def with_system_prompt(
    session: Session[Any], max_tokens: int | None, model: str
) -> tuple[Session[Any], dict[str, Any] | None, int | None]:
    """The session without its system prompt events, the prompt as a chat message, and what
    is left of ``max_tokens`` once the prompt is counted.

    Raises ``TokenLimitExceeded`` when the system prompt alone does not fit.
    """
    text = current_system_prompt(session)
    if text is None:
        return session, None, max_tokens
    message = {"role": "system", "content": text}
    if max_tokens is not None:
        cost = count_chat_message(message, model)
        if cost >= max_tokens:
            raise TokenLimitExceeded(max_tokens, cost)
        max_tokens -= cost
    history = [event for event in session.events if not is_system_prompt(event)]
    return session.model_copy(update={"events": history}), message, max_tokens
