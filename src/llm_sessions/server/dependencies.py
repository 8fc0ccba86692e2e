"""Route dependencies: the caller's tenant and its scoped view of the store."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .errors import ApiError
from .inspector.key_cookie import cookie_key
from .state import ServerState, server_state
from .tenancy import TenantStore

__all__ = ["Scoped", "State", "tenant_of", "tenant_store"]

_bearer = HTTPBearer(auto_error=False, description="An API key: Authorization: Bearer <key>")
State = Annotated[ServerState, Depends(server_state)]


def tenant_of(
    state: ServerState,
    credentials: HTTPAuthorizationCredentials | None,
    cookie: str | None = None,
) -> str | None:
    """The caller's tenant (None when no keys are configured); 401 for a missing or wrong key.

    The Bearer key wins; without one, the inspector's login ``cookie`` key is checked the same
    way (see ``inspector.key_cookie``).
    """
    if not state.keys:
        return None
    presented = credentials.credentials if credentials is not None else cookie
    tenant = state.keys.tenant_for(presented) if presented is not None else None
    if tenant is None:
        raise ApiError(
            401,
            "invalid_api_key",
            "A valid API key is required: Authorization: Bearer <key>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return tenant


async def tenant_store(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TenantStore:
    """The caller's view of the store: only its own sessions exist there."""
    tenant = tenant_of(state, credentials, cookie_key(request))
    request.state.tenant = tenant
    return TenantStore(await state.store(), tenant)


Scoped = Annotated[TenantStore, Depends(tenant_store)]
