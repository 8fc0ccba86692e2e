"""The inspector's pages: sign in, the sessions page at ``/``, a session at ``/sessions/<id>``,
usage at ``/usage``, event search at ``/search`` and the audit log at ``/audit``.

With keys configured, a page without a valid login cookie redirects to ``/login``; without keys
(loopback only) every page opens directly and sees the whole store. Every response here carries
``SECURITY_HEADERS``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...exceptions import InvalidInputError
from .. import response_headers
from ..dependencies import State, signed_in, signed_out_key, tenant_of
from ..errors import ApiError
from ..state import ServerState
from ..tenancy import TenantStore
from ._audit import audit_page
from ._search import run_search, search_page
from ._usage import UsageWindow, usage_page, usage_totals
from .assets import asset
from .key_cookie import COOKIE_NAME, clear_key_cookie, set_key_cookie
from .listing import SessionFilter, list_page
from .logins import same_origin
from .templates import error_page, login_page, session_page, sessions_page

__all__ = ["SECURITY_HEADERS", "router"]

router = APIRouter(include_in_schema=False)

SECURITY_HEADERS = {**response_headers.SECURITY_HEADERS, "Cache-Control": "no-store"}
"""Sent with every inspector page and asset: no inline or foreign script, style or frame."""

_KEPT_ASSET_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=31536000, immutable"}
"""A static file asked for by its current version: its URL changes with its content."""
_SearchText = Annotated[str, Query(max_length=256)]
_CursorText = Annotated[str | None, Query(max_length=1024)]


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


async def _viewer(request: Request, state: ServerState) -> TenantStore | None:
    """The signed-in caller's view of the store (everything without keys), or None."""
    try:
        tenant = tenant_of(state, None, await signed_in(state, request))
    except ApiError:
        return None  # no valid login cookie
    return TenantStore(await state.store(), tenant)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return _redirect(f"/login?next={quote(target, safe='')}")


def _safe_next(target: str) -> str:
    """``target`` if it is a path on this server, else ``/`` (no open redirect)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.get("/", response_class=HTMLResponse)
async def sessions(
    request: Request,
    state: State,
    prefix: _SearchText = "",
    since: _SearchText = "",
    until: _SearchText = "",
    model: _SearchText = "",
    user: _SearchText = "",
    prop: Annotated[str, Query(alias="property", max_length=200)] = "",
    min_cost: _SearchText = "",
    order: _SearchText = "",
    after: _CursorText = None,
    before: _CursorText = None,
) -> Response:
    """The caller's sessions, filtered, sorted (newest activity first by default) and paged
    by cursor."""
    store = await _viewer(request, state)
    if store is None:
        return _to_login(request)
    signed_in = bool(state.keys)
    wanted = {"prefix": prefix, "since": since, "until": until, "model": model, "user": user}
    wanted.update({"property": prop, "min_cost": min_cost, "order": order})
    try:
        wanted_sessions = SessionFilter.parse(prefix, since, until, model, user, prop, min_cost)
        listing = await list_page(store, wanted_sessions, order, after, before)
    except InvalidInputError as exc:
        return _html(sessions_page(None, wanted, signed_in=signed_in, problem=str(exc)), 422)
    return _html(sessions_page(listing, wanted, signed_in=signed_in))


@router.get("/usage", response_class=HTMLResponse)
async def usage(
    request: Request, state: State, since: _SearchText = "", until: _SearchText = ""
) -> Response:
    """Cost and tokens per day, by model and by user, of the caller's sessions."""
    store = await _viewer(request, state)
    if store is None:
        return _to_login(request)
    signed_in = bool(state.keys)
    wanted = {"since": since, "until": until}
    try:
        window = UsageWindow.parse(since, until, datetime.now(UTC).date())
        totals = await usage_totals(store, window)
    except InvalidInputError as exc:
        return _html(usage_page(None, wanted, signed_in=signed_in, problem=str(exc)), 422)
    return _html(usage_page(totals, wanted, signed_in=signed_in))


@router.get("/search", response_class=HTMLResponse)
async def search(
    request: Request,
    state: State,
    q: str | None = None,
    user: _SearchText = "",
    after: _CursorText = None,
) -> Response:
    """The caller's events whose text matches ``q``, best first, each linking to its place in
    its session; a bad query shows what is wrong with it (422), never an error page."""
    store = await _viewer(request, state)
    if store is None:
        return _to_login(request)
    outcome = await run_search(store, q, user, after)
    wanted = {"q": q or "", "user": user}
    return _html(search_page(outcome, wanted, signed_in=bool(state.keys)), outcome.status)


@router.get("/audit", response_class=HTMLResponse)
async def audit(request: Request, state: State) -> Response:
    """The erasures done within the caller's namespace, newest first (read only)."""
    store = await _viewer(request, state)
    if store is None:
        return _to_login(request)
    return _html(audit_page(await store.audit_log(), signed_in=bool(state.keys)))


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
async def session(session_id: str, request: Request, state: State) -> Response:
    """A session's page (404 for an id that is absent or another tenant's)."""
    store = await _viewer(request, state)
    if store is None:
        return _to_login(request)
    signed_in = bool(state.keys)
    if await store.read_events(session_id, limit=0) is None:
        message = f"No session found with id {session_id!r}."
        return _html(error_page("Not found", message, signed_in=signed_in), 404)
    return _html(session_page(session_id, signed_in=signed_in))


@router.get("/login", response_class=HTMLResponse)
async def login_form(state: State, next: Annotated[str, Query(max_length=2048)] = "/") -> Response:
    """The form asking for a key (straight to ``next`` when no keys are configured)."""
    if not state.keys:
        return _redirect(_safe_next(next))
    return _html(login_page(_safe_next(next)))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, state: State) -> Response:
    """Check the key from the form; keep a signed token in the login cookie and go on to
    ``next`` (see ``logins`` for the origin check and the failed-login limit)."""
    if not same_origin(request):
        return _cross_site("sign in")
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    key = form.get("key", [""])[0]
    target = _safe_next(form.get("next", ["/"])[0])
    if not state.keys:
        return _redirect(target)
    address = request.client.host if request.client is not None else "unknown"
    wait = state.logins.limiter.retry_after(address)
    if wait is not None:
        problem = f"Too many failed sign-ins from {address}; try again in {math.ceil(wait)} s."
        page = _html(login_page(target, problem), 429)
        page.headers["Retry-After"] = str(math.ceil(wait))
        return page
    if state.keys.tenant_for(key) is None:
        state.logins.limiter.failed(address)
        return _html(login_page(target, "That key is not one of this server's keys."), 401)
    response = _redirect(target)
    set_key_cookie(response, request, state.logins.tokens.issue(key))
    return response


@router.post("/logout")
async def logout(request: Request, state: State) -> Response:
    """Sign the login cookie's token out (for every copy of it) and forget the cookie."""
    if not same_origin(request):
        return _cross_site("sign out")
    claims = await signed_in(state, request, request.cookies.get(COOKIE_NAME))
    if claims is not None:
        records = state.idempotency.records(await state.store())
        await records.put(signed_out_key(claims.login_id), {}, claims.expires_at)
    response = _redirect("/login")
    clear_key_cookie(response, request)
    return response


@router.get("/favicon.ico")
async def favicon() -> Response:
    """The inspector's icon, where browsers look for it."""
    return await asset_file("favicon.ico")


def _cross_site(action: str) -> Response:
    message = f"A page of another site cannot {action} here; use this server's own form."
    return _html(error_page("Forbidden", message, signed_in=False), 403)


@router.get("/inspector/assets/{name}")
async def asset_file(name: str, v: Annotated[str, Query(max_length=64)] = "") -> Response:
    """The inspector's scripts, stylesheet and icon, from the installed package; kept by the
    browser when asked for by their current version ``v``."""
    found = asset(name)
    if found is None:
        return Response("not found", status_code=404, headers=SECURITY_HEADERS)
    headers = _KEPT_ASSET_HEADERS if v == found.version else SECURITY_HEADERS
    return Response(found.content, media_type=found.media_type, headers=headers)
