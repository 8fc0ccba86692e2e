"""One page of a session's events: a single ``read_events`` call on the store, never a full load."""

from __future__ import annotations

from typing import Any, Literal

from ..exceptions import InvalidInputError
from ..models.session_event import SessionEvent
from .errors import ApiError, not_found
from .tenancy import TenantStore

__all__ = ["Order", "read_page"]

Order = Literal["asc", "desc"]


async def read_page(
    store: TenantStore,
    session_id: str,
    *,
    after: str | None,
    limit: int,
    order: Order,
    what: str = "session",
) -> tuple[list[SessionEvent[Any]], bool]:
    """Up to ``limit`` events after the event ``after`` in ``order``, and whether more follow.

    404 names ``what`` when the session is absent; 422 names ``after`` when it is not an event of
    the session.
    """
    newest_first = order == "desc"
    # Walking back from the newest event, "after" in list order is "before" in store order.
    try:
        events = await store.read_events(
            session_id,
            after=None if newest_first else after,
            before=after if newest_first else None,
            limit=limit + 1,
            newest_first=newest_first,
        )
    except InvalidInputError as exc:
        message = f"after={after!r} is not an event of this {what}"
        raise ApiError(422, "invalid_value", message, "after") from exc
    if events is None:
        raise not_found(what, session_id)
    return events[:limit], len(events) > limit
