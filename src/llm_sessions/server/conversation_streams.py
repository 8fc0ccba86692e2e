"""Streamed appends: ``POST /v1/conversations/{id}/items?stream=true`` records a model reply
as its chunks arrive.

The body is sent chunked (``Transfer-Encoding: chunked``, ``Content-Type:
application/x-ndjson``): one JSON object per line, each with a ``type``::

    {"type": "reply.start", "model": "gpt-4o", "provider": "openai", "metadata": {},
     "checkpoint_ms": 250}
    {"type": "reply.delta", "text": "Hel"}
    {"type": "reply.delta", "text": "lo"}
    {"type": "reply.tool_call", "index": 0, "id": "call_1", "name": "f", "arguments": "{}"}
    {"type": "reply.usage", "usage": {"prompt_tokens": 12, "completion_tokens": 2}}
    {"type": "reply.done"}

``reply.start`` is optional and, if sent, first (its fields are optional too); ``reply.done``
is last. The reply is one item, written ``checkpoint_ms`` (default 250) after the body starts
and rewritten at most every ``checkpoint_ms`` while text arrives (``SessionManager.ai_stream``),
so the live tail shows it growing.
With ``reply.done`` it is complete and the answer is the item list with it (``status``
``completed``). A body that ends without ``reply.done``, a bad line (422, naming the line and
field), a body over the size limit (413) or a client that goes away leave the reply stored as
it was so far, ``status`` ``incomplete``; a bad first line stores nothing. ``Idempotency-Key``
is refused with ``stream=true`` (a retried stream would be a second reply).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from ..api import DEFAULT_CHECKPOINT_MS, ReplyStream
from ..exceptions import InvalidInputError
from ..models import Session, SessionEvent
from ..replies import ToolCallDelta
from .conversation_items import item_of
from .conversation_schema import MAX_TEXT, ItemList
from .dependencies import Scoped, State
from .errors import ERROR_RESPONSES, ApiError
from .middleware import is_streamed_body

__all__ = ["router"]


class _StreamedAppendRoute(APIRoute):
    """Matches only ``?stream=true`` requests; the others go on to the plain append route."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE and not is_streamed_body(scope):
            return Match.NONE, {}
        return match, child


router = APIRouter(
    prefix="/v1/conversations",
    tags=["conversations (OpenAI-compatible)"],
    responses=ERROR_RESPONSES,
    route_class=_StreamedAppendRoute,
)

MAX_LINE = MAX_TEXT + 4096
"""The longest line: a delta of the largest text an item may hold, and its JSON around it."""


class _OneSession:
    """The conversation a streamed append writes to, as ``ReplyStream`` asks for it."""

    def __init__(self, session: Session[Any]) -> None:
        self.session = session

    async def _begin_stream(self, stream: ReplyStream) -> Session[Any]:
        return self.session

    def _end_stream(self, stream: ReplyStream, event: SessionEvent[Any] | None) -> None:
        return None


@router.post("/{conversation_id}/items", response_model=ItemList, include_in_schema=False)
async def stream_items(
    conversation_id: str, request: Request, store: Scoped, state: State
) -> ItemList:
    """Record a streamed reply (see the module docstring for the body's format)."""
    if request.headers.get("idempotency-key") is not None:
        raise ApiError(
            422, "invalid_value", "Idempotency-Key is not supported with stream=true", "stream"
        )
    session = await store.require_for_append(conversation_id, "conversation")
    lines = _numbered_lines(request.stream())
    first = await anext(lines, None)
    start = first[1] if first is not None and first[1].get("type") == "reply.start" else {}
    host = _OneSession(session)
    reply = ReplyStream(host, *_start_fields(start))
    done = False
    async with reply:
        if first is not None and not start:
            done = await _apply(reply, *first)
        async for number, line in lines:
            if done:
                raise InvalidInputError(f"line {number}", line, "comes after reply.done")
            done = await _apply(reply, number, line)
        if not done:
            raise InvalidInputError("body", "<ended>", 'must end with {"type": "reply.done"}')
    state.metrics.events_written += 1
    assert reply.event is not None
    item = item_of(reply.event)
    return ItemList(data=[item], first_id=item.id, last_id=item.id, has_more=False)


def _start_fields(start: dict[str, Any]) -> tuple[str, str, dict[str, Any], int]:
    checkpoint_ms = start.get("checkpoint_ms", DEFAULT_CHECKPOINT_MS)
    if isinstance(checkpoint_ms, bool) or not isinstance(checkpoint_ms, int) or checkpoint_ms < 0:
        raise InvalidInputError(
            "line 1 checkpoint_ms", checkpoint_ms, "must be a whole number >= 0"
        )
    model = start.get("model", "unknown")
    provider = start.get("provider", "unknown")
    metadata = start.get("metadata", {})
    for field, value in (("model", model), ("provider", provider)):
        if not isinstance(value, str) or not value:
            raise InvalidInputError(f"line 1 {field}", value, "must be a non-empty string")
    if not isinstance(metadata, dict):
        raise InvalidInputError("line 1 metadata", metadata, "must be an object")
    return model, provider, metadata, checkpoint_ms


async def _apply(reply: ReplyStream, number: int, line: dict[str, Any]) -> bool:
    """Apply one line to the reply; True for ``reply.done``."""
    kind = line.get("type")
    if kind == "reply.delta":
        await reply.write(_text(line, "text", number, required=True))
    elif kind == "reply.tool_call":
        index = line.get("index")
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise InvalidInputError(f"line {number} index", index, "must be a whole number >= 0")
        call_id = _text(line, "id", number) or None
        name = _text(line, "name", number) or None
        await reply.write_tool_call(
            ToolCallDelta(index, call_id, name, _text(line, "arguments", number))
        )
    elif kind == "reply.usage":
        reply.set_usage(line.get("usage"))
    elif kind == "reply.done":
        return True
    else:
        raise InvalidInputError(
            f"line {number} type",
            kind,
            "must be reply.delta, reply.tool_call, reply.usage or reply.done "
            "(reply.start only first)",
        )
    return False


def _text(line: dict[str, Any], field: str, number: int, *, required: bool = False) -> str:
    value = line.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError(f"line {number} {field}", value, "must be text")
    return value


async def _numbered_lines(body: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, dict[str, Any]]]:
    """The body's non-empty lines as JSON objects, numbered from 1, as they arrive."""
    pending = b""
    number = 0
    async for chunk in body:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        if len(pending) > MAX_LINE:
            raise InvalidInputError(f"line {number + 1}", "<too long>", f"limit {MAX_LINE:,} bytes")
        for raw in complete:
            number += 1
            if raw.strip():
                yield number, _parsed(raw, number)
    if pending.strip():
        yield number + 1, _parsed(pending, number + 1)


def _parsed(raw: bytes, number: int) -> dict[str, Any]:
    try:
        line = json.loads(raw)
    except ValueError as exc:
        shown = raw[:80].decode(errors="replace")
        raise InvalidInputError(f"line {number}", shown, f"is not JSON ({exc})") from exc
    if not isinstance(line, dict):
        raise InvalidInputError(f"line {number}", line, 'must be an object with a "type"')
    return line
