"""``/metrics``: the Prometheus exposition, behind a key unless the server is on loopback.

Who may read it: anyone when the app is told its port is only reachable from this machine
(``metrics_public``, which ``serve`` sets for a loopback bind) or when it has no key to check
against; otherwise ``Authorization: Bearer <key>`` with the metrics key or any API key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .dependencies import State
from .errors import ERROR_RESPONSES, ApiError
from .state import ServerState

__all__ = ["may_read_metrics", "router"]

router = APIRouter(tags=["operations"])

_bearer = HTTPBearer(auto_error=False, description="The metrics key or an API key")


def may_read_metrics(state: ServerState, presented: str | None) -> bool:
    """Whether a caller presenting ``presented`` (a Bearer key, or None) may read ``/metrics``.

    Args:
        state: The app's state: its API keys, metrics key and whether metrics are public.
        presented: The key the caller sent, if any.

    Returns:
        True when metrics are public, when the app has no key at all, or when ``presented``
        is the metrics key or an API key.
    """
    if state.metrics_public or (not state.keys and state.metrics_key is None):
        return True
    if presented is None:
        return False
    if state.metrics_key is not None and hmac.compare_digest(
        hashlib.sha256(presented.encode()).digest(),
        hashlib.sha256(state.metrics_key.encode()).digest(),
    ):
        return True
    return state.keys.tenant_for(presented) is not None


@router.get("/metrics", response_class=PlainTextResponse, responses={401: ERROR_RESPONSES[401]})
async def metrics(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Any:
    """Counters and the latency histogram in Prometheus' text format."""
    if not may_read_metrics(state, credentials.credentials if credentials else None):
        raise ApiError(
            401,
            "invalid_api_key",
            "/metrics needs a key: Authorization: Bearer <metrics key or API key>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return PlainTextResponse(
        state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
