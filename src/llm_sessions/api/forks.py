"""Forking a conversation: a new session holding a copy of the events up to one event."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from ..exceptions import InvalidInputError, SessionAlreadyExists
from ..infinite_conversation import SEGMENT_STATE_KEY
from ..models.event_type import EventType
from ..models.session import Session
from ..models.session_event import SessionEvent
from ..storage.base import SessionStoreInterface
from ..validation import validate_id

__all__ = ["FORKED_FROM", "fork_session"]

FORKED_FROM = "forked_from"
"""The fork's metadata property naming the session and event it was forked at."""


def _events_up_to(
    segments: list[Session[Any]], at_event_id: str | None
) -> tuple[list[SessionEvent[Any]], Session[Any]]:
    """The conversation's events up to and including ``at_event_id`` (all if None), and the
    segment that holds it. The summaries that open later segments are left out: the fork holds
    the history they summarise."""
    chosen: list[SessionEvent[Any]] = []
    for index, segment in enumerate(segments):
        for event in segment.events:
            if index > 0 and event.type is EventType.SUMMARY:
                continue
            chosen.append(event)
            if event.id == at_event_id:
                return chosen, segment
    if at_event_id is not None:
        raise InvalidInputError(
            "at_event_id", at_event_id, f"is not an event of session {segments[-1].id!r}"
        )
    return chosen, segments[-1]


async def fork_session(
    store: SessionStoreInterface,
    segments: list[Session[Any]],
    at_event_id: str | None,
    fork_id: str | None = None,
) -> Session[Any]:
    """Save a new session with copies of the events of ``segments`` (a conversation, root
    first) up to ``at_event_id``. Its ``parent_id`` is the segment forked from, and its
    ``forked_from`` property names that segment and event; it keeps the source's ``user_id``,
    root and properties. The original is not changed."""
    if at_event_id is not None and not isinstance(at_event_id, str):
        raise InvalidInputError("at_event_id", at_event_id, "must be an event id or None")
    events, source = _events_up_to(segments, at_event_id)
    new_id = validate_id(fork_id) if fork_id is not None else str(uuid4())
    if await store.get(new_id) is not None:
        raise SessionAlreadyExists(new_id)
    state = {key: value for key, value in source.state.items() if key != SEGMENT_STATE_KEY}
    fork: Session[Any] = type(source)(id=new_id, parent_id=source.id, state=state)
    fork.metadata.user_id = source.metadata.user_id
    fork.metadata.root_id = source.metadata.root_id or source.id
    fork.metadata.properties = {
        **source.metadata.properties,
        FORKED_FROM: {"session_id": source.id, "event_id": at_event_id},
    }
    for event in events:
        await fork.add_event(type(event).model_validate_json(event.model_dump_json()))
    await store.save(fork)
    return fork
