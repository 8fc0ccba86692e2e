"""The inspector's login cookie: a signed, expiring token, kept where page scripts cannot read it.

A browser cannot attach ``Authorization: Bearer`` to page loads or to an ``EventSource``, so the
inspector asks for the key once and the server hands back a cookie that is ``HttpOnly`` (no
script can read it), ``SameSite=Strict`` (no other site's page can make the browser send it) and
``Secure`` when the request came over https. The cookie holds a token signed by the server
(``logins.SessionTokens``), never the key: a copied cookie does not reveal the key, and stops
working at logout, at its expiry, or when its key is removed from the configuration.

Requests that change something (any method but GET/HEAD/OPTIONS) and authenticate by the cookie
must also carry ``X-Requested-With: llm-sessions-inspector``: a page of another origin cannot set
that header without a CORS preflight this server never grants.
"""

from __future__ import annotations

from fastapi import Request, Response

__all__ = [
    "COOKIE_NAME",
    "CSRF_HEADER",
    "CSRF_VALUE",
    "clear_key_cookie",
    "cookie_token",
    "set_key_cookie",
]

COOKIE_NAME = "llm_sessions_login"
CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "llm-sessions-inspector"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def cookie_token(request: Request) -> str | None:
    """The token the login cookie carries, or None (also for a change without the CSRF
    header)."""
    token = request.cookies.get(COOKIE_NAME)
    if token is None:
        return None
    if request.method not in _SAFE_METHODS and request.headers.get(CSRF_HEADER) != CSRF_VALUE:
        return None
    return token


def set_key_cookie(response: Response, request: Request, token: str) -> None:
    """Keep ``token`` in the login cookie (session cookie: gone when the browser closes)."""
    response.set_cookie(
        COOKIE_NAME,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_key_cookie(response: Response, request: Request) -> None:
    """Remove the login cookie."""
    response.delete_cookie(
        COOKIE_NAME,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
