"""Fork, export and import of sessions (``/v1/sessions``), on the caller's view of the store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, StringConstraints

from ..api._forks import fork_session
from ..interop import Format, OnConflict, conversation_of, export_session, import_session
from .dependencies import Scoped, State
from .errors import ERROR_RESPONSES
from .idempotency import IdempotencyKey, idempotent, written_session
from .session_schema import SessionOut, session_out

__all__ = ["router"]

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=ERROR_RESPONSES)

_MEDIA_TYPES = {
    Format.JSONL: "application/x-ndjson",
    Format.OPENAI: "application/json",
    Format.OPENAI_RESPONSES: "application/json",
}


class ForkRequest(BaseModel):
    """Body of ``POST /v1/sessions/{id}/fork``."""

    model_config = ConfigDict(extra="forbid")

    at_event_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    """The last event the fork keeps (default: all of them)."""


class Imported(BaseModel):
    """The ids of the sessions an import stored."""

    object: str = "list"
    data: list[str]


@router.post("/{session_id}/fork", response_model=SessionOut)
async def fork(
    request: Request,
    session_id: str,
    body: ForkRequest,
    store: Scoped,
    state: State,
    idempotency_key: IdempotencyKey = None,
) -> SessionOut | Response:
    """A new session with the conversation's events up to ``at_event_id`` (default: all of them,
    to the end of this session), to continue on its own. Its ``parent_id`` is the session that
    holds that event, and its ``forked_from`` property names that session and event, as
    ``SessionManager.fork`` does."""

    async def write() -> SessionOut:
        source = await store.require(session_id)
        conversation = await conversation_of(store, source)
        ids = [segment.id for segment in conversation]
        through_source = conversation[: ids.index(source.id) + 1]
        copy = await fork_session(store, through_source, body.at_event_id, store.new_id("sess_"))
        state.metrics.sessions_created += 1
        state.metrics.events_written += len(copy.events)
        return session_out(copy)

    written = written_session(store, "sess_", session_out)
    return await idempotent(request, idempotency_key, store, write, written)


@router.get(
    "/{session_id}/export",
    response_model=None,
    responses={
        200: {
            "description": "The exported text",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/json": {"schema": {}},
            },
        }
    },
)
async def export(session_id: str, store: Scoped, format: Format = Format.JSONL) -> Response:
    """The session (every segment of its conversation) as JSON Lines or OpenAI messages."""
    text = await export_session(store, session_id, format)
    return Response(text, media_type=_MEDIA_TYPES[format])


@router.post("/import", response_model=Imported)
async def import_sessions(
    request: Request,
    store: Scoped,
    state: State,
    text: Annotated[str, Body(media_type="text/plain", description="The file's text")],
    format: Format = Format.JSONL,
    on_conflict: Annotated[OnConflict, Query()] = OnConflict.RENAME,
    idempotency_key: IdempotencyKey = None,
) -> Imported | Response:
    """Store the sessions of an exported file; ``rename`` (default) gives them new ids."""

    async def write() -> Imported:
        ids = await import_session(
            store, text, format, on_conflict=on_conflict, new_id=lambda: store.new_id("sess_")
        )
        state.metrics.sessions_created += len(ids)
        return Imported(data=ids)

    async def written() -> Imported | None:
        # With ``rename`` the ids are the seeded ones, in order: those that exist were stored.
        found = []
        while await store.get(candidate := store.new_id("sess_")) is not None:
            found.append(candidate)
        return Imported(data=found) if found else None

    return await idempotent(request, idempotency_key, store, write, written)
