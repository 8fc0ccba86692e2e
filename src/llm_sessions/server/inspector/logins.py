"""Signing in to the inspector: same-origin checks, a limit on failed logins, signed tokens.

- ``/login`` and ``/logout`` accept only a browser's same-origin form: a request whose
  ``Sec-Fetch-Site`` is another site, or whose ``Origin`` is not this server's, gets 403, so
  another site cannot sign a visitor in to its own tenant or out of theirs. (Clients that are not
  browsers send neither header, and are not in that danger.)
- Each client address may fail ``max_failures`` logins in ``window_seconds`` (10 a minute by
  default); further attempts get 429 with ``Retry-After`` until the oldest failure leaves the
  window. The count is per server process.
- The cookie holds a token, not the key: ``v1.<payload>.<signature>``, the payload naming a
  random login id, an id of the key (an HMAC of the key's hash: it does not reveal the key)
  and the expiry, signed with HMAC-SHA256 under the server's secret. It stops working when it
  expires (``lifetime_seconds``, 12 hours by default), at logout (the login id is kept as
  signed out, in the store's side records, until the token would have expired) and when its
  key is removed from the configuration.

Every worker must sign with the same secret: ``llm-sessions serve`` makes one per start and hands
it to its workers in ``LLM_SESSIONS_SESSION_SECRET`` unless that is set already.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from ..auth import ApiKeys

__all__ = [
    "DEFAULT_LOGIN_FAILURES",
    "DEFAULT_LOGIN_WINDOW_SECONDS",
    "DEFAULT_TOKEN_SECONDS",
    "SESSION_SECRET_ENV",
    "LoginLimiter",
    "Logins",
    "SessionTokens",
    "TokenClaims",
    "same_origin",
]

SESSION_SECRET_ENV = "LLM_SESSIONS_SESSION_SECRET"
DEFAULT_TOKEN_SECONDS = 12 * 3600
DEFAULT_LOGIN_FAILURES = 10
DEFAULT_LOGIN_WINDOW_SECONDS = 60.0
_TRACKED_ADDRESSES = 10_000
"""Addresses whose failures are remembered at once; the oldest is forgotten first."""


def same_origin(request: Request) -> bool:
    """Whether the request is not a cross-site browser request (see the module's docstring).

    ``Sec-Fetch-Site``, which no page can set, decides when present; else ``Origin`` must be
    this server's own.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin == f"{request.url.scheme}://{host}"


@dataclass
class LoginLimiter:
    """Failed logins per client address, in a sliding window measured by ``clock``."""

    max_failures: int = DEFAULT_LOGIN_FAILURES
    window_seconds: float = DEFAULT_LOGIN_WINDOW_SECONDS
    clock: Callable[[], float] = time.monotonic
    _failures: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def retry_after(self, address: str) -> float | None:
        """Seconds until ``address`` may try again, or None when it may now."""
        failures = self._recent(address)
        if len(failures) < self.max_failures:
            return None
        return max(failures[0] + self.window_seconds - self.clock(), 0.001)

    def failed(self, address: str) -> None:
        """Count one failed login of ``address``."""
        self._recent(address).append(self.clock())
        self._failures.move_to_end(address)
        while len(self._failures) > _TRACKED_ADDRESSES:
            self._failures.popitem(last=False)

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures.setdefault(address, deque())
        cutoff = self.clock() - self.window_seconds
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is, its login id, when it expires, and the id of the
    key it was issued for (``SessionTokens.key_id``)."""

    tenant: str
    login_id: str
    expires_at: float
    key_id: str


@dataclass
class SessionTokens:
    """Issues and checks the signed, expiring tokens of the login cookie."""

    secret: bytes
    lifetime_seconds: float = DEFAULT_TOKEN_SECONDS
    clock: Callable[[], float] = time.time

    def issue(self, key: str) -> str:
        """A new token for a login with ``key`` (a configured key)."""
        payload = {
            "sid": secrets.token_hex(16),
            "kid": self.key_id(key),
            "exp": self.clock() + self.lifetime_seconds,
        }
        body = _encode(json.dumps(payload, separators=(",", ":")).encode())
        return f"v1.{body}.{self._sign(body)}"

    def check(self, token: str, keys: ApiKeys) -> TokenClaims | None:
        """The claims of ``token`` if it is well signed, unexpired and its key still
        configured; else None."""
        version, _, rest = token.partition(".")
        body, _, signature = rest.partition(".")
        if version != "v1" or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            payload: dict[str, Any] = json.loads(_decode(body))
            expires_at = float(payload["exp"])
            login_id, key_id = str(payload["sid"]), str(payload["kid"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if expires_at <= self.clock():
            return None
        tenant = keys.tenant_for_digest(
            lambda digest: hmac.compare_digest(self._key_id(digest), key_id)
        )
        return None if tenant is None else TokenClaims(tenant, login_id, expires_at, key_id)

    def key_id(self, key: str) -> str:
        """An id of ``key`` that does not reveal it: the one its login tokens carry."""
        return self._key_id(hashlib.sha256(key.encode("utf-8")).digest())

    def _key_id(self, key_digest: bytes) -> str:
        return hmac.new(self.secret, b"key:" + key_digest, hashlib.sha256).hexdigest()[:32]

    def _sign(self, body: str) -> str:
        return _encode(hmac.new(self.secret, b"token:" + body.encode(), hashlib.sha256).digest())


@dataclass
class Logins:
    """The app's login settings: the token signer and the failed-login limiter."""

    tokens: SessionTokens
    limiter: LoginLimiter = field(default_factory=LoginLimiter)


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
