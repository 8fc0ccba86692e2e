"""The ASGI layer around every request: the body size limit, metrics and a span.

Plain ASGI rather than ``BaseHTTPMiddleware``, so streamed responses (the live tail) pass
through untouched and a body is never read twice. A streamed append's body is not buffered:
its route reads it as it arrives, under the same size limit.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import telemetry
from .errors import ApiError, error_body
from .metrics import Metrics, method_label

__all__ = ["RequestMiddleware", "is_streamed_body", "note_request"]


class RequestMiddleware:
    """Refuse bodies over ``max_body_bytes`` (413); count and time every request."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        method = method_label(scope["method"])
        attributes = {"http.request.method": method, "url.path": scope["path"]}
        with telemetry.span(f"{method} {scope['path']}", attributes) as current:
            try:
                if is_streamed_body(scope):  # read by the route as it arrives, not buffered
                    await self.app(scope, _counted(receive, self.max_body_bytes), send_and_note)
                    return
                body = await self._bounded_body(scope, receive)
                if body is None:
                    await _too_large(send_and_note, self.max_body_bytes)
                else:
                    await self.app(scope, replay_body(body, receive), send_and_note)
            finally:
                # An error the app did not answer still counts, as the 500 it becomes.
                template = getattr(scope.get("route"), "path", "unmatched")
                note_request(self.metrics, current, method, template, status["code"], started)

    async def _bounded_body(self, scope: Scope, receive: Receive) -> list[Message] | None:
        """The request's body messages, or None when the body is over the limit."""
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return []
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return None
            if message["type"] != "http.request" or not message.get("more_body", False):
                return messages


def note_request(
    metrics: Metrics, current: Any, method: str, template: str, status: int, started: float
) -> None:
    """Count a finished request in ``metrics`` and finish its span (``current``, None when
    telemetry is off): named by the route template (low cardinality), with the status."""
    metrics.observe_request(method, template, status, time.perf_counter() - started)
    if current is not None:
        current.update_name(f"{method} {template}")
        current.set_attribute("http.route", template)
        current.set_attribute("http.response.status_code", status)


def is_streamed_body(scope: Scope) -> bool:
    """Whether the request is a streamed append (``POST .../items?stream=true``), whose body
    the route reads chunk by chunk (see ``conversation_streams``)."""
    if scope["method"] != "POST" or not scope["path"].endswith("/items"):
        return False
    return ("stream", ["true"]) in parse_qs(scope.get("query_string", b"").decode()).items()


def _counted(receive: Receive, limit: int) -> Receive:
    """A ``receive`` that refuses, with 413, a streamed body that grows past ``limit``."""
    size = 0

    async def counting() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            text = f"The request body is larger than the limit of {limit} bytes."
            raise ApiError(413, "payload_too_large", text, "body")
        return message

    return counting


def replay_body(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands back the buffered body, then the client's own messages."""
    pending = list(messages)

    async def replaying() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replaying


async def _too_large(send: Send, limit: int) -> None:
    message = f"The request body is larger than the limit of {limit} bytes."
    body: dict[str, Any] = error_body(413, "payload_too_large", message, "body")
    payload = json.dumps(body).encode()
    # Close rather than read the rest: a client that declared 100 MB would otherwise be read
    # (and the bytes thrown away) to keep the connection.
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
