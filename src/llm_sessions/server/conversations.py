"""The OpenAI-compatible Conversations API: ``/v1/conversations`` and its items.

Any session is a conversation and any of its events an item; the item cursor is the event id,
and a page is one ``read_events`` call on the store.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from ..api._system_prompt import SystemPromptIndex
from ..conversations import compact_history
from ..exceptions import SessionNotFound
from ..models import Session
from ..prompting import Compaction
from ..prompting._builder import check_prompt_arguments, load_tokenizer
from .conversation_attachments import AttachmentParts, store_item_attachments
from .conversation_items import (
    conversation_of,
    event_from_item,
    item_of,
    set_conversation_metadata,
)
from .conversation_list import conversation_page
from .conversation_schema import (
    ConversationCreate,
    ConversationDeleted,
    ConversationList,
    ConversationOut,
    ConversationUpdate,
    ItemList,
    ItemOut,
    ItemsCreate,
)
from .dependencies import Scoped, State
from .errors import ERROR_RESPONSES, not_found
from .fast_json import model_response
from .fast_routes import (
    NOT_PLAIN,
    FastRoute,
    Standard,
    bearer_tenant,
    fast_path,
    plain_json,
    plain_list_query,
)
from .fleet_routes import bracketed
from .idempotency import IDEMPOTENCY_HEADER, IdempotencyKey, idempotent, written_session
from .item_rows import page_json
from .paging import Order, read_one, read_one_more, read_page, read_written
from .state import ServerState
from .tenancy import TenantStore

__all__ = ["append_items", "items_page", "router"]

router = APIRouter(
    prefix="/v1/conversations",
    tags=["conversations (OpenAI-compatible)"],
    responses=ERROR_RESPONSES,
    route_class=FastRoute,
)


@router.get("", response_model=ConversationList)
async def list_conversations(
    request: Request,
    store: Scoped,
    after: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Order = "desc",
) -> ConversationList:
    """The key's conversations by creation time, newest first by default (a listing OpenAI's
    API does not have). ``metadata[KEY]=VALUE`` keeps those whose metadata has that value;
    ``after`` is the ``last_id`` of the previous page."""
    metadata = bracketed(request, "metadata")
    return await conversation_page(store, after=after, limit=limit, order=order, metadata=metadata)


@router.post("", response_model=ConversationOut)
async def create_conversation(
    request: Request,
    body: ConversationCreate,
    store: Scoped,
    state: State,
    idempotency_key: IdempotencyKey = None,
) -> ConversationOut | Response:
    """Create a conversation, with metadata and up to 20 initial items, and ``user_id`` (who it
    belongs to). Each metadata pair is also a top-level property of the session."""

    async def write() -> ConversationOut:
        session: Session[Any] = Session(id=store.new_id("conv_"))
        session.metadata.user_id = body.user_id
        if body.metadata is not None:
            set_conversation_metadata(session, body.metadata)
        stored = await store_item_attachments(body.items or [], store)
        for index, item in enumerate(body.items or []):
            await session.add_event(event_from_item(item, store.new_event_id, _of(stored, index)))
        await store.save(session)
        state.metrics.sessions_created += 1
        state.metrics.events_written += len(body.items or [])
        return conversation_of(session)

    written = written_session(store, "conv_", conversation_of)
    return await idempotent(request, idempotency_key, store, write, written)


@router.get("/{conversation_id}", response_model=ConversationOut)
async def retrieve_conversation(conversation_id: str, store: Scoped) -> ConversationOut:
    """A conversation's id, creation time and metadata."""
    return conversation_of(await store.require(conversation_id, "conversation"))


@router.post("/{conversation_id}", response_model=ConversationOut)
async def update_conversation(
    conversation_id: str, body: ConversationUpdate, store: Scoped
) -> ConversationOut:
    """Replace a conversation's metadata (and the properties its pairs set)."""
    session = await store.require(conversation_id, "conversation")
    set_conversation_metadata(session, body.metadata or {})
    await session.metadata.update_timestamp()
    await store.save(session)
    return conversation_of(session)


@router.delete("/{conversation_id}", response_model=ConversationDeleted)
async def delete_conversation(conversation_id: str, store: Scoped) -> ConversationDeleted:
    """Delete a conversation and its items."""
    if not await store.delete(conversation_id):
        raise not_found("conversation", conversation_id)
    return ConversationDeleted(id=conversation_id, deleted=True)


async def _append_fast(request: Request, standard: Standard) -> Response:
    """``create_items`` for the plain request (see ``fast_routes``): one model parse, the
    key check, the write and the response, without FastAPI's dependency solving."""
    state: ServerState = request.app.state.llm_sessions
    tenant = bearer_tenant(state, request)
    if tenant is NOT_PLAIN or not plain_json(request) or IDEMPOTENCY_HEADER in request.headers:
        return await standard(request)
    try:
        body = ItemsCreate.model_validate_json(await request.body())
    except ValueError:
        return await standard(request)  # its error, in FastAPI's words
    owner = tenant if isinstance(tenant, str) else None
    store = TenantStore(await state.store(), owner, state.wakeups.notify)
    conversation_id = request.path_params["conversation_id"]
    return model_response(await append_items(store, state, conversation_id, body))


@router.post("/{conversation_id}/items", response_model=ItemList)
@fast_path(_append_fast)
async def create_items(
    request: Request,
    conversation_id: str,
    body: ItemsCreate,
    store: Scoped,
    state: State,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Append up to 20 items, in order."""

    async def write() -> ItemList:
        return await append_items(store, state, conversation_id, body)

    async def written() -> ItemList | None:
        planned = [event_from_item(item, store.new_event_id).id for item in body.items]
        found = await read_written(store, conversation_id, planned)
        return None if found is None else _page([item_of(e) for e in found], has_more=False)

    return model_response(await idempotent(request, idempotency_key, store, write, written))


async def append_items(
    store: TenantStore, state: ServerState, conversation_id: str, body: ItemsCreate
) -> ItemList:
    """Write ``body``'s items as events (one store write where the store allows it: no read
    of the conversation first) and answer with them as items.

    Args:
        store: The caller's view of the store.
        state: The app's state (its metrics count the events).
        conversation_id: The conversation's id.
        body: The checked request body.

    Returns:
        The items written, as the route answers.

    Raises:
        ApiError: 404 when the conversation is absent or another tenant's.
    """
    session = await store.for_append(conversation_id, "conversation")
    stored = await store_item_attachments(body.items, store)
    events = [
        event_from_item(item, store.new_event_id, _of(stored, index))
        for index, item in enumerate(body.items)
    ]
    for event in events:
        await session.add_event(event)
    try:
        await store.save(session)
    except SessionNotFound as exc:
        raise not_found("conversation", conversation_id) from exc
    state.metrics.events_written += len(events)
    return _page([item_of(event) for event in events], has_more=False)


async def _list_fast(request: Request, standard: Standard) -> Response:
    """``list_items`` for the plain request (see ``fast_routes``): ``after``, ``limit`` and
    ``order`` given at most once each, with values the route takes."""
    state: ServerState = request.app.state.llm_sessions
    tenant = bearer_tenant(state, request)
    query = plain_list_query(request.query_params)
    if tenant is NOT_PLAIN or query is None:
        return await standard(request)
    owner = tenant if isinstance(tenant, str) else None
    store = TenantStore(await state.store(), owner, state.wakeups.notify)
    conversation_id = request.path_params["conversation_id"]
    return model_response(await items_page(store, conversation_id, *query))


@router.get("/{conversation_id}/items", response_model=ItemList)
@fast_path(_list_fast)
async def list_items(
    conversation_id: str,
    store: Scoped,
    after: Annotated[str | None, Query(description="List items after this item id")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Order = "desc",
) -> Response:
    """A page of items; ``after`` is the ``last_id`` of the previous page."""
    return model_response(await items_page(store, conversation_id, after, limit, order))


async def items_page(
    store: TenantStore, conversation_id: str, after: str | None, limit: int, order: Order
) -> ItemList | bytes:
    """A page of the conversation's items, as ``list_items`` answers: its JSON written from
    the stored rows when they are plain text messages (see ``item_rows``), else the model.

    Args:
        store: The caller's view of the store.
        conversation_id: The conversation's id.
        after: The id of the item the page follows, or None for the first page.
        limit: How many items at most.
        order: ``asc`` (oldest first) or ``desc``.

    Returns:
        The page, or its JSON.

    Raises:
        ApiError: 404 when the conversation is absent; 422 when ``after`` is not its item.
    """
    rows_reader = store.rows_reader()
    if rows_reader is not None:
        rows = await read_one_more(
            rows_reader, conversation_id, after, limit, order, "conversation"
        )
        written = page_json(rows, limit)
        if written is not None:
            return written
    events, has_more = await read_page(
        store, conversation_id, after=after, limit=limit, order=order, what="conversation"
    )
    return _page([item_of(event) for event in events], has_more=has_more)


@router.get("/{conversation_id}/items/{item_id}", response_model=ItemOut)
async def retrieve_item(conversation_id: str, item_id: str, store: Scoped) -> ItemOut:
    """One item."""
    return item_of(await read_one(store, conversation_id, item_id, what="conversation"))


@router.delete("/{conversation_id}/items/{item_id}", response_model=ConversationOut)
async def delete_item(conversation_id: str, item_id: str, store: Scoped) -> ConversationOut:
    """Remove one item; answers with the conversation."""
    session = await store.require(conversation_id, "conversation")
    if not any(event.id == item_id for event in session.events):
        raise not_found("item", item_id)
    await session.remove_events([item_id])
    return conversation_of(session)


class CompactRequest(BaseModel):
    """The compaction policy to run once (see ``Compaction``); the summary is extractive."""

    model_config = ConfigDict(extra="forbid")

    trim_tool_results_after_turns: int | None = None
    summarize_at_tokens: int | None = None
    keep_recent_tokens: int = 20_000
    force: bool = False
    model: str = "gpt-4o-mini"


@router.post("/{conversation_id}/compact")
async def compact_conversation(
    conversation_id: str, body: CompactRequest, store: Scoped
) -> dict[str, Any]:
    """Run staged compaction on a conversation now and say what it did.

    Over ``summarize_at_tokens`` (or with ``force``), the oldest items, all but
    ``keep_recent_tokens`` of the newest, are summarised (extractively) into a compaction item
    that stands for them in prompts; the items stay. Stage 1 is counted, not stored.
    """
    policy = Compaction(
        trim_tool_results_after_turns=body.trim_tool_results_after_turns,
        summarize_at_tokens=body.summarize_at_tokens,
        keep_recent_tokens=body.keep_recent_tokens,
    )
    check_prompt_arguments(None, body.model)
    await load_tokenizer(body.model)
    session = await store.require(conversation_id, "conversation")
    history = SystemPromptIndex().history(session.events)
    report = await compact_history(session, history, policy, None, body.model, force=body.force)
    return report.as_dict()


def _page(items: list[ItemOut], *, has_more: bool) -> ItemList:
    return ItemList(
        data=items,
        first_id=items[0].id if items else None,
        last_id=items[-1].id if items else None,
        has_more=has_more,
    )


def _of(stored: AttachmentParts, index: int) -> dict[int, dict[str, Any]]:
    return {at: part for (item, at), part in stored.items() if item == index}
