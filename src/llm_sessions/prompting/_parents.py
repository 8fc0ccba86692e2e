"""The context a session inherits from its parent sessions, as one system message."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..models._event_source import EventSource
from ..models._event_type import EventType
from ..models._session import Session
from ..models._session_event import SessionEvent
from ._budget import Candidate
from ._render import ChatRole, Message, event_text, reply_text

__all__ = ["EXCHANGE_CHARS", "parent_context"]

#: A parent's last user message and reply are each cut to this many characters.
EXCHANGE_CHARS = 500
#: Metadata key with which a segment's opening summary names the session it summarises.
_SUMMARIZES_KEY = "summarizes"
_HEADER = "Context from parent sessions (oldest first):"


async def parent_context(session: Session[Any]) -> Candidate | None:
    """A system message with each ancestor's latest summary, or else its last exchange.

    Ancestors are listed oldest first; the smaller fallbacks drop the oldest ones, so under a
    tight budget the nearest parents are kept. None when there is nothing to add, including
    when the session opens with a summary of its parent (a rolling summary already covers
    every ancestor).
    """
    if session.parent_id is None or _opens_with_summary_of_parent(session):
        return None
    entries = [entry for parent in await session.ancestors() if (entry := _entry(parent))]
    if not entries:
        return None
    versions = [[_context_message(entries[:count])] for count in range(len(entries), 0, -1)]
    return Candidate((-1, 0), versions[0], tuple(versions[1:]))


def _opens_with_summary_of_parent(session: Session[Any]) -> bool:
    for event in session.events[:3]:
        if event.type is EventType.SUMMARY:
            return event.metadata.get(_SUMMARIZES_KEY) == session.parent_id
    return False


def _entry(parent: Session[Any]) -> str | None:
    summary = _latest(parent.events, lambda event: event.type is EventType.SUMMARY)
    if summary is not None:
        return f"Summary of session {parent.id}:\n{event_text(summary.message)}"
    lines = _last_exchange(parent.events)
    if not lines:
        return None
    return "\n".join([f"Last exchange in session {parent.id}:", *lines])


def _last_exchange(events: Sequence[SessionEvent[Any]]) -> list[str]:
    user = _latest(events, lambda event: _is_message(event, EventSource.USER))
    reply = _latest(events, lambda event: _is_message(event, EventSource.LLM))
    lines = []
    if user is not None:
        lines.append(f"User: {_condense(event_text(user.message))}")
    reply_content = None if reply is None else reply_text(reply.message)
    if reply_content is not None:
        lines.append(f"Assistant: {_condense(reply_content)}")
    return lines


def _context_message(entries_nearest_first: Sequence[str]) -> Message:
    body = "\n\n".join(reversed(entries_nearest_first))
    return {"role": ChatRole.SYSTEM.value, "content": f"{_HEADER}\n\n{body}"}


def _latest(
    events: Sequence[SessionEvent[Any]], wanted: Callable[[SessionEvent[Any]], bool]
) -> SessionEvent[Any] | None:
    return next((events[i] for i in range(len(events) - 1, -1, -1) if wanted(events[i])), None)


def _is_message(event: SessionEvent[Any], source: EventSource) -> bool:
    return event.type is EventType.MESSAGE and event.source is source


def _condense(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCHANGE_CHARS else f"{text[: EXCHANGE_CHARS - 1].rstrip()}…"
