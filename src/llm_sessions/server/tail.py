"""The live tail: a session's new events as Server-Sent Events.

The stream reads the store (one ``read_events`` after the last event sent, every
``tail_poll_seconds``), never a process-local queue, so events written through any process or
machine over the same store reach every tail. Each message carries the event id as its SSE
``id``; a client that reconnects with ``Last-Event-ID`` (or ``?after=``) resumes after it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from ..exceptions import InvalidInputError
from .dependencies import Scoped, State
from .errors import ERROR_RESPONSES, ApiError, not_found
from .session_schema import event_out
from .tenancy import TenantStore

__all__ = ["HEARTBEAT_EVERY", "PAGE_SIZE", "router"]

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=ERROR_RESPONSES)

PAGE_SIZE = 100
HEARTBEAT_EVERY = 60
"""Empty polls between two keep-alive comments."""


@router.get(
    "/{session_id}/events/stream",
    response_model=None,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "session.event messages",
        },
    },
)
async def tail(
    session_id: str,
    request: Request,
    store: Scoped,
    state: State,
    after: Annotated[str | None, Query(max_length=256)] = None,
    last_event_id: Annotated[str | None, Header(max_length=256)] = None,
) -> StreamingResponse:
    """New events as they are written (``after``: resume after that event; default: now)."""
    cursor = last_event_id or after
    try:
        start = await store.read_events(session_id, after=cursor, limit=0)
    except InvalidInputError as exc:
        raise ApiError(
            422, "invalid_value", f"after={cursor!r} is not an event here", "after"
        ) from exc
    if start is None:
        raise not_found("session", session_id)
    if cursor is None:
        newest = await store.read_events(session_id, limit=1, newest_first=True)
        cursor = newest[0].id if newest else None
    messages = _follow(store, session_id, cursor, request, state.tail_poll_seconds)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(messages, media_type="text/event-stream", headers=headers)


async def _follow(
    store: TenantStore, session_id: str, cursor: str | None, request: Request, poll: float
) -> AsyncIterator[str]:
    yield ": tailing\n\n"
    idle = 0
    while not await request.is_disconnected():
        try:
            events = await store.read_events(session_id, after=cursor, limit=PAGE_SIZE)
        except InvalidInputError:
            yield _message("session.reset", {"id": session_id, "reason": "cursor removed"})
            return
        if events is None:
            yield _message("session.deleted", {"id": session_id})
            return
        for event in events:
            yield _message("session.event", event_out(event), event.id)
            cursor = event.id
        if len(events) == PAGE_SIZE:
            continue
        idle = idle + 1 if not events else 0
        if idle >= HEARTBEAT_EVERY:
            idle = 0
            yield ": keep-alive\n\n"
        await asyncio.sleep(poll)


def _message(kind: str, data: dict[str, Any], event_id: str | None = None) -> str:
    lines = [f"event: {kind}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {json.dumps(data, ensure_ascii=False)}")
    return "\n".join(lines) + "\n\n"
