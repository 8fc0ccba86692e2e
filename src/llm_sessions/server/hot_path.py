"""Appending and listing conversation items before FastAPI's middleware and routing.

Each layer of the app (the error middleware, FastAPI's own, ``ResponseHeadersMiddleware``,
``RequestMiddleware``, the exception middleware, the router and the route) is a call or two per
request, and routing tries the routes one by one: on the two hot routes that was a third of the
server's CPU. An app made by ``create_app`` answers ``POST`` and ``GET
/v1/conversations/{id}/items`` in the plain case (as ``fast_routes`` defines it) itself: it does
what the middleware does (the body limit, the request id and security headers, the metrics, the
span), then what the route does, and answers an error through the app's own exception handlers,
as the exception middleware (or, for an unexpected error, the error middleware) would.

Anything else goes through the whole app, its body replayed if it was read: a request that is
not plain, any request while the app has middleware or dependency overrides added after
``create_app``, or while FastAPI's own telemetry is on.
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast
from uuid import uuid4

from fastapi import FastAPI
from pydantic import BaseModel
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send

from .. import telemetry
from .conversation_schema import ItemsCreate
from .conversations import append_items, items_page
from .fast_routes import NOT_PLAIN, is_json_type, plain_list_query, tenant_of_authorization
from .idempotency import IDEMPOTENCY_HEADER
from .middleware import is_streamed_body, note_request, replay_body
from .response_headers import client_request_id, headers_for
from .state import ServerState
from .tenancy import TenantStore

__all__ = ["ITEMS_TEMPLATE", "HotPathApp"]

ITEMS_TEMPLATE = "/v1/conversations/{conversation_id}/items"
"""The route template the hot routes are counted under (the route's own)."""
_ITEMS = re.compile(r"/v1/conversations/([^/]+)/items")
_IDEMPOTENCY = IDEMPOTENCY_HEADER.lower().encode()
_WANTED = {b"authorization", b"content-type", b"content-length", _IDEMPOTENCY}
_JSON_TYPE = (b"content-type", b"application/json")

Work = Callable[[], Awaitable[BaseModel | bytes]]


class HotPathApp(FastAPI):
    """A FastAPI app that answers the plain item appends and pages itself (see the module)."""

    _own_middleware: int | None = None

    def take_hot_paths(self) -> None:
        """Answer the hot routes directly from now on, while the middleware is what it is
        now (``create_app`` calls this once its own middleware is in place)."""
        self._own_middleware = len(self.user_middleware)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "GET"):
            found = _ITEMS.fullmatch(scope["path"])
            if found is not None and self._untouched(scope):
                if scope["method"] == "GET":
                    await self._list(scope, receive, send, found.group(1))
                    return
                if not is_streamed_body(scope):
                    await self._append(scope, receive, send, found.group(1))
                    return
        await super().__call__(scope, receive, send)

    def _untouched(self, scope: Scope) -> bool:
        """Whether the app is still as ``create_app`` made it, with nothing around the routes
        that the hot path would skip."""
        native = getattr(self, "_native_telemetry", None)
        return (
            self._own_middleware == len(self.user_middleware)
            and not self.dependency_overrides
            and not self.root_path
            and not scope.get("root_path")
            and (native is None or not native.enabled())
        )

    async def _append(self, scope: Scope, receive: Receive, send: Send, conversation: str) -> None:
        state: ServerState = self.state.llm_sessions
        headers = _headers(scope)
        tenant = tenant_of_authorization(state, _text(headers.get(b"authorization")))
        if (
            tenant is NOT_PLAIN
            or not is_json_type(_text(headers.get(b"content-type")) or "")
            or _IDEMPOTENCY in headers
            or _declared_over(headers, state.max_body_bytes)
        ):
            await super().__call__(scope, receive, send)
            return
        messages, complete = await _bounded_body(receive, state.max_body_bytes)
        body = None
        if complete:
            try:
                body = ItemsCreate.model_validate_json(b"".join(m["body"] for m in messages))
            except ValueError:
                body = None  # its error in FastAPI's words, below
        if body is None:
            await super().__call__(scope, replay_body(messages, receive), send)
            return
        items = body

        async def work() -> BaseModel:
            store = TenantStore(await state.store(), _owner(tenant), state.wakeups.notify)
            return await append_items(store, state, conversation, items)

        await self._answer(scope, receive, send, work)

    async def _list(self, scope: Scope, receive: Receive, send: Send, conversation: str) -> None:
        state: ServerState = self.state.llm_sessions
        headers = _headers(scope)
        tenant = tenant_of_authorization(state, _text(headers.get(b"authorization")))
        query = plain_list_query(QueryParams(scope["query_string"]))
        if tenant is NOT_PLAIN or query is None or _declared_over(headers, state.max_body_bytes):
            await super().__call__(scope, receive, send)
            return

        async def work() -> BaseModel | bytes:
            store = TenantStore(await state.store(), _owner(tenant), state.wakeups.notify)
            return await items_page(store, conversation, *query)

        await self._answer(scope, receive, send, work)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, work: Work) -> None:
        """Run ``work`` and send its answer, doing the middleware's part around it."""
        state: ServerState = self.state.llm_sessions
        started = time.perf_counter()
        request_id = client_request_id(scope) or uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        scope["app"] = self
        method = scope["method"]
        status = 500
        attributes = {"http.request.method": method, "url.path": scope["path"]}
        with telemetry.span(f"{method} {scope['path']}", attributes) as current:
            try:
                try:
                    result = await work()
                except Exception as exc:
                    status = await self._answer_error(scope, receive, send, request_id, exc)
                    return
                body = (
                    result
                    if isinstance(result, bytes)
                    else result.__pydantic_serializer__.to_json(result)
                )
                head = [(b"content-length", str(len(body)).encode()), _JSON_TYPE]
                start = {"type": "http.response.start", "status": 200}
                await send({**start, "headers": [*head, *headers_for(request_id)]})
                status = 200
                await send({"type": "http.response.body", "body": body})
            finally:
                note_request(state.metrics, current, method, ITEMS_TEMPLATE, status, started)

    async def _answer_error(
        self, scope: Scope, receive: Receive, send: Send, request_id: str, exc: Exception
    ) -> int:
        """Answer ``exc`` with the handler the app has for it; its status. An error no handler
        takes is answered by the catch-all, outside the headers, and raised again."""
        handler = _handler_for(self.exception_handlers, exc)
        request = Request(scope, receive)
        if handler is None:
            catch_all = self.exception_handlers.get(500) or self.exception_handlers.get(Exception)
            if catch_all is None:
                response: Response = PlainTextResponse("Internal Server Error", status_code=500)
            else:
                response = await _called(catch_all, request, exc)
            await response(scope, receive, send)
            raise exc
        response = await _called(handler, request, exc)
        added = headers_for(request_id)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await response(scope, receive, send_with_headers)
        return response.status_code


def _handler_for(handlers: dict[Any, Any], exc: Exception) -> Any:
    """The handler the exception middleware would pick for ``exc`` (None: the catch-all's)."""
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    for kind in type(exc).__mro__:
        if kind is not Exception and kind in handlers:
            return handlers[kind]
    return None


async def _called(handler: Any, request: Request, exc: Exception) -> Response:
    response: Any = handler(request, exc)
    if inspect.isawaitable(response):
        response = await response
    return cast(Response, response)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The first value of each header the hot path reads."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _WANTED and name not in found:
            found[name] = value
    return found


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _owner(tenant: object) -> str | None:
    return tenant if isinstance(tenant, str) else None


def _declared_over(headers: dict[bytes, bytes], limit: int) -> bool:
    declared = headers.get(b"content-length")
    return declared is not None and declared.isdigit() and int(declared) > limit


async def _bounded_body(receive: Receive, limit: int) -> tuple[list[Message], bool]:
    """The request's body messages, up to the last one or the first past ``limit``, and
    whether they are the whole body within the limit."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        size += len(message.get("body", b""))
        if size > limit or message["type"] != "http.request":
            return messages, False
        if not message.get("more_body", False):
            return messages, True
