"""Renderers that turn events of custom types into chat messages.

Events of a custom type (``SessionEvent(type="retrieval", ...)``) are left out of prompts unless
a renderer is registered for the type; its messages then take the event's place in the history
and count against the same token budget as every other message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from ..exceptions import InvalidInputError
from ..models._event_type import EventType, parse_event_type
from ..models._session_event import SessionEvent
from ._render import ChatRole, Message

__all__ = [
    "EventRenderer",
    "register_event_renderer",
    "render_custom_event",
    "unregister_event_renderer",
]

EventRenderer: TypeAlias = Callable[[SessionEvent[Any]], Message | Sequence[Message] | None]
"""``renderer(event)`` returns one chat message, a list of them, or None to leave it out."""

_ROLES = frozenset({ChatRole.SYSTEM.value, ChatRole.USER.value, ChatRole.ASSISTANT.value})
_renderers: dict[str, EventRenderer] = {}


def register_event_renderer(event_type: str, renderer: EventRenderer) -> None:
    """Have prompts include events of the custom type ``event_type``, as ``renderer`` renders
    them (replacing any renderer registered for that type before).

    Args:
        event_type: A custom event type name (``^[a-z][a-z0-9_.:-]{0,63}$``).
        renderer: Takes the event and returns a chat message, a list of them, or None to
            leave the event out.

    Raises:
        InvalidInputError: ``event_type`` is not a custom type name, or ``renderer`` is not
            callable.
    """
    name = parse_event_type(event_type, "event_type")
    if isinstance(name, EventType):
        raise InvalidInputError(
            "event_type", event_type, "is a built-in type; renderers are for custom types"
        )
    if not callable(renderer):
        raise InvalidInputError("renderer", renderer, "must be callable")
    _renderers[name] = renderer


def unregister_event_renderer(event_type: str) -> None:
    """Leave events of ``event_type`` out of prompts again (no error if none was registered).

    Args:
        event_type: The custom event type name.
    """
    _renderers.pop(event_type, None)


def render_custom_event(event: SessionEvent[Any]) -> list[Message] | None:
    """The chat messages for a custom-type event, or None when it has no renderer (or the
    renderer returns nothing). A renderer's output is checked: each message needs a ``role``
    of system, user or assistant and a string ``content``."""
    if isinstance(event.type, EventType):
        return None
    renderer = _renderers.get(event.type)
    if renderer is None:
        return None
    output = renderer(event)
    if output is None:
        return None
    messages = [output] if isinstance(output, Mapping) else list(output)
    for message in messages:
        _check_message(event.type, message)
    return [dict(message) for message in messages] or None


def _check_message(event_type: str, message: object) -> None:
    field = f"renderer output for {event_type!r}"
    if not isinstance(message, Mapping):
        raise InvalidInputError(field, message, "each message must be a dict")
    if message.get("role") not in _ROLES:
        raise InvalidInputError(field, message, f"role must be one of {', '.join(sorted(_ROLES))}")
    if not isinstance(message.get("content"), str):
        raise InvalidInputError(field, message, "content must be a string")
