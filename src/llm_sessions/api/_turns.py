"""Reading and undoing turns of a conversation, and its stats."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..exceptions import InvalidSessionOperation
from ..models._event_source import EventSource
from ..models._event_type import EventType
from ..models._session import Session
from ..models._session_event import SessionEvent
from ._system_prompt import is_system_prompt

__all__ = [
    "clear_segments",
    "conversation_messages",
    "conversation_stats",
    "last_reply_id",
    "pop_last_turn",
]

_ROLES = {EventSource.USER: "user", EventSource.LLM: "assistant", EventSource.SYSTEM: "system"}


def conversation_messages(segments: list[Session[Any]]) -> list[dict[str, Any]]:
    """The user and assistant messages of ``segments`` as ``{"role", "content", "timestamp"}``."""
    return [
        {
            "role": _ROLES[event.source],
            "content": event.message,
            "timestamp": event.timestamp.isoformat(),
        }
        for segment in segments
        for event in segment.events
        if event.type is EventType.MESSAGE and not is_system_prompt(event)
    ]


def last_reply_id(session: Session[Any]) -> str | None:
    """The id of the newest model reply in ``session``, or None."""
    for event in reversed(session.events):
        if event.type is EventType.MESSAGE and event.source is EventSource.LLM:
            reply_id: str = event.id
            return reply_id
    return None


async def pop_last_turn(session: Session[Any]) -> list[SessionEvent[Any]]:
    """Remove the newest user message and every event after it but the system prompt."""
    for start in range(len(session.events) - 1, -1, -1):
        event = session.events[start]
        if event.type is EventType.MESSAGE and event.source is EventSource.USER:
            doomed = [e.id for e in session.events[start:] if not is_system_prompt(e)]
            return await session.remove_events(doomed)
    raise InvalidSessionOperation(
        "pop the last turn", f"session {session.id!r} has no user message"
    )


async def clear_segments(segments: list[Session[Any]]) -> None:
    """Remove every event of these sessions but the system prompt."""
    for segment in segments:
        doomed = [event.id for event in segment.events if not is_system_prompt(event)]
        if doomed:
            await segment.remove_events(doomed)


def conversation_stats(segments: list[Session[Any]]) -> dict[str, Any]:
    """Counts, tokens and cost over ``segments`` (root first), as ``get_stats`` reports them."""
    events = [event for segment in segments for event in segment.events]
    messages = [e for e in events if e.type is EventType.MESSAGE]
    return {
        "session_segments": len(segments),
        "session_chain": [segment.id for segment in segments],
        "total_events": len(events),
        "user_messages": sum(1 for e in messages if e.source is EventSource.USER),
        "ai_messages": sum(1 for e in messages if e.source is EventSource.LLM),
        "tool_calls": sum(1 for e in events if e.type is EventType.TOOL_CALL),
        "events_by_type": dict(Counter(str(e.type) for e in events)),
        "total_tokens": sum(segment.total_tokens for segment in segments),
        "estimated_cost": sum(segment.total_cost for segment in segments),
        "unpriced_models": sorted(
            {model for segment in segments for model in segment.token_summary.unpriced_models}
        ),
        "created_at": segments[0].metadata.created_at.isoformat(),
        "last_update": segments[-1].last_update_time.isoformat(),
    }
