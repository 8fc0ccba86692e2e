"""Erasure over HTTP: ``POST /v1/erasures`` erases a user's sessions (or named ones) within the
caller's tenant and returns the receipt; ``GET /v1/erasures`` is that tenant's audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..storage import AuditRecord, ErasureReceipt
from .dependencies import Scoped
from .errors import ERROR_RESPONSES

__all__ = ["router"]

router = APIRouter(prefix="/v1/erasures", tags=["erasure"], responses=ERROR_RESPONSES)

_Text = Annotated[str, StringConstraints(min_length=1, max_length=256)]
_MAX_IDS = 10_000


class ErasureBody(BaseModel):
    """Body of ``POST /v1/erasures``: ``user_id`` (or ``where``), or ``session_ids``."""

    model_config = ConfigDict(extra="forbid")

    user_id: _Text | None = None
    """Erase this user's sessions (shorthand for ``where={"user_id": ...}``)."""
    where: dict[str, _Text] | None = None
    """``user_id`` and/or ``root_id``."""
    session_ids: Annotated[list[_Text], Field(min_length=1, max_length=_MAX_IDS)] | None = None
    """Erase these sessions (and what derives from them)."""
    all: bool = False
    """With no filter: erase every session of this tenant."""
    actor: _Text | None = None
    """Who asks, for the audit log (default: the tenant)."""
    dry_run: bool = False
    """Only answer what would be erased."""


class AuditList(BaseModel):
    """The tenant's audit log, oldest first."""

    object: str = "list"
    data: list[AuditRecord]


@router.post("", response_model=ErasureReceipt)
async def erase(body: ErasureBody, store: Scoped) -> ErasureReceipt:
    """Erase this key's matching sessions and everything derived from them (children,
    segments, forks, blobs no other session names). An id of another tenant is refused with
    a 422 and nothing is erased."""
    where = dict(body.where) if body.where is not None else None
    if body.user_id is not None:
        where = {**(where or {}), "user_id": body.user_id}
    if where is None and body.session_ids is None and body.all:
        where = {}
    actor = body.actor if body.actor is not None else f"tenant:{store.tenant or ''}"
    return await store.erase(
        where, body.session_ids, all=body.all, actor=actor, dry_run=body.dry_run
    )


@router.get("", response_model=AuditList)
async def audit_log(store: Scoped) -> AuditList:
    """The records of this key's erasures: who, when, the filter and the counts."""
    return AuditList(data=await store.audit_log())
