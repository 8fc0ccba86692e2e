"""A fast path in front of FastAPI's request handling, for the routes on the hot path.

FastAPI's handler reads the body, solves every dependency and validates the result again for
each request. A route of a ``FastRoute`` router whose endpoint is marked with ``fast_path``
first tries its fast handler, which does the same work directly for the plain case (a JSON
body that validates, no cookie login, no ``Idempotency-Key``); anything else, errors
included, it hands to FastAPI's own handler, so every answer but the plain success is
FastAPI's exactly. The OpenAPI document still comes from the endpoint's signature.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from .paging import Order
from .state import ServerState

__all__ = [
    "NOT_PLAIN",
    "FastHandler",
    "FastRoute",
    "Standard",
    "bearer_tenant",
    "fast_path",
    "is_json_type",
    "plain_json",
    "plain_list_query",
    "tenant_of_authorization",
]

Standard = Callable[[Request], Awaitable[Response]]
"""FastAPI's own handler of the route (what a fast handler falls back to)."""
FastHandler = Callable[[Request, Standard], Awaitable[Response]]
"""A fast handler: answers the plain case itself, hands anything else to ``Standard``."""
NOT_PLAIN = object()
"""``bearer_tenant``'s answer when the request's key is not a plain, valid Bearer key."""

_FAST: dict[Callable[..., Any], FastHandler] = {}


def fast_path(handler: FastHandler) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark an endpoint of a ``FastRoute`` router as answered first by ``handler``.

    Args:
        handler: The fast handler.

    Returns:
        A decorator that registers the endpoint and returns it unchanged (put it below the
        router's own decorator).
    """

    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        _FAST[endpoint] = handler
        return endpoint

    return mark


class FastRoute(APIRoute):
    """An ``APIRoute`` that answers through its endpoint's fast handler, if it has one."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        fast = _FAST.get(self.endpoint)
        if fast is None:
            return standard

        async def handler(request: Request) -> Response:
            return await fast(request, standard)

        return handler


def bearer_tenant(state: ServerState, request: Request) -> object:
    """The caller's tenant as ``dependencies.tenant_store`` finds it, for the plain cases:
    None without keys, the tenant of a valid Bearer key; ``NOT_PLAIN`` otherwise (no key, a
    login cookie, an unknown key: the standard handler answers those)."""
    return tenant_of_authorization(state, request.headers.get("authorization"))


def tenant_of_authorization(state: ServerState, authorization: str | None) -> object:
    """``bearer_tenant`` for the value of the request's ``Authorization`` header (None: none)."""
    if not state.keys:
        return None
    if not authorization:
        return NOT_PLAIN
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        return NOT_PLAIN
    tenant = state.keys.tenant_for(credentials)
    return NOT_PLAIN if tenant is None else tenant


def plain_json(request: Request) -> bool:
    """Whether the request declares a JSON body (as FastAPI reads it: ``application/json``)."""
    return is_json_type(request.headers.get("content-type", ""))


def is_json_type(content_type: str) -> bool:
    """Whether a ``Content-Type`` value is ``application/json`` (parameters aside)."""
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def plain_list_query(query: QueryParams) -> tuple[str | None, int, Order] | None:
    """A page query's ``after``, ``limit`` and ``order`` when each is given at most once,
    with a value the route takes and nothing else is given; None otherwise (the standard
    handler answers, with its errors)."""
    limit = query.get("limit", "20")
    if (
        len(query.multi_items()) != len(query)
        or not set(query) <= {"after", "limit", "order"}
        or not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= 100)
        or query.get("order", "desc") not in ("asc", "desc")
        or query.get("after") == ""
    ):
        return None
    return query.get("after"), int(limit), "asc" if query.get("order") == "asc" else "desc"
