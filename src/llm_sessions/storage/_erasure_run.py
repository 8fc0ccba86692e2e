"""Carrying out an erasure: match, record the plan, delete each kind of data, audit.

Every kind of data an erasure deletes is one entry of ``DELETERS``, run in order on the plan;
a new kind of derived data (a search index, vectors) is one more entry. Each deleter must be
safe to run again on a plan it already carried out (a rerun after an interruption does).
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._erasure import AuditRecord, ErasurePlan, ErasureReceipt, ErasureRequest
from ._side_records import SideRecords, side_records_for
from ._summaries import SessionSummary, summary_of

if TYPE_CHECKING:
    from ._base import SessionStore

__all__ = ["DELETERS", "audit_records", "erase"]

PLAN_PREFIX = "erasure:plan:"
AUDIT_PREFIX = "erasure:audit:"
_KEPT_FOR = 100 * 365 * 86400.0
"""How long plans and audit records are kept (side records carry an expiry): for good."""
_PAGE = 1000

Deleter = Callable[["SessionStore", ErasurePlan], Awaitable[int]]


async def _delete_sessions(store: SessionStore, plan: ErasurePlan) -> int:
    # Each session goes in one atomic delete: its header, its whole log (removal records
    # included), its summary row and its cached copy; a writer holding it is refused after.
    return await store._erase_sessions(plan.session_ids)


async def _delete_blobs(store: SessionStore, plan: ErasurePlan) -> int:
    if not plan.blob_refs:
        return 0
    from ._blob_collection import blob_area, remove_unnamed

    cutoff = min(plan.started_at.timestamp(), blob_area(store).clock())
    return await remove_unnamed(store, set(plan.blob_refs), cutoff)


DELETERS: list[tuple[str, Deleter]] = [
    ("sessions", _delete_sessions),
    ("blobs", _delete_blobs),
]
"""Each kind of data an erasure deletes, by the name its receipt counts it under."""


async def erase(
    store: SessionStore, request: ErasureRequest, *, dry_run: bool = False
) -> ErasureReceipt:
    """Finish any interrupted erasure of ``store``, then carry out ``request`` (see
    ``SessionStore.erase``); with ``dry_run``, only the receipt it would give."""
    if dry_run:
        plan = await _plan(store, request)
        counts = {"sessions": len(plan.session_ids), "events": plan.events}
        audit = plan.audit({**counts, "blobs": len(plan.blob_refs)}, plan.started_at)
        return ErasureReceipt(**audit.model_dump(), session_ids=plan.session_ids)
    records = side_records_for(store)
    try:
        resumed = []
        for pending in await _pending_plans(records):
            await _carry_out(store, records, pending)
            resumed.append(pending.erasure_id)
        plan = await _plan(store, request)
        await records.put(PLAN_PREFIX + plan.erasure_id, plan.model_dump(mode="json"), _until())
        audit = await _carry_out(store, records, plan)
    finally:
        await records.close()
    return ErasureReceipt(
        **audit.model_dump(), session_ids=plan.session_ids, resumed=resumed
    )


async def audit_records(store: SessionStore, prefix: str) -> list[AuditRecord]:
    """The audit records of erasures asked within ``prefix``, oldest first."""
    records = side_records_for(store)
    try:
        found = await records.scan(AUDIT_PREFIX, time.time())
    finally:
        await records.close()
    audits = [AuditRecord.model_validate(_without_expiry(value)) for value in found.values()]
    mine = [a for a in audits if str(a.filter.get("prefix", "")).startswith(prefix)]
    return sorted(mine, key=lambda audit: (audit.started_at, audit.erasure_id))


async def _pending_plans(records: SideRecords) -> list[ErasurePlan]:
    found = await records.scan(PLAN_PREFIX, time.time())
    plans = [ErasurePlan.model_validate(_without_expiry(value)) for value in found.values()]
    return sorted(plans, key=lambda plan: plan.started_at)


async def _carry_out(store: SessionStore, records: SideRecords, plan: ErasurePlan) -> AuditRecord:
    counts = {"sessions": 0, "events": plan.events}
    for kind, deleter in DELETERS:
        counts[kind] = await deleter(store, plan)
    audit = plan.audit(counts, datetime.now(UTC))
    key = f"{AUDIT_PREFIX}{plan.started_at.isoformat()}:{plan.erasure_id}"
    await records.put(key, audit.model_dump(mode="json"), _until())
    await records.delete(PLAN_PREFIX + plan.erasure_id)
    return audit


async def _plan(store: SessionStore, request: ErasureRequest) -> ErasurePlan:
    started = datetime.now(UTC)
    matched = await _matched(store, request)
    erased = await _with_derived(store, matched, request.prefix)
    ids = sorted(erased)
    return ErasurePlan(
        erasure_id=uuid.uuid4().hex,
        actor=request.actor,
        started_at=started,
        filter=request.filter(),
        prefix=request.prefix,
        session_ids=ids,
        events=sum(row.event_count for row in erased.values()),
        blob_refs=await _blob_refs(store, ids),
    )


async def _matched(store: SessionStore, request: ErasureRequest) -> dict[str, SessionSummary]:
    if request.session_ids is None:
        rows = _summaries(store, request.where or {}, request.prefix)
        return {row.id: row async for row in rows}
    found = {}
    for session_id in request.session_ids:
        session = await store.get(session_id)
        if session is not None:
            found[session_id] = summary_of(session)
    return found


async def _with_derived(
    store: SessionStore, matched: Mapping[str, SessionSummary], prefix: str
) -> dict[str, SessionSummary]:
    """``matched`` and every session derived from them: children, later segments and forks,
    at any depth (found through the chains their roots tie together)."""
    erased = dict(matched)
    chains: dict[str, SessionSummary] = {}
    asked: set[str] = set()
    while todo := ({row.root_id for row in erased.values()} | set(erased)) - asked:
        for root in sorted(todo):
            asked.add(root)
            chains.update({row.id: row async for row in _summaries(store, {"root_id": root}, prefix)})
        children: dict[str, list[str]] = defaultdict(list)
        for row in chains.values():
            if row.parent_id is not None:
                children[row.parent_id].append(row.id)
        frontier = list(erased)
        while frontier:
            for child in children[frontier.pop()]:
                if child not in erased:
                    erased[child] = chains[child]
                    frontier.append(child)
    return erased


async def _summaries(
    store: SessionStore, where: Mapping[str, str], prefix: str
) -> AsyncIterator[SessionSummary]:
    cursor = None
    while True:
        page = await store.find_sessions(
            where=where, order="created_at", limit=_PAGE, cursor=cursor, prefix=prefix
        )
        for row in page.items:
            yield row
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def _blob_refs(store: SessionStore, session_ids: list[str]) -> list[str]:
    """The blobs ``session_ids`` name; no session is read when the store holds no blobs."""
    from ._blob_collection import blob_area, blob_refs

    if not session_ids or not await blob_area(store).touched():
        return []
    refs: set[str] = set()
    for session_id in session_ids:
        session = await store.get(session_id)
        if session is not None:
            refs.update(blob_refs(session.events))
    return sorted(refs)


def _until() -> float:
    return time.time() + _KEPT_FOR


def _without_expiry(value: Mapping[str, Any]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key != "expires_at"}
