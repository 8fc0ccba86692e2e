"""Operations routes: ``/healthz`` (process up), ``/readyz`` (store reachable).

``/metrics`` lives in ``metrics_route``.
"""

from __future__ import annotations

from fastapi import APIRouter

from ..exceptions import SessionManagerError
from .dependencies import State
from .errors import ERROR_RESPONSES, RETRY_AFTER_SECONDS, ApiError

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (the store is not consulted)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: ERROR_RESPONSES[503]})
async def readyz(state: State) -> dict[str, str]:
    """The store answers (a listing of one unlikely prefix)."""
    store = await state.store()
    try:
        await store.list_sessions("readyz-probe-")
    except (SessionManagerError, OSError, TimeoutError) as exc:
        raise ApiError(
            503,
            "store_unavailable",
            f"The store does not answer: {type(exc).__name__}",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from exc
    return {"status": "ready"}
