"""The live tail: a session's new events as Server-Sent Events.

The stream reads the store (one ``read_events`` after the last event sent), never a
process-local queue, so events written through any process or machine over the same store
reach every tail. It reads every ``tail_poll_seconds`` while events come; idle, the reads thin
out, the wait doubling up to ``tail_idle_poll_seconds``, and a save made through this process
ends the wait at once (see ``tail_wakeups``): so a thousand idle tails cost a few hundred small
reads a second, not thousands. Each message carries the event id as its SSE
``id``; a client that reconnects with ``Last-Event-ID`` (or ``?after=``) resumes after it.

A tail holds little while its client is slow: it reads the next page only once the previous
one is sent (the server waits for the socket, so a client that does not read stops the reads),
and a page is sized to ``TailLimits.buffer_bytes`` by the largest event the tail has sent so
far. A client that leaves the stream unread for ``--write-timeout`` is dropped (see
``connection_limits``); each key may hold ``--max-tails-per-key`` tails, the process
``--max-tails`` (see ``tail_limits``).

A reply that is still streaming (``metadata["incomplete"] is True``, see ``ai_stream``) is
written once and then rewritten in place at each checkpoint. After sending it, the tail reads it
again at every poll and sends each new version as ``session.event.updated`` (the whole event,
its id as the SSE ``id``), until a version without the mark (complete) or with ``cut_by`` (cut)
has been sent.
"""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ..exceptions import InvalidInputError
from .dependencies import Scoped, State
from .errors import ERROR_RESPONSES, ApiError, ErrorBody, not_found
from .inspector.key_cookie import cookie_token
from .memory import release_free_memory
from .session_schema import event_out
from .state import ServerState
from .tenancy import TenantStore

__all__ = ["HEARTBEAT_SECONDS", "PAGE_SIZE", "router"]

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=ERROR_RESPONSES)

PAGE_SIZE = 100
HEARTBEAT_SECONDS = 15.0
"""Quiet seconds (waited between reads) before a keep-alive comment."""


@router.get(
    "/{session_id}/events/stream",
    response_model=None,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "session.event messages",
        },
        429: {"model": ErrorBody, "description": "This key holds --max-tails-per-key tails"},
        503: {"model": ErrorBody, "description": "The server holds --max-tails tails"},
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
    growing = await _GrowingReply.at(store, session_id, cursor)
    caller = _caller(request, state)
    state.tails.take(caller)
    messages = _follow(store, session_id, cursor, request, state, growing)

    def release() -> None:
        state.tails.give_back(caller)
        # A dropped stream ends in a cancellation whose traceback holds the frames that held
        # its last messages; collected now, their megabytes go back at once, not at the next
        # full collection (which a quiet server may not run for minutes).
        gc.collect(1)
        if state.tails.total == 0:
            release_free_memory()

    return _TailResponse(messages, release=release)


class _TailResponse(StreamingResponse):
    """The event stream; gives its tail slot back however the stream ends."""

    def __init__(self, messages: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        super().__init__(messages, media_type="text/event-stream", headers=headers)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _caller(request: Request, state: ServerState) -> str:
    """What the per-key tail limit counts by: the id of the key, presented as a Bearer key or
    behind the login cookie's token (an unknown or absent one counts as one caller)."""
    tokens = state.logins.tokens
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return tokens.key_id(credentials)
    token = cookie_token(request)
    claims = tokens.check(token, state.keys) if token is not None else None
    return claims.key_id if claims is not None else ""


async def _follow(
    store: TenantStore,
    session_id: str,
    cursor: str | None,
    request: Request,
    state: ServerState,
    growing: _GrowingReply | None,
) -> AsyncIterator[bytes]:
    yield b": tailing\n\n"
    quiet = 0.0  # seconds since the last message
    wait = state.tail_poll_seconds
    limit = 1
    largest = 1
    while not await request.is_disconnected():
        try:
            events = await store.read_events(session_id, after=cursor, limit=limit)
        except InvalidInputError:
            yield _message("session.reset", {"id": session_id, "reason": "cursor removed"})
            return
        if events is None:
            yield _message("session.deleted", {"id": session_id})
            return
        full = len(events) == limit
        if events or growing is not None:
            quiet, wait = 0.0, state.tail_poll_seconds  # busy: read again soon
        events.reverse()
        while events:
            # Popped before it is sent, so a sent event is not kept while the next one waits.
            event = events.pop()
            data = event_out(event)
            if _growing(data):
                growing = _GrowingReply(cursor, data)
            message = _message("session.event", data, event.id)
            cursor = event.id
            del event, data
            largest = max(largest, len(message))
            yield message
            del message
        limit = max(1, min(PAGE_SIZE, state.tail_limits.buffer_bytes // largest))
        if full:
            continue
        if growing is not None:
            update, growing = await growing.poll(store, session_id)
            if update is not None:
                yield update
        if quiet >= HEARTBEAT_SECONDS:
            quiet = 0.0
            yield b": keep-alive\n\n"
        # Idle, the reads thin out (to tail_idle_poll_seconds); a write here wakes it at once.
        await state.wakeups.wait(session_id, wait)
        quiet += wait
        wait = min(wait * 2, max(state.tail_idle_poll_seconds, state.tail_poll_seconds))


def _growing(data: dict[str, Any]) -> bool:
    """Whether an event is a reply still streaming (cut replies keep the mark, with
    ``cut_by``)."""
    metadata = data.get("metadata") or {}
    return metadata.get("incomplete") is True and "cut_by" not in metadata


class _GrowingReply:
    """A streaming reply the tail has sent: where it is in the log, and its last version sent."""

    def __init__(self, after: str | None, data: dict[str, Any], *, sent: bool = True) -> None:
        self.after = after  # the event before it: a page of one after this reads it again
        self.id = data["id"]
        self.sent = json.dumps(data, sort_keys=True) if sent else ""

    @classmethod
    async def at(
        cls, store: TenantStore, session_id: str, cursor: str | None
    ) -> _GrowingReply | None:
        """A watcher of the event a tail resumes after, if that is a reply still streaming
        (a tail opened, or reopened, mid-stream); its version now is sent at the first poll."""
        if cursor is None:
            return None
        before = await store.read_events(session_id, before=cursor, limit=1, newest_first=True)
        after = before[0].id if before else None
        found = await store.read_events(session_id, after=after, limit=1)
        if not found or found[0].id != cursor:
            return None
        data = event_out(found[0])
        return cls(after, data, sent=False) if _growing(data) else None

    async def poll(
        self, store: TenantStore, session_id: str
    ) -> tuple[bytes | None, _GrowingReply | None]:
        """Its new version as a ``session.event.updated`` message (None if unchanged), and
        this watcher again while the reply goes on growing (None once it ended or is gone)."""
        try:
            found = await store.read_events(session_id, after=self.after, limit=1)
        except InvalidInputError:  # the event before it was removed
            return None, None
        if not found or found[0].id != self.id:
            return None, None
        data = event_out(found[0])
        version = json.dumps(data, sort_keys=True)
        if version == self.sent:
            return None, self
        self.sent = version
        message = _message("session.event.updated", data, self.id)
        return message, self if _growing(data) else None


def _message(kind: str, data: dict[str, Any], event_id: str | None = None) -> bytes:
    lines = [f"event: {kind}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {json.dumps(data, ensure_ascii=False)}")
    return ("\n".join(lines) + "\n\n").encode()
