"""Route dependencies: the caller's tenant and its scoped view of the store."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .errors import ApiError
from .inspector.key_cookie import cookie_token
from .inspector.logins import TokenClaims
from .state import ServerState, server_state
from .tenancy import TenantStore

__all__ = ["Scoped", "State", "signed_in", "signed_out_key", "tenant_of", "tenant_store"]

_bearer = HTTPBearer(auto_error=False, description="An API key: Authorization: Bearer <key>")
State = Annotated[ServerState, Depends(server_state)]


def tenant_of(
    state: ServerState,
    credentials: HTTPAuthorizationCredentials | None,
    claims: TokenClaims | None = None,
) -> str | None:
    """The caller's tenant (None when no keys are configured); 401 for a missing or wrong key.

    The Bearer key wins; without one, the claims of a valid login cookie token (see
    ``signed_in``) name the tenant.
    """
    if not state.keys:
        return None
    if credentials is not None:
        tenant = state.keys.tenant_for(credentials.credentials)
    else:
        tenant = claims.tenant if claims is not None else None
    if tenant is None:
        raise ApiError(
            401,
            "invalid_api_key",
            "A valid API key is required: Authorization: Bearer <key>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return tenant


async def signed_in(
    state: ServerState, request: Request, token: str | None = None
) -> TokenClaims | None:
    """The claims of ``token`` (default: the request's login cookie, see ``cookie_token``),
    if it is valid and not signed out."""
    token = token if token is not None else cookie_token(request)
    if token is None or not state.keys:
        return None
    claims = state.logins.tokens.check(token, state.keys)
    if claims is None:
        return None
    records = state.idempotency.records(await state.store())
    if await records.get(signed_out_key(claims.login_id), state.logins.tokens.clock()):
        return None
    return claims


def signed_out_key(login_id: str) -> str:
    """The side record that marks the login ``login_id`` as signed out."""
    return f"signed-out:{login_id}"


async def tenant_store(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TenantStore:
    """The caller's view of the store: only its own sessions exist there."""
    claims = None if credentials is not None else await signed_in(state, request)
    tenant = tenant_of(state, credentials, claims)
    return TenantStore(await state.store(), tenant, state.wakeups.notify)


Scoped = Annotated[TenantStore, Depends(tenant_store)]
