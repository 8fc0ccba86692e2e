"""Lists and totals across sessions over HTTP, read from the stores' summaries (no session
is loaded): the helpers the listing routes share, and ``GET /v1/usage``.

Filters arrive as query parameters: ``user_id=``, ``where[KEY]=VALUE`` (a top-level property;
VALUE is the JSON scalar it spells, else text) and ``metadata[KEY]=VALUE`` for conversations.
A page resumes ``after`` a session id: the position of that session in the order asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ..exceptions import InvalidInputError
from ..storage._fleet_checks import MAX_LIMIT, encode_cursor, scalar_from_text
from ..storage._fleet_query import SessionQuery
from ..storage._summaries import SessionSummary
from .dependencies import Scoped
from .errors import ERROR_RESPONSES, ApiError
from .session_schema import UsageList
from .tenancy import TenantStore

__all__ = ["bracketed", "checked_params", "cursor_after", "router", "where_of"]

router = APIRouter(prefix="/v1/usage", tags=["sessions"], responses=ERROR_RESPONSES)


def bracketed(request: Request, name: str) -> dict[str, str]:
    """The query parameters ``name[KEY]=VALUE``, as ``{KEY: VALUE}``.

    Args:
        request: The request.
        name: The parameter family (``where``, ``metadata``).

    Returns:
        Each key with its text value.

    Raises:
        ApiError: A 422 naming a parameter without a key, or given twice.
    """
    found: dict[str, str] = {}
    for param, value in request.query_params.multi_items():
        if not (param.startswith(f"{name}[") and param.endswith("]")):
            continue
        key = param[len(name) + 1 : -1]
        if not key or key in found:
            reason = "names no key" if not key else "is given twice"
            raise ApiError(422, "invalid_value", f"{param} {reason}", param)
        found[key] = value
    return found


def where_of(request: Request, user_id: str | None) -> dict[str, Any]:
    """The ``where`` of ``find_sessions`` from ``user_id=`` and ``where[KEY]=VALUE``."""
    where: dict[str, Any] = {
        key: scalar_from_text(text) for key, text in bracketed(request, "where").items()
    }
    if user_id is not None:
        where["user_id"] = user_id
    return where


@contextmanager
def checked_params() -> Iterator[None]:
    """Turn a store's ``InvalidInputError`` into a 422 naming the query parameter."""
    try:
        yield
    except InvalidInputError as exc:
        field = exc.field
        if field.startswith("where['") and field.endswith("']"):
            field = f"where[{field[7:-2]}]"
        raise ApiError(422, "invalid_value", str(exc), field) from exc


async def _summary_of(store: TenantStore, session_id: str) -> SessionSummary | None:
    cursor = None
    while True:
        page = await store.find_sessions(
            prefix=session_id, order="created_at", limit=MAX_LIMIT, cursor=cursor
        )
        for row in page.items:
            if row.id == session_id:
                return row
        if page.next_cursor is None:
            return None
        cursor = page.next_cursor


async def cursor_after(store: TenantStore, after: str | None, order: str) -> str | None:
    """The ``find_sessions`` cursor that resumes after the session ``after`` in ``order``.

    Args:
        store: The tenant's store.
        after: The last id of the previous page, or None for the first page.
        order: The ``find_sessions`` order.

    Returns:
        The cursor, or None for the first page.

    Raises:
        ApiError: A 422 naming ``after`` when it is not one of the tenant's sessions, or
            ``order`` when that is not a sort key.
    """
    if after is None:
        return None
    with checked_params():
        query = SessionQuery.checked(order=order)
    row = await _summary_of(store, after)
    if row is None:
        raise ApiError(422, "invalid_value", f"after={after!r} is not a listed session", "after")
    return encode_cursor(query.order, query.keyset(row))


@router.get("", response_model=UsageList)
async def usage(
    request: Request,
    store: Scoped,
    group_by: Annotated[list[str], Query(max_length=6)] = ["user_id", "day"],  # noqa: B006
    user_id: Annotated[str | None, Query(max_length=256)] = None,
    since: Annotated[str | None, Query(max_length=64)] = None,
    until: Annotated[str | None, Query(max_length=64)] = None,
) -> UsageList:
    """Sessions, events, tokens and cost totalled by ``group_by`` (``user_id``, ``model``,
    ``day``, ``month`` or property names), over this key's sessions."""
    with checked_params():
        rows = await store.usage(
            tuple(group_by), where_of(request, user_id), since=since, until=until
        )
    return UsageList(data=rows)
