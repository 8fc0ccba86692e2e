"""``GET /v1/search``: events of this key's sessions whose text matches, best first.

``q`` is words and ``"quoted phrases"`` (see ``SessionStore.search``); ``user_id=`` and
``where[KEY]=VALUE`` narrow it to some sessions. A page resumes ``after`` the previous page's
``next_cursor``. A bad query (empty, too long, no words) or a cursor from another query is a
422 naming the parameter.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from ..exceptions import InvalidInputError
from ..storage import SearchHit
from ..storage._search_query import MAX_SEARCH_LIMIT
from .dependencies import Scoped
from .errors import ERROR_RESPONSES
from .fleet_routes import checked_params, where_of

__all__ = ["SearchList", "router"]

_PARAMS = {"query": "q", "cursor": "after"}

router = APIRouter(prefix="/v1/search", tags=["sessions"], responses=ERROR_RESPONSES)


class SearchList(BaseModel):
    """A page of hits: ``first_id``/``last_id`` are event ids; pass ``next_cursor`` as
    ``after=`` for the next page."""

    object: Literal["list"] = "list"
    data: list[SearchHit]
    first_id: str | None
    last_id: str | None
    has_more: bool
    next_cursor: str | None


@router.get("", response_model=SearchList)
async def search(
    request: Request,
    store: Scoped,
    q: Annotated[str, Query(max_length=10_000)],
    user_id: Annotated[str | None, Query(max_length=256)] = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
    until: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT)] = 20,
    after: Annotated[str | None, Query(max_length=2048)] = None,
    mode: Annotated[str, Query(max_length=16)] = "text",
) -> SearchList:
    """Events whose text matches ``q``, best first, in this key's sessions (``mode``:
    ``text``, or ``semantic``/``hybrid`` on a store given an embedder)."""
    where = where_of(request, user_id)
    with checked_params():
        try:
            page = await store.search(
                q, where or None, since=since, until=until, limit=limit, cursor=after, mode=mode
            )
        except InvalidInputError as exc:
            exc.field = _PARAMS.get(exc.field, exc.field)  # named as the request names it
            raise
    hits = page.items
    return SearchList(
        data=hits,
        first_id=hits[0].event_id if hits else None,
        last_id=hits[-1].event_id if hits else None,
        has_more=page.next_cursor is not None,
        next_cursor=page.next_cursor,
    )
