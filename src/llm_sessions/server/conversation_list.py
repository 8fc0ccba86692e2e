"""``GET /v1/conversations``: the listing OpenAI's Conversations API lacks, read from the
stores' summaries. Every session of the key is a conversation; ``metadata[KEY]=VALUE``
keeps those whose conversation metadata has that value."""

from __future__ import annotations

from typing import Any

from ..storage._fleet_checks import MAX_LIMIT
from ..storage._summaries import SessionSummary
from .conversation_items import METADATA_PROPERTY
from .conversation_schema import ConversationList, ConversationOut
from .fleet_routes import checked_params, cursor_after
from .tenancy import TenantStore

__all__ = ["conversation_page"]


def _metadata(row: SessionSummary) -> dict[str, Any]:
    stored = row.properties.get(METADATA_PROPERTY)
    return stored if isinstance(stored, dict) else {}


def _conversation(row: SessionSummary) -> ConversationOut:
    return ConversationOut(
        id=row.id, created_at=int(row.created_at.timestamp()), metadata=_metadata(row)
    )


async def conversation_page(
    store: TenantStore, *, after: str | None, limit: int, order: str, metadata: dict[str, str]
) -> ConversationList:
    """A page of the key's conversations by creation time.

    Args:
        store: The tenant's store.
        after: The previous page's ``last_id``, or None.
        limit: The page size.
        order: ``asc`` or ``desc`` (by ``created_at``).
        metadata: Keep conversations whose metadata has each of these values.

    Returns:
        The page, in the list shape of items.

    Raises:
        ApiError: A 422 naming ``after`` when it is not one of the key's sessions.
    """
    sort = "created_at" if order == "asc" else "-created_at"
    cursor = await cursor_after(store, after, sort)
    found: list[SessionSummary] = []
    more = True
    # Metadata is not indexed: without a filter one page is read, with one the pages are
    # read (summaries only) until a page of matches is found.
    while more and len(found) <= limit:
        size = limit + 1 if not metadata else MAX_LIMIT
        with checked_params():
            page = await store.find_sessions(
                order=sort, limit=size, cursor=cursor, prefix=store.prefix
            )
        found += [
            row
            for row in page.items
            if all(_metadata(row).get(key) == value for key, value in metadata.items())
        ]
        cursor, more = page.next_cursor, page.next_cursor is not None
    data = [_conversation(row) for row in found[:limit]]
    return ConversationList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=len(found) > limit,
    )
