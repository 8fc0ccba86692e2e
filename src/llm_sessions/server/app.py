"""The app factory: ``create_app(store=..., keys=...)`` returns the ASGI app.

Nothing happens at import time; a store given as a URL is opened on first use and closed when the
app shuts down, while a store object passed in stays the caller's to close. Extend the app with
``create_app(..., routers=[...])`` or ``app.include_router`` (every route gets the same error
shape, limits and metrics); ``tenant_store`` from ``llm_sessions.server.dependencies`` gives a
route the caller's view of the store.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from ..exceptions import InvalidInputError
from ..storage import Retention, SessionStore
from ..storage._url import DEFAULT_STORE
from . import (
    api_docs,
    conversation_streams,
    conversations,
    erasure_routes,
    fleet_routes,
    health,
    metrics_route,
    search_routes,
    sessions,
    tail,
    transfer_routes,
)
from .auth import KEYS_ENV, ApiKeys, parse_key_pairs, read_keys_file
from .errors import install_error_handlers
from .hot_path import HotPathApp
from .inspector import attachments as inspector_attachments
from .inspector import event_nodes, pages
from .inspector.logins import SESSION_SECRET_ENV, Logins, SessionTokens
from .memory import unmap_large_buffers
from .middleware import RequestMiddleware
from .response_headers import ResponseHeadersMiddleware
from .retention_task import (
    DEFAULT_INTERVAL,
    RETENTION_ENV,
    RETENTION_INTERVAL_ENV,
    RetentionSchedule,
    retention_running,
)
from .state import DEFAULT_MAX_BODY_BYTES, ServerState
from .tail_limits import TailLimits

__all__ = [
    "KEYS_FILE_ENV",
    "MAX_BODY_ENV",
    "MAX_TAILS_ENV",
    "MAX_TAILS_PER_KEY_ENV",
    "METRICS_KEY_ENV",
    "METRICS_PUBLIC_ENV",
    "STORE_ENV",
    "app_from_environment",
    "create_app",
]

STORE_ENV = "LLM_SESSIONS_STORE"
KEYS_FILE_ENV = "LLM_SESSIONS_API_KEYS_FILE"
MAX_BODY_ENV = "LLM_SESSIONS_MAX_BODY_BYTES"
MAX_TAILS_PER_KEY_ENV = "LLM_SESSIONS_MAX_TAILS_PER_KEY"
MAX_TAILS_ENV = "LLM_SESSIONS_MAX_TAILS"
METRICS_KEY_ENV = "LLM_SESSIONS_METRICS_KEY"
METRICS_PUBLIC_ENV = "LLM_SESSIONS_METRICS_PUBLIC"


def create_app(
    store: SessionStore | str | None = None,
    keys: ApiKeys | Mapping[str, str] | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    routers: Iterable[APIRouter] = (),
    session_secret: str | None = None,
    tail_limits: TailLimits | None = None,
    metrics_key: str | None = None,
    metrics_public: bool = False,
    retention: Retention | RetentionSchedule | None = None,
) -> FastAPI:
    """The HTTP API and the inspector over a store, as a FastAPI (ASGI) app.

    A store URL is opened on the first request that needs it and closed when the app shuts
    down; a store object passed in is left open.

    Args:
        store: A store, or a store URL (default: ``LLM_SESSIONS_STORE``, else
            ``sqlite:///llm-sessions.db``).
        keys: API keys mapped to tenants, as ``ApiKeys`` or a ``{key: tenant}`` mapping. None
            or empty: no keys, one tenant that sees the whole store (for loopback use).
        max_body_bytes: The largest request body accepted; a larger one gets 413.
        routers: Extra FastAPI routers mounted beside the API's own routes.
        session_secret: The secret that signs the inspector's login tokens (default:
            ``LLM_SESSIONS_SESSION_SECRET``, else a random one for this app). Processes that
            serve the same users must share one.
        tail_limits: Bounds on the live tails (default ``TailLimits()``).
        metrics_key: A Bearer key that reads ``/metrics`` besides the API keys.
        metrics_public: ``/metrics`` needs no key (for a port only this machine can reach); it
            needs none either when the app has no key at all.
        retention: A ``Retention`` applied at start, then hourly; or a ``RetentionSchedule``.

    Returns:
        The app, ready for any ASGI server.

    Raises:
        InvalidInputError: ``max_body_bytes`` is not a whole number >= 1, ``keys`` holds a
            malformed or repeated key, or ``retention`` is not a policy.
    """
    if (
        isinstance(max_body_bytes, bool)
        or not isinstance(max_body_bytes, int)
        or max_body_bytes < 1
    ):
        raise InvalidInputError("max_body_bytes", max_body_bytes, "must be a whole number >= 1")
    state = ServerState(
        store_source=os.environ.get(STORE_ENV, DEFAULT_STORE) if store is None else store,
        keys=keys if isinstance(keys, ApiKeys) else ApiKeys(keys or {}),
        max_body_bytes=max_body_bytes,
        tail_limits=tail_limits or TailLimits(),
        metrics_key=metrics_key or None,
        metrics_public=metrics_public,
        retention=_checked_schedule(retention),
    )
    secret = session_secret or os.environ.get(SESSION_SECRET_ENV)
    if secret:
        state.logins = Logins(SessionTokens(secret.encode("utf-8")))
    return _app_over(state, routers)


def _app_over(state: ServerState, routers: Iterable[APIRouter]) -> FastAPI:
    """The FastAPI app serving ``state``: every router, the error handlers, the middleware."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with retention_running(state.retention, state.store):
            yield
        await state.close()

    app = HotPathApp(
        title="llm-sessions",
        summary="Sessions of LLM applications over HTTP; OpenAI Conversations compatible.",
        lifespan=lifespan,
        # FastAPI's docs pages load their scripts from a CDN: ``api_docs`` serves its own.
        docs_url=None,
        redoc_url=None,
    )
    app.state.llm_sessions = state
    install_error_handlers(app)
    # conversation_streams first: its route takes the streamed appends of conversations' path.
    # The hot routes come before the rest: routing tries the routes in this order.
    core = [
        conversation_streams,
        conversations,
        health,
        metrics_route,
        sessions,
        fleet_routes,
        search_routes,
    ]
    core += [tail, transfer_routes, erasure_routes]
    core += [event_nodes, inspector_attachments, pages, api_docs]
    for router in (*(module.router for module in core), *routers):
        app.include_router(router)
    app.add_middleware(
        RequestMiddleware, metrics=state.metrics, max_body_bytes=state.max_body_bytes
    )
    app.add_middleware(ResponseHeadersMiddleware)
    app.take_hot_paths()
    return app


def app_from_environment(environ: Mapping[str, str] | None = None) -> FastAPI:
    """The app configured from the environment, for ``uvicorn --factory`` and worker processes.

    It reads ``LLM_SESSIONS_STORE`` (store URL), ``LLM_SESSIONS_API_KEYS``
    (``key=tenant,...``), ``LLM_SESSIONS_API_KEYS_FILE`` (one ``key=tenant`` a line),
    ``LLM_SESSIONS_MAX_BODY_BYTES``, ``LLM_SESSIONS_SESSION_SECRET`` (signs the inspector's
    login tokens), ``LLM_SESSIONS_MAX_TAILS_PER_KEY``, ``LLM_SESSIONS_MAX_TAILS``,
    ``LLM_SESSIONS_METRICS_KEY``, ``LLM_SESSIONS_METRICS_PUBLIC`` (``1``: no key for
    ``/metrics``), ``LLM_SESSIONS_RETENTION`` (a policy such as ``max_age=90d``) and
    ``LLM_SESSIONS_RETENTION_INTERVAL`` (how often it is applied, default ``1h``).

    Args:
        environ: The variables to read (default: the process environment).

    Returns:
        The app ``create_app`` makes from them.

    Raises:
        InvalidInputError: A key entry is malformed, too short or repeated, or a size or count
            variable is not a whole number.
        OSError: The keys file cannot be read.
    """
    env = os.environ if environ is None else environ
    unmap_large_buffers()
    pairs = parse_key_pairs(env.get(KEYS_ENV, ""))
    keys_file = env.get(KEYS_FILE_ENV)
    if keys_file:
        pairs += read_keys_file(Path(keys_file))
    limit = env.get(MAX_BODY_ENV, str(DEFAULT_MAX_BODY_BYTES))
    if not limit.isdigit():
        raise InvalidInputError(MAX_BODY_ENV, limit, "must be a whole number of bytes")
    store = env.get(STORE_ENV, DEFAULT_STORE)
    tails = TailLimits(
        max_per_key=_whole(env, MAX_TAILS_PER_KEY_ENV, TailLimits.max_per_key),
        max_total=_whole(env, MAX_TAILS_ENV, TailLimits.max_total),
    )
    return create_app(
        store,
        ApiKeys(pairs),
        max_body_bytes=int(limit),
        session_secret=env.get(SESSION_SECRET_ENV),
        tail_limits=tails,
        metrics_key=env.get(METRICS_KEY_ENV),
        metrics_public=env.get(METRICS_PUBLIC_ENV) == "1",
        retention=_schedule(env),
    )


def _checked_schedule(retention: object) -> RetentionSchedule | None:
    if isinstance(retention, Retention):
        return RetentionSchedule(retention)
    if retention is not None and not isinstance(retention, RetentionSchedule):
        raise InvalidInputError("retention", retention, "must be a Retention or RetentionSchedule")
    return retention


def _schedule(env: Mapping[str, str]) -> RetentionSchedule | None:
    policy = env.get(RETENTION_ENV)
    if not policy:
        return None
    interval = env.get(RETENTION_INTERVAL_ENV) or DEFAULT_INTERVAL
    return RetentionSchedule(Retention.parse(policy), interval)


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, str(default))
    if not value.isdigit():
        raise InvalidInputError(name, value, "must be a whole number")
    return int(value)
