"""One page of a session's events: a single ``read_events`` call on the store, never a full load."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from ..exceptions import InvalidInputError
from ..models import SessionEvent
from .errors import ApiError, not_found
from .tenancy import TenantStore

__all__ = ["Order", "read_one", "read_one_more", "read_page", "read_written"]

Order = Literal["asc", "desc"]
_Row = TypeVar("_Row")


async def read_page(
    store: TenantStore,
    session_id: str,
    *,
    after: str | None,
    limit: int,
    order: Order,
    what: str = "session",
    cursor_name: str = "after",
) -> tuple[list[SessionEvent[Any]], bool]:
    """Up to ``limit`` events after the event ``after`` in ``order``, and whether more follow.

    404 names ``what`` when the session is absent; 422 names the cursor (``cursor_name``: the
    query parameter it came from) when it is not an event of the session.
    """
    events = await read_one_more(
        store.read_events, session_id, after, limit, order, what, cursor_name
    )
    return events[:limit], len(events) > limit


async def read_one_more(
    reader: Callable[..., Awaitable[list[_Row] | None]],
    session_id: str,
    after: str | None,
    limit: int,
    order: Order,
    what: str = "session",
    cursor_name: str = "after",
) -> list[_Row]:
    """``read_page``'s read of ``limit + 1`` events through ``reader`` (``read_events`` or a
    reader of rows), with its errors.

    Args:
        reader: The read, with ``read_events``'s arguments.
        session_id: The session's id.
        after: The cursor.
        limit: The page's size.
        order: ``asc`` or ``desc``.
        what: What a 404 calls the session.
        cursor_name: What a 422 calls the cursor.

    Returns:
        Up to ``limit + 1`` events.

    Raises:
        ApiError: 404 when the session is absent, 422 when the cursor is not its event.
    """
    newest_first = order == "desc"
    # Walking back from the newest event, "after" in list order is "before" in store order.
    try:
        events = await reader(
            session_id,
            after=None if newest_first else after,
            before=after if newest_first else None,
            limit=limit + 1,
            newest_first=newest_first,
        )
    except InvalidInputError as exc:
        if exc.field not in ("after", "before"):
            raise  # the session id itself, not the cursor
        message = f"{cursor_name}={after!r} is not an event of this {what}"
        raise ApiError(422, "invalid_value", message, cursor_name) from exc
    if events is None:
        raise not_found(what, session_id)
    return events


async def read_one(
    store: TenantStore, session_id: str, event_id: str, *, what: str = "session"
) -> SessionEvent[Any]:
    """The event ``event_id`` through two one-event page reads (never a full load), or 404."""
    try:
        previous = await store.read_events(session_id, before=event_id, limit=1, newest_first=True)
        if previous is None:
            raise not_found(what, session_id)
        after = previous[0].id if previous else None
        found = await store.read_events(session_id, after=after, limit=1)
    except InvalidInputError as exc:
        raise not_found("item", event_id) from exc
    if not found or found[0].id != event_id:
        raise not_found("item", event_id)
    return found[0]


async def read_written(
    store: TenantStore, session_id: str, event_ids: list[str]
) -> list[SessionEvent[Any]] | None:
    """The events ``event_ids``, appended together, as stored; None if they are not all there.

    Two page reads: the event before the first one, then as many as were appended after it.
    """
    try:
        previous = await store.read_events(
            session_id, before=event_ids[0], limit=1, newest_first=True
        )
        if previous is None:
            return None
        after = previous[0].id if previous else None
        found = await store.read_events(session_id, after=after, limit=len(event_ids))
    except InvalidInputError:
        return None  # the first event is not there: nothing was written
    if found is None or [event.id for event in found] != event_ids:
        return None
    return found
