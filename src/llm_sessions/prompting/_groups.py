"""Events grouped into the units a prompt keeps or drops whole, walked newest first.

A group is one message event, or an assistant reply together with every tool call that belongs
to it, so a budget can never separate a tool call from its result. Which reply a tool event
belongs to:

1. its ``parent_event_id``, when that names an assistant reply of the session;
2. with no ``parent_event_id``: the nearest assistant reply before it, unless a user, system or
   summary message comes in between; then (and for a tool event whose parent is a user or
   system message) the calls get an assistant message of their own, placed where they happened,
   that holds only the ``tool_calls``;
3. a ``parent_event_id`` naming no earlier event of the session: the tool event is left out
   (there is no reply to attach it to and no position to give it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models._event_type import EventType
from ..models._session_event import SessionEvent
from ._custom import render_custom_event
from ._render import (
    ChatRole,
    Message,
    event_role,
    render_message,
    render_reply,
    render_tool_calls,
    reply_text,
)

__all__ = ["EventGroup", "Position", "message_group", "walk_groups"]

logger = logging.getLogger(__name__)

Position = tuple[int, int]
"""Where a group sits in the session: (event index, 0), or (index, 1) for just after it."""


@dataclass(slots=True)
class EventGroup:
    """A message event with the tool events attached to it (``anchor`` None: tools only)."""

    position: Position
    role: ChatRole
    anchor: SessionEvent[Any] | None
    tools: list[SessionEvent[Any]] = field(default_factory=list)
    rendered: list[Message] | None = None
    """The messages of a custom-type event, as its registered renderer made them."""

    @property
    def is_reply(self) -> bool:
        """Whether this is an assistant reply or a tools-only assistant message."""
        return self.role is ChatRole.ASSISTANT

    def render(self) -> list[Message]:
        """The group's chat messages, tool calls in full."""
        if self.rendered is not None:
            return self.rendered
        if self.anchor is None:
            return render_tool_calls(self.tools)
        if self.role is ChatRole.ASSISTANT:
            return render_reply(self.anchor, self.tools)
        return [render_message(self.anchor, self.role)]

    def render_text_only(self) -> list[Message]:
        """The group without tool detail: its text as one message, or nothing if it has none."""
        if self.rendered is not None:
            return self.rendered
        if self.anchor is None:
            return []
        if self.role is ChatRole.ASSISTANT:
            text = reply_text(self.anchor.message)
            return [] if text is None else [{"role": self.role.value, "content": text}]
        return [render_message(self.anchor, self.role)]


def message_group(events: Sequence[SessionEvent[Any]], index: int) -> EventGroup | None:
    """The event at ``index`` alone, without tool calls (None if it is not a message)."""
    event = events[index]
    role = event_role(event)
    return None if role is None else EventGroup((index, 0), role, event)


def walk_groups(events: Sequence[SessionEvent[Any]]) -> Iterator[EventGroup]:
    """The session's groups, newest first. Lazy: stopping early never looks at older events."""
    linked: dict[str, list[tuple[int, SessionEvent[Any]]]] = {}
    loose: list[tuple[int, SessionEvent[Any]]] = []
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        children = linked.pop(event.id, [])
        if event.type is EventType.TOOL_CALL:
            _hold_tool(event, index, linked, loose)
            loose.extend(children)
            continue
        custom = render_custom_event(event)
        if custom is not None:
            if loose:
                yield _tools_only(loose)
                loose = []
            loose.extend(children)
            yield EventGroup((index, 0), ChatRole(custom[0]["role"]), event, rendered=custom)
            continue
        role = event_role(event)
        if role is None:
            loose.extend(children)
        elif role is ChatRole.ASSISTANT:
            yield EventGroup((index, 0), role, event, _chronological(children + loose))
            loose = []
        else:
            if loose:
                yield _tools_only(loose)
                loose = []
            if children:
                yield EventGroup((index, 1), ChatRole.ASSISTANT, None, _chronological(children))
            yield EventGroup((index, 0), role, event)
    if loose:
        yield _tools_only(loose)
    if linked:
        logger.debug(
            "left out %d tool events whose parent event is not in the session",
            sum(len(found) for found in linked.values()),
        )


def _hold_tool(
    event: SessionEvent[Any],
    index: int,
    linked: dict[str, list[tuple[int, SessionEvent[Any]]]],
    loose: list[tuple[int, SessionEvent[Any]]],
) -> None:
    if event.parent_event_id is not None and event.parent_event_id != event.id:
        linked.setdefault(event.parent_event_id, []).append((index, event))
    else:
        loose.append((index, event))


def _chronological(found: list[tuple[int, SessionEvent[Any]]]) -> list[SessionEvent[Any]]:
    return [event for _, event in sorted(found, key=lambda item: item[0])]


def _tools_only(loose: list[tuple[int, SessionEvent[Any]]]) -> EventGroup:
    first = min(index for index, _ in loose)
    return EventGroup((first, 0), ChatRole.ASSISTANT, None, _chronological(loose))
