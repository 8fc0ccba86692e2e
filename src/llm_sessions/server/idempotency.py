"""``Idempotency-Key`` on the routes that create or append: a retry writes nothing twice.

A request with the header claims the key (per tenant) in the store's side records before it
writes, and keeps its response there for ``IDEMPOTENCY_SECONDS``. A repeat with the same key,
method, path, query and body gets that response again (``Idempotent-Replayed: true``) and
writes nothing; the same key with anything else is a 422 ``idempotency_key_reused``.

The ids a keyed request makes are derived from the tenant, the key and a nonce kept in its
claim (``TenantStore.seed_ids``), so a retry after a worker died between writing and answering
finds what the first attempt wrote and answers with it instead of writing again. A claim whose
writes are not found yet belongs to a request still running (409 ``idempotency_key_in_use``)
until ``lease_seconds`` have passed; after that a retry takes it over.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from uuid import uuid4

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..models import Session
from ..storage import SessionStore
from ..storage._side_records import SideRecords, side_records_for
from .errors import RETRY_AFTER_SECONDS, ApiError
from .tenancy import TenantStore

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "IDEMPOTENCY_HEADER",
    "IDEMPOTENCY_SECONDS",
    "REPLAYED_HEADER",
    "Idempotency",
    "IdempotencyKey",
    "idempotent",
    "written_session",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_SECONDS = 24 * 3600
"""How long a key and its response are kept."""
DEFAULT_LEASE_SECONDS = 60.0
"""How long a claim whose writes are not found is taken for a request still running."""

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description=(
            "Makes a retry safe: a repeat with the same key and body within 24 hours gets the "
            "first response and writes nothing; the same key with another body is a 422."
        ),
    ),
]

_Model = TypeVar("_Model", bound=BaseModel)
_Out = TypeVar("_Out")


@dataclass
class Idempotency:
    """Where keyed requests are remembered, and the clock and lease they are judged by."""

    clock: Callable[[], float] = time.time
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    _records: dict[int, SideRecords] = field(default_factory=dict)

    def records(self, store: SessionStore) -> SideRecords:
        """The side records of ``store`` (made once per store; the inspector keeps its
        signed-out logins there too)."""
        found = self._records.get(id(store))
        if found is None:
            found = self._records[id(store)] = side_records_for(store)
        return found

    async def close(self) -> None:
        """Release the records' own connections."""
        records, self._records = list(self._records.values()), {}
        for each in records:
            await each.close()


async def idempotent(
    request: Request,
    key: str | None,
    store: TenantStore,
    write: Callable[[], Awaitable[_Model]],
    written: Callable[[], Awaitable[_Model | None]],
) -> _Model | JSONResponse:
    """``write()``, at most once per ``key`` (see the module's docstring).

    Args:
        request: the request (its method, path, query and body identify a repeat).
        key: the ``Idempotency-Key`` header, or None (then just ``write()``).
        store: the caller's view of the store; its ids are seeded from the key.
        write: does the work and returns the response.
        written: the response built from what an earlier attempt wrote with the same ids, or
            None when it wrote nothing.

    Returns:
        The response, or the first response again for a repeat.

    Raises:
        ApiError: 422 when the key was used for another request; 409 while another request
            with the key is running.
    """
    if key is None:
        return await write()
    guard: Idempotency = request.app.state.llm_sessions.idempotency
    records = guard.records(store.inner)
    tenant_key = f"{store.tenant or ''}:{key}"
    record_key = "idempotency:" + hashlib.sha256(tenant_key.encode()).hexdigest()
    fingerprint = await _fingerprint(request)
    now = guard.clock()
    expires_at = now + IDEMPOTENCY_SECONDS
    claim = {"fingerprint": fingerprint, "state": "pending", "claimed_at": now, "nonce": _nonce()}
    found = await records.claim(record_key, claim, expires_at, now)
    result = None
    if found is not None:
        replay = _replay(found, fingerprint)
        if replay is not None:
            return replay
        claim["nonce"] = found.get("nonce", "")
        expires_at = float(found.get("expires_at", expires_at))
        # The first attempt's ids: what it wrote, if it got that far.
        store.seed_ids(f"{tenant_key}:{claim['nonce']}")
        result = await written()
        if result is None:
            await _take_over(records, record_key, found, claim, guard, expires_at)
    if result is None:
        store.seed_ids(f"{tenant_key}:{claim['nonce']}")
        try:
            result = await write()
        except BaseException:
            await records.delete(record_key)  # nothing written: a retry may start afresh
            raise
    done = {"fingerprint": fingerprint, "state": "done", "body": jsonable_encoder(result)}
    await records.put(record_key, done, expires_at)
    return result


def _nonce() -> str:
    return uuid4().hex


async def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode() + b"\0")
    digest.update(await request.body())
    return digest.hexdigest()


def _replay(found: dict[str, Any], fingerprint: str) -> JSONResponse | None:
    """The first response again, or None while the first request has not answered."""
    if found.get("fingerprint") != fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            f"This {IDEMPOTENCY_HEADER} was used within the last 24 hours for another request "
            "(another body, path or query); use a new key for a new request.",
            IDEMPOTENCY_HEADER,
        )
    if found.get("state") != "done":
        return None
    return JSONResponse(found.get("body"), headers={REPLAYED_HEADER: "true"})


async def _take_over(
    records: SideRecords,
    record_key: str,
    found: dict[str, Any],
    claim: dict[str, Any],
    guard: Idempotency,
    expires_at: float,
) -> None:
    """Take over a claim whose request wrote nothing, once its lease has passed; else 409."""
    if guard.clock() - float(found.get("claimed_at", 0)) < guard.lease_seconds:
        raise ApiError(
            409,
            "idempotency_key_in_use",
            f"A request with this {IDEMPOTENCY_HEADER} is still running; retry after it.",
            IDEMPOTENCY_HEADER,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    await records.put(record_key, claim, expires_at)


def written_session(
    store: TenantStore, kind: str, render: Callable[[Session[Any]], _Out]
) -> Callable[[], Awaitable[_Out | None]]:
    """The ``written`` of a keyed create: the session of the first seeded id, rendered.

    Args:
        store: the caller's view of the store (seeded before the call).
        kind: the kind of id the create makes first (``sess_``, ``conv_``).
        render: the route's view of a session.

    Returns:
        An async function giving the rendered session, or None when it is not there.
    """

    async def written() -> _Out | None:
        found = await store.get(store.new_id(kind))
        return None if found is None else render(found)

    return written
