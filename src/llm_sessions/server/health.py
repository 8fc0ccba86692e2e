"""Operations routes: ``/healthz`` (process up), ``/readyz`` (store reachable).

``/metrics`` lives in ``metrics_route``.
"""

from __future__ import annotations

from fastapi import APIRouter

from ..exceptions import SessionManagerError
from ..storage import SessionStoreInterface
from .dependencies import State
from .errors import ERROR_RESPONSES, RETRY_AFTER_SECONDS, ApiError

__all__ = ["probe_store", "router"]

router = APIRouter(tags=["operations"])


async def probe_store(store: SessionStoreInterface) -> None:
    """Reach ``store`` with the cheapest read every store has: a listing of one unlikely prefix.

    Args:
        store: The store to reach.

    Raises:
        SessionManagerError: The store answered with an error (``StorageError``, say).
        OSError: The store could not be reached.
        TimeoutError: The store did not answer in time.
    """
    await store.list_sessions("readyz-probe-")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (the store is not consulted)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: ERROR_RESPONSES[503]})
async def readyz(state: State) -> dict[str, str]:
    """The store answers (see ``probe_store``)."""
    store = await state.store()
    try:
        await probe_store(store)
    except (SessionManagerError, OSError, TimeoutError) as exc:
        state.metrics.store_errors += 1
        raise ApiError(
            503,
            "store_unavailable",
            f"The store does not answer: {type(exc).__name__}",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from exc
    return {"status": "ready"}
