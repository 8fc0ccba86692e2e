"""Carrying out an erasure: match, record the plan, delete the sessions, then each kind of
data derived from them, and audit.

Every kind of derived data that lives apart from a session's own records (blobs; later a
search index, vectors) is one ``DerivedKind`` in ``DERIVED_KINDS``, registered by the module
that keeps that data: ``find`` names what to delete before the sessions go (kept in the plan),
``delete`` deletes it afterwards. Both must be safe to run again (a rerun after an interruption
does).
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ._erasure import AuditRecord, ChainRow, ErasurePlan, ErasureReceipt, ErasureRequest
from ._side_records import SideRecords, side_records_for
from ._summaries import SessionSummary, summary_of

__all__ = [
    "DERIVED_KINDS",
    "DerivedKind",
    "Erasable",
    "audit_records",
    "erase",
    "rows_where",
    "summaries_in",
    "with_derived",
]

PLAN_PREFIX = "erasure:plan:"
AUDIT_PREFIX = "erasure:audit:"
_KEPT_FOR = 100 * 365 * 86400.0
"""How long plans and audit records are kept (side records carry an expiry): for good."""
_PAGE = 1000


class Erasable(Protocol):
    """What an erasure uses of a store (``SessionStore`` has it all)."""

    async def get(self, session_id: str) -> Any: ...

    async def find_sessions(
        self,
        where: Mapping[str, Any] | None = None,
        model: str | None = None,
        since: Any = None,
        until: Any = None,
        order: str = "-updated_at",
        limit: int = 50,
        cursor: str | None = None,
        prefix: str = "",
    ) -> Any: ...

    async def _erase_sessions(self, session_ids: Sequence[str]) -> int: ...

    async def _rows_where(self, key: str, values: Sequence[str], prefix: str) -> list[ChainRow]: ...


@dataclass(frozen=True)
class DerivedKind:
    """One kind of data derived from sessions that an erasure deletes with them.

    ``find(store, session_ids)`` names the items to delete (read while the sessions are still
    there; kept in the plan, so no content). ``delete(store, items, started)`` deletes those
    no remaining session needs, leaving any written at or after ``started`` (Unix seconds),
    and returns how many went.
    """

    name: str
    find: Callable[[Any, list[str]], Awaitable[list[str]]]
    delete: Callable[[Any, list[str], float], Awaitable[int]]


DERIVED_KINDS: list[DerivedKind] = []
"""The kinds an erasure deletes after the sessions, in order; each module that keeps such
data adds its kind when imported (the package imports them all)."""


async def erase(
    store: Erasable,
    request: ErasureRequest,
    *,
    dry_run: bool = False,
    matched: Mapping[str, ChainRow] | None = None,
    audit_when_empty: bool = True,
) -> ErasureReceipt:
    """Finish any interrupted erasure of ``store``, then carry out ``request`` (see
    ``SessionStore.erase``); with ``dry_run``, only the receipt it would give. ``matched``:
    the rows of the sessions ``request`` names, when the caller has them already. Without
    ``audit_when_empty``, an erasure that deleted no session leaves no audit record."""
    if dry_run:
        plan = await _plan(store, request, matched)
        counts = {"sessions": len(plan.session_ids), "events": plan.events}
        counts.update({kind: len(items) for kind, items in plan.derived.items()})
        audit = plan.audit(counts, plan.started_at)
        return ErasureReceipt(**audit.model_dump(), session_ids=plan.session_ids)
    records = side_records_for(store)
    try:
        resumed = []
        for pending in await _pending_plans(records):
            await _carry_out(store, records, pending)
            resumed.append(pending.erasure_id)
        plan = await _plan(store, request, matched)
        await records.put(PLAN_PREFIX + plan.erasure_id, plan.model_dump(mode="json"), _until())
        audit = await _carry_out(store, records, plan, audit_when_empty)
    finally:
        await records.close()
    return ErasureReceipt(**audit.model_dump(), session_ids=plan.session_ids, resumed=resumed)


async def audit_records(store: Erasable, prefix: str) -> list[AuditRecord]:
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


async def _carry_out(
    store: Erasable, records: SideRecords, plan: ErasurePlan, audit_when_empty: bool = True
) -> AuditRecord:
    # Each session goes in one atomic delete: its header, its whole log (removal records
    # included), its summary row and its cached copy; a writer holding it is refused after.
    counts = {"sessions": await store._erase_sessions(plan.session_ids), "events": plan.events}
    for kind in DERIVED_KINDS:
        items = plan.derived.get(kind.name, [])
        counts[kind.name] = await kind.delete(store, items, plan.started_at.timestamp())
    audit = plan.audit(counts, datetime.now(UTC))
    if counts["sessions"] or audit_when_empty:
        key = f"{AUDIT_PREFIX}{plan.started_at.isoformat()}:{plan.erasure_id}"
        await records.put(key, audit.model_dump(mode="json"), _until())
    await records.delete(PLAN_PREFIX + plan.erasure_id)
    return audit


async def _plan(
    store: Erasable, request: ErasureRequest, matched: Mapping[str, ChainRow] | None
) -> ErasurePlan:
    started = datetime.now(UTC)
    found = await _matched(store, request) if matched is None else matched
    erased = await with_derived(store, found, request.prefix)
    ids = sorted(erased)
    return ErasurePlan(
        erasure_id=uuid.uuid4().hex,
        actor=request.actor,
        started_at=started,
        filter=request.filter(),
        prefix=request.prefix,
        session_ids=ids,
        events=sum(row.events for row in erased.values()),
        derived={kind.name: await kind.find(store, ids) for kind in DERIVED_KINDS},
    )


async def _matched(store: Erasable, request: ErasureRequest) -> dict[str, ChainRow]:
    if request.session_ids is not None:
        found = {}
        for session_id in request.session_ids:
            session = await store.get(session_id)
            if session is not None:
                found[session_id] = _row(summary_of(session))
        return found
    where = request.where or {}
    if not where:  # everything (all=True)
        return {row.id: _row(row) async for row in summaries_in(store, {}, request.prefix)}
    key, *rest = sorted(where)
    rows = await store._rows_where(key, [where[key]], request.prefix)
    return {row.id: row for row in rows if all(getattr(row, k) == where[k] for k in rest)}


def _row(summary: SessionSummary) -> ChainRow:
    return ChainRow(
        summary.id, summary.parent_id, summary.root_id, summary.user_id, summary.event_count
    )


async def with_derived(
    store: Erasable, matched: Mapping[str, ChainRow], prefix: str
) -> dict[str, ChainRow]:
    """``matched`` and every session derived from them: children, later segments and forks,
    at any depth (found through the chains their roots tie together)."""
    erased = dict(matched)
    chains: dict[str, ChainRow] = {}
    asked: set[str] = set()
    while todo := ({row.root_id for row in erased.values()} | set(erased)) - asked:
        asked.update(todo)
        chains.update(
            {row.id: row for row in await store._rows_where("root_id", sorted(todo), prefix)}
        )
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


async def rows_where(
    store: Erasable, key: str, values: Sequence[str], prefix: str
) -> list[ChainRow]:
    """The sessions (within ``prefix``) whose ``key`` is one of ``values``: one filtered
    listing for one value, else one pass over every summary (see
    ``SessionStore._rows_where``)."""
    if len(values) == 1:
        return [_row(row) async for row in summaries_in(store, {key: values[0]}, prefix)]
    wanted = set(values)
    rows = summaries_in(store, {}, prefix)
    return [_row(row) async for row in rows if getattr(row, key) in wanted]


async def summaries_in(
    store: Erasable, where: Mapping[str, str], prefix: str
) -> AsyncGenerator[SessionSummary, None]:
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


def _until() -> float:
    return time.time() + _KEPT_FOR


def _without_expiry(value: Mapping[str, Any]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key != "expires_at"}
