"""Forking a conversation: a new session holding a copy of the events up to one event."""

from __future__ import annotations

from copy import deepcopy
from typing import Any
from uuid import uuid4

from ..conversations._infinite import SEGMENT_STATE_KEY
from ..exceptions import InvalidInputError, SessionAlreadyExists
from ..models._event_type import EventType
from ..models._session import Session
from ..models._session_event import SessionEvent
from ..storage import SessionStoreInterface
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
    """Save a new session with copies of the events of a conversation up to one event.

    This is the one fork: ``SessionManager.fork``, ``POST /v1/sessions/{id}/fork`` and the
    inspector's Fork button all come here, so a fork looks the same whichever made it.

    Args:
        store: Where the fork is saved.
        segments: The conversation, root first, ending with the session forked from (every
            segment of an infinite conversation; just the session when it has one).
        at_event_id: The last event the fork keeps, from any of ``segments`` (None: all of
            them). The summaries that open later segments are left out: the fork holds the
            history they summarise.
        fork_id: The fork's id (default: a new UUID).

    Returns:
        The saved fork. Its ``parent_id`` is the segment holding the event forked at; its
        properties are that segment's, plus ``forked_from``: ``{"session_id": <that segment>,
        "event_id": <the last event kept, None for an empty conversation>}``. Its state is that
        segment's without the segment links; its ``user_id`` and root are that segment's.
        The original is not changed.

    Raises:
        InvalidInputError: ``at_event_id`` is not an event of ``segments``, or ``fork_id`` is
            not a valid id.
        SessionAlreadyExists: ``fork_id`` is taken.
    """
    if at_event_id is not None and not isinstance(at_event_id, str):
        raise InvalidInputError("at_event_id", at_event_id, "must be an event id or None")
    events, source = _events_up_to(segments, at_event_id)
    new_id = validate_id(fork_id) if fork_id is not None else str(uuid4())
    if await store.get(new_id) is not None:
        raise SessionAlreadyExists(new_id)
    state = {key: value for key, value in source.state.items() if key != SEGMENT_STATE_KEY}
    fork: Session[Any] = type(source)(id=new_id, parent_id=source.id, state=deepcopy(state))
    fork.metadata.user_id = source.metadata.user_id
    fork.metadata.root_id = source.metadata.root_id or source.id
    fork.metadata.properties.update(deepcopy(source.metadata.properties))
    fork.metadata.properties[FORKED_FROM] = {
        "session_id": source.id,
        "event_id": events[-1].id if events else None,
    }
    for event in events:
        await fork.add_event(type(event).model_validate_json(event.model_dump_json()))
    await store.save(fork)
    return fork
