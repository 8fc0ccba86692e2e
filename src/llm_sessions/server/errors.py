"""One JSON error shape for every route, and one table that maps errors to it.

Every error body is OpenAI's shape, so the ``openai`` client raises its usual exceptions::

    {"error": {"message": "...", "type": "not_found_error", "param": null, "code": "not_found"}}

``code`` is stable and meant for programs; ``message`` is for people. No response ever carries
a traceback: an unexpected exception is logged here and answered with ``internal_error``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..exceptions import (
    InvalidInputError,
    InvalidSessionOperation,
    SessionAlreadyExists,
    SessionManagerError,
    SessionNotFound,
    StorageError,
    TokenLimitExceeded,
)
from .response_headers import REQUEST_ID_HEADER, SECURITY_HEADERS, request_id_of

__all__ = [
    "ERROR_RESPONSES",
    "INVALID_JSON",
    "RETRY_AFTER_SECONDS",
    "ApiError",
    "ErrorBody",
    "allowed_methods",
    "error_body",
    "error_response",
    "install_error_handlers",
    "not_found",
]

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
"""What a 503 asks the client to wait before retrying, in seconds."""


class ErrorDetail(BaseModel):
    """What went wrong: a message for people, a stable code for programs, the field if any."""

    message: str
    type: str
    param: str | None
    code: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "The body is not valid JSON in UTF-8 (`invalid_json`)",
        401: "Missing or unknown API key",
        404: "No such resource for this key (another tenant's ids read as absent)",
        409: "The operation conflicts with the session's state",
        413: "The request body is over the configured limit",
        422: "Invalid body or parameter; `error.param` names the field",
        503: "The store cannot be reached; retry after `Retry-After` seconds",
    }.items()
}
"""The documented error responses of every API route (one shape, see ``ErrorBody``)."""


@dataclass
class ApiError(Exception):
    """An error the API answers with on purpose: status, stable code, message, field."""

    status: int
    code: str
    message: str
    param: str | None = None
    headers: dict[str, str] | None = None


def not_found(what: str, identifier: str) -> ApiError:
    """404 for an id that does not exist, or that belongs to another tenant (not confirmed)."""
    return ApiError(404, "not_found", f"No {what} found with id {identifier!r}.", what + "_id")


_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    503: "service_unavailable_error",
}


def error_body(status: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    """The JSON body of an error response."""
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_response(error: ApiError) -> JSONResponse:
    """The response for an ``ApiError``."""
    body = error_body(error.status, error.code, error.message, error.param)
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def _from_library(exc: Exception) -> ApiError:
    """The ``ApiError`` for an error raised by the library below the routes."""
    if isinstance(exc, ValidationError):
        # A model the route built rejected a value (an id, say): the caller's input.
        return _invalid(exc.errors(include_url=False))
    if isinstance(exc, SessionNotFound):
        return not_found("session", exc.session_id)
    if isinstance(exc, InvalidInputError):
        return ApiError(422, "invalid_value", str(exc), exc.field)
    if isinstance(exc, TokenLimitExceeded):
        return ApiError(422, "token_limit_exceeded", str(exc), "max_tokens")
    if isinstance(exc, SessionAlreadyExists):
        return ApiError(409, "already_exists", str(exc))
    if isinstance(exc, InvalidSessionOperation):
        return ApiError(409, "invalid_operation", str(exc))
    if isinstance(exc, StorageError | TimeoutError | ConnectionError):
        logger.warning("store unavailable: %s", exc)
        return ApiError(
            503,
            "store_unavailable",
            "The session store cannot be reached; retry later.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return ApiError(500, "internal_error", "The server could not complete the request.")


def _field_of(location: Sequence[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _invalid(errors: Sequence[Any]) -> ApiError:
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    field = _field_of(first.get("loc", ()))
    message = f"{field}: {first.get('msg', 'invalid value')}"
    return ApiError(422, "invalid_value", message, field)


INVALID_JSON = "invalid_json"
"""The code of a 400: the body is not JSON, or not UTF-8."""


async def _on_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    undecodable = next((error for error in errors if error.get("type") == "json_invalid"), None)
    if undecodable is not None:
        # The location is a character offset into the text, not a field: name none.
        where = undecodable.get("loc", ("body", "?"))[-1]
        reason = (undecodable.get("ctx") or {}).get("error", "JSON decode error")
        message = f"The request body is not valid JSON: {reason} at character {where}."
        return error_response(ApiError(400, INVALID_JSON, message))
    return error_response(_invalid(errors))


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else {}
    message = str(exc.detail)
    if exc.status_code == 400:
        code, message = INVALID_JSON, "The request body is not valid JSON in UTF-8."
    elif exc.status_code == 405:
        code = "method_not_allowed"
        headers["Allow"] = ", ".join(allowed_methods(request))
    else:
        code = {404: "not_found"}.get(exc.status_code, "http_error")
    return error_response(ApiError(exc.status_code, code, message, headers=headers or None))


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at ``request``'s path (HEAD with GET)."""
    allowed = []
    for method in _METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(dict(probe))[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    if "GET" in allowed:
        allowed.append("HEAD")
    return sorted(allowed)


async def _on_api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _on_other(request: Request, exc: Exception) -> JSONResponse:
    error = _from_library(exc)
    if error.status == 503:
        request.app.state.llm_sessions.metrics.store_errors += 1
    if error.status < 500 or error.status == 503:
        return error_response(error)
    request_id = request_id_of(request.scope) or "-"
    logger.error(
        "unexpected %s while serving %s %s (request id %s): %s\n%s",
        type(exc).__name__,
        request.method,
        request.url.path,
        request_id,
        exc,
        "".join(traceback.format_exception(exc)).rstrip(),
    )
    # The catch-all answers outside the app's middleware: it sets the headers they would.
    error.headers = {**SECURITY_HEADERS, REQUEST_ID_HEADER: request_id}
    return error_response(error)


def install_error_handlers(app: FastAPI) -> None:
    """Register the one handler table on ``app``."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    for library_error in (SessionManagerError, ValidationError, TimeoutError, ConnectionError):
        app.add_exception_handler(library_error, _on_other)
    # Anything else is a bug: answered without a traceback, and still logged as one.
    app.add_exception_handler(Exception, _on_other)
