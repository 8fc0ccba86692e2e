"""The native API: what OpenAI's Conversations API lacks.

Sessions and their tree (parents, children, segments of an infinite conversation), events with
token usage and cost, runs, the prompt ``get_messages_for_llm`` would send, and cost by model,
source and run. Every list is paginated; event pages are one ``read_events`` call.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..api.manager import SessionManager
from ..interop import conversation_of
from ..models import Session, SessionEvent, SessionMetadata
from ..prompting import PromptStrategy, build_prompt_from_session
from .dependencies import Scoped, State
from .errors import ERROR_RESPONSES
from .fleet_routes import checked_params, cursor_after, where_of
from .idempotency import IdempotencyKey, idempotent, written_session
from .paging import Order, read_page, read_written
from .prompt_budget import prompt_within
from .prompt_offload import count_prompt_off_loop
from .session_schema import (
    CostOut,
    Deleted,
    EventIn,
    EventList,
    EventsCreate,
    SessionCreate,
    SessionOut,
    SummaryList,
    TreeOut,
    event_out,
    session_out,
)
from .tenancy import TenantStore

__all__ = ["cost_out", "router", "segment_ids"]

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("", response_model=SummaryList)
async def list_sessions(
    request: Request,
    store: Scoped,
    prefix: Annotated[str, Query(max_length=256)] = "",
    user_id: Annotated[str | None, Query(max_length=256)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
    until: Annotated[str | None, Query(max_length=64)] = None,
    min_cost: Annotated[str | None, Query(max_length=32)] = None,
    order: Annotated[str, Query(max_length=16)] = "-updated_at",
    after: Annotated[str | None, Query(max_length=256)] = None,
    limit: Limit = 100,
) -> SummaryList:
    """Session summaries, newest activity first by default, ``limit`` at a time.

    Filters: ``prefix`` (of the id, after the key's own prefix), ``user_id``,
    ``where[KEY]=VALUE`` (a top-level property), ``model``, ``since`` and ``until`` (of the last
    update) and ``min_cost`` (the least priced cost, USD). ``order``: ``updated_at``,
    ``created_at``, ``cost`` or ``tokens``, ``-`` first for descending. ``after``: the previous
    page's ``last_id``.
    """
    where = where_of(request, user_id)
    cursor = await cursor_after(store, after, order)
    with checked_params():
        page = await store.find_sessions(
            where, model, since, until, order, limit, cursor, store.prefix + prefix, min_cost
        )
    rows = page.items
    return SummaryList(
        data=rows,
        first_id=rows[0].id if rows else None,
        last_id=rows[-1].id if rows else None,
        has_more=page.next_cursor is not None,
    )


@router.post("", response_model=SessionOut)
async def create_session(
    request: Request,
    body: SessionCreate,
    store: Scoped,
    state: State,
    idempotency_key: IdempotencyKey = None,
) -> SessionOut | Response:
    """Create a session (a child of ``parent_id`` when given)."""

    async def write() -> SessionOut:
        metadata = SessionMetadata(properties={**body.properties, **(body.metadata or {})})
        session: Session[Any] = await Session.create(
            body.parent_id,
            store=store,
            id=store.new_id("sess_"),
            metadata=metadata,
            user_id=body.user_id,
        )
        state.metrics.sessions_created += 1
        return session_out(session)

    written = written_session(store, "sess_", session_out)
    return await idempotent(request, idempotency_key, store, write, written)


@router.get("/{session_id}", response_model=SessionOut)
async def retrieve_session(session_id: str, store: Scoped) -> SessionOut:
    """A session's header and totals."""
    return session_out(await store.require(session_id))


@router.delete("/{session_id}", response_model=Deleted)
async def delete_session(session_id: str, store: Scoped) -> Deleted:
    """Delete a session and its events."""
    await store.require(session_id)
    return Deleted(id=session_id, deleted=await store.delete(session_id))


@router.get("/{session_id}/tree", response_model=TreeOut)
async def session_tree(session_id: str, store: Scoped) -> TreeOut:
    """Ancestors, descendants and the segments of its conversation."""
    session = await store.require(session_id)
    ancestors = [found.id for found in reversed(await session.ancestors())]
    descendants = [found.id for found in await session.descendants()]
    return TreeOut(
        id=session.id,
        parent_id=session.parent_id,
        ancestors=[found for found in ancestors if store.owns(found)],
        child_ids=[found for found in session.child_ids if store.owns(found)],
        descendants=[found for found in descendants if store.owns(found)],
        segments=await segment_ids(store, session),
    )


async def segment_ids(store: TenantStore, session: Session[Any]) -> list[str]:
    """The ids of the segments of ``session``'s conversation that the tenant owns, oldest
    first."""
    return [found.id for found in await conversation_of(store, session) if store.owns(found.id)]


@router.get("/{session_id}/events", response_model=EventList)
async def list_events(
    session_id: str,
    store: Scoped,
    after: Annotated[str | None, Query(max_length=256)] = None,
    limit: Limit = 50,
    order: Order = "asc",
) -> EventList:
    """A page of events with their token usage and cost (``order=desc``: newest first)."""
    events, has_more = await read_page(store, session_id, after=after, limit=limit, order=order)
    data = [event_out(event) for event in events]
    return EventList(
        data=data,
        first_id=events[0].id if events else None,
        last_id=events[-1].id if events else None,
        has_more=has_more,
    )


@router.post("/{session_id}/events", response_model=EventList)
async def append_events(
    request: Request,
    session_id: str,
    body: EventsCreate,
    store: Scoped,
    state: State,
    idempotency_key: IdempotencyKey = None,
) -> EventList | Response:
    """Append events in order; with ``model``, their tokens are counted and priced."""

    async def write() -> EventList:
        session = await store.require_for_append(session_id)
        events = [await _event_from(item, store.new_event_id()) for item in body.events]
        for event in events:
            await session.add_event(event)
        await store.save(session)
        state.metrics.events_written += len(events)
        return _event_list(events)

    async def written() -> EventList | None:
        found = await read_written(store, session_id, [store.new_event_id() for _ in body.events])
        return None if found is None else _event_list(found)

    return await idempotent(request, idempotency_key, store, write, written)


def _event_list(events: list[SessionEvent[Any]]) -> EventList:
    return EventList(
        data=[event_out(event) for event in events],
        first_id=events[0].id,
        last_id=events[-1].id,
        has_more=False,
    )


async def _event_from(item: EventIn, event_id: str) -> SessionEvent[Any]:
    fields = item.model_dump(exclude={"model", "usage"}, exclude_none=True)
    if item.model is None:
        return SessionEvent(id=event_id, **fields)
    text = item.message if isinstance(item.message, str) else json.dumps(item.message)
    is_reply = item.source.value == "llm"
    event = await SessionEvent.create_with_tokens(
        prompt=None if is_reply else text,
        completion=text if is_reply else None,
        model=item.model,
        usage=item.usage.model_dump() if item.usage is not None else None,
        **fields,
    )
    event.id = event_id
    return event


@router.get("/{session_id}/runs", response_model=list[dict[str, Any]])
async def list_runs(session_id: str, store: Scoped) -> list[dict[str, Any]]:
    """The session's runs, oldest first."""
    session = await store.require(session_id)
    return [run.model_dump(mode="json") for run in session.runs]


@router.get("/{session_id}/prompt", response_model=list[dict[str, Any]])
async def prompt(
    session_id: str,
    store: Scoped,
    max_tokens: Annotated[int | None, Query(ge=1, le=10_000_000)] = None,
    model: Annotated[str, Query(min_length=1, max_length=200)] = "gpt-4o-mini",
    strategy: PromptStrategy | None = None,
) -> list[dict[str, Any]]:
    """The chat messages ``SessionManager.get_messages_for_llm`` would send next; with
    ``strategy``, the prompt ``build_prompt_from_session`` builds by that strategy instead."""
    session = await store.require(session_id)
    await count_prompt_off_loop(session, strategy, max_tokens, model)
    if strategy is not None:
        chosen = strategy

        async def build(budget: int | None) -> list[dict[str, Any]]:
            return await build_prompt_from_session(session, chosen, budget, model)

        return await prompt_within(build, max_tokens)
    manager = await SessionManager.open(session_id, store=store, model=model)
    try:
        return await prompt_within(manager.get_messages_for_llm, max_tokens)
    finally:
        await manager.close()


@router.get("/{session_id}/cost", response_model=CostOut)
async def cost(session_id: str, store: Scoped) -> CostOut:
    """Tokens and USD in total and by model, event source and run."""
    return await cost_out(await store.require(session_id))


async def cost_out(session: Session[Any]) -> CostOut:
    """A session's tokens and USD in total and by model, event source and run."""
    summary = session.token_summary
    return CostOut(
        total=summary.model_dump(mode="json", exclude={"usage_by_model"}),
        by_model={
            name: usage.model_dump(mode="json") for name, usage in summary.usage_by_model.items()
        },
        by_source=_dumped(await session.get_token_usage_by_source()),
        by_run=_dumped(await session.get_token_usage_by_run()),
    )


def _dumped(summaries: dict[str, Any]) -> dict[str, Any]:
    return {key: value.model_dump(mode="json") for key, value in summaries.items()}
