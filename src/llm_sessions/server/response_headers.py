"""What every response carries, whatever answered it: a request id and the security headers.

``X-Request-Id`` is the client's own id when it sent a plausible one, else a fresh one; an
unexpected error is logged with it (see ``errors``), so a report quoting the header finds the
traceback. The security headers (``SECURITY_HEADERS``) are added to every response that did not
set its own: JSON, errors and redirects as much as the inspector's pages and the API docs, which
are served from packaged assets (``api_docs``).

A ``HEAD`` request is answered as the ``GET`` of the same path without its body, so no path
that can be read answers ``HEAD`` with 405.
"""

from __future__ import annotations

import re
from uuid import uuid4

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "REQUEST_ID_HEADER",
    "SECURITY_HEADERS",
    "ResponseHeadersMiddleware",
    "client_request_id",
    "headers_for",
    "request_id_of",
]

REQUEST_ID_HEADER = "X-Request-Id"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": under it a browser sends "Origin: null" even with a same-origin form.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
"""Sent with every response: no inline or foreign script, style or frame."""

_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str | None:
    """The id ``ResponseHeadersMiddleware`` gave the request of ``scope``, if it ran."""
    state = scope.get("state") or {}
    found = state.get("request_id")
    return found if isinstance(found, str) else None


class ResponseHeadersMiddleware:
    """Give each request an id, answer HEAD as a bodiless GET, and add the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = client_request_id(scope) or uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        added = headers_for(request_id)
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        finished = False

        async def send_with_headers(message: Message) -> None:
            nonlocal finished
            if finished:
                return
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            elif head and message["type"] == "http.response.body":
                # The GET's headers (its Content-Length included) and no body; a stream ends here.
                finished = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def client_request_id(scope: Scope) -> str | None:
    """The client's ``X-Request-Id``, when it sent a plausible one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _CLIENT_ID.fullmatch(text) else None
    return None


_SECURITY = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]


def headers_for(request_id: str) -> list[tuple[bytes, bytes]]:
    """The headers added to the response of the request ``request_id`` (a fresh list)."""
    return [*_SECURITY, (REQUEST_ID_HEADER.lower().encode(), request_id.encode())]
