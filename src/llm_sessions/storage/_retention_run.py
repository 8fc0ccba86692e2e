"""Carrying out a retention policy: erase the expired sessions, then shorten the others.

Expired sessions (created before ``now - max_age``, or not updated since ``now - max_idle``)
are erased as ``erase`` erases (with their derived data and an audit record), except one
that something still within the limits derives from: a parent stays while a child, later
segment or fork of it is live, and goes with the last of them.

Shortening works on each kept session through removal records, in one save with a stub event
that says what went. Which events a prompt keeps or drops together (a reply with its tool
calls and results) is the prompt layer's knowledge: it registers the ``TrimPlanner`` here
(``TRIM_PLANNERS``), as the modules that keep derived data register their ``DerivedKind``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInputError, InvalidSessionOperation
from ._erasure import ChainRow, ErasureReceipt, ErasureRequest
from ._erasure_run import Erasable, erase, summaries_in, with_derived
from ._retention import Retention, RetentionReport, TrimmedSession, check_retention

if TYPE_CHECKING:
    from ..models._session import Session
    from ..models._session_event import SessionEvent
    from ._summaries import SessionSummary

__all__ = [
    "RETENTION_ACTOR",
    "TRIM_PLANNERS",
    "TrimPlan",
    "TrimPlanner",
    "apply_retention",
    "run_retention",
]

RETENTION_ACTOR = "retention"
"""The actor of the audit records retention leaves."""
_PAGE = 1000


@dataclass(frozen=True)
class TrimPlan:
    """What to take out of one session: ``removed`` (events), and the ``stub`` event to add
    in the same save (None when nothing goes), which replaces the stubs ``replaced`` names;
    ``tool_events`` and ``tokens`` count what goes."""

    removed: list[SessionEvent[Any]]
    stub: SessionEvent[Any] | None
    tool_events: int = 0
    tokens: int = 0
    replaced: list[str] = field(default_factory=list)


TrimPlanner = Callable[[Sequence["SessionEvent[Any]"], Retention, datetime], Awaitable[TrimPlan]]
"""``(events, policy, now) -> TrimPlan`` for one session's events, oldest first."""

TRIM_PLANNERS: list[TrimPlanner] = []
"""The planner shortening uses (the last registered); ``llm_sessions.prompting`` registers
its own when imported, which importing ``llm_sessions`` does."""


def checked_now(now: object) -> datetime:
    """``now`` as an aware UTC datetime (the current time when None)."""
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime):
        raise InvalidInputError("now", now, "must be a datetime or None (the current time)")
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


async def run_retention(
    store: Any, policy: object, now: object, prefix: object, dry_run: object
) -> RetentionReport:
    """``store.apply_retention(...)``: the arguments checked (nothing changes when one is
    bad; no ``policy`` is the store's own), then ``apply_retention``."""
    store._ensure_open()
    chosen = check_retention(store.retention if policy is None else policy, "policy")
    if chosen is None:
        raise InvalidInputError("policy", None, "give a Retention, or open the store with one")
    if not isinstance(prefix, str):
        raise InvalidInputError("prefix", prefix, "must be a string ('' for every session)")
    if not isinstance(dry_run, bool):
        raise InvalidInputError("dry_run", dry_run, "must be True or False")
    moment = checked_now(now)
    return await apply_retention(store, chosen, moment, prefix=prefix, dry_run=dry_run)


async def apply_retention(
    store: Erasable,
    policy: Retention,
    now: datetime,
    *,
    prefix: str = "",
    dry_run: bool = False,
    actor: str = RETENTION_ACTOR,
) -> RetentionReport:
    """Erase what ``policy`` finds expired at ``now`` within ``prefix``, then shorten the
    sessions it keeps (see ``SessionStore.apply_retention``)."""
    erased: ErasureReceipt | None = None
    if policy.erases:
        expired = await _expired(store, policy, now, prefix)
        doomed = await _without_live_descendants(store, expired, prefix)
        if doomed:
            request = ErasureRequest(
                None,
                tuple(sorted(doomed)),
                False,
                actor,
                prefix,
                described={"retention": policy.describe(), "now": now.isoformat()},
            )
            rows = {session_id: expired[session_id] for session_id in doomed}
            # Another worker's pass may have erased them since: then no record, and no receipt.
            erased = await erase(
                store, request, dry_run=dry_run, matched=rows, audit_when_empty=False
            )
            if not dry_run and not erased.counts.get("sessions"):
                erased = None
    trimmed: list[TrimmedSession] = []
    if policy.trims:
        gone = set() if erased is None else set(erased.session_ids)
        for summary in await _trim_candidates(store, policy, prefix):
            if summary.id not in gone:
                done = await _trim(store, summary.id, policy, now, dry_run)
                if done is not None:
                    trimmed.append(done)
    return RetentionReport(
        now=now, policy=policy.describe(), dry_run=dry_run, erased=erased, trimmed=trimmed
    )


async def _expired(
    store: Erasable, policy: Retention, now: datetime, prefix: str
) -> dict[str, ChainRow]:
    found: dict[str, ChainRow] = {}
    max_age, max_idle = policy.span("max_age"), policy.span("max_idle")
    if max_age is not None:
        born_before = now - max_age
        async with aclosing(summaries_in(store, {}, prefix)) as oldest_first:
            async for summary in oldest_first:
                if summary.created_at >= born_before:
                    break
                found[summary.id] = _row(summary)
    if max_idle is not None:
        cursor = None
        while True:
            page = await store.find_sessions(
                until=now - max_idle, order="created_at", limit=_PAGE, cursor=cursor,
                prefix=prefix,
            )  # fmt: skip
            found.update({summary.id: _row(summary) for summary in page.items})
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    return found


def _row(summary: SessionSummary) -> ChainRow:
    return ChainRow(
        summary.id, summary.parent_id, summary.root_id, summary.user_id, summary.event_count
    )


async def _without_live_descendants(
    store: Erasable, expired: dict[str, ChainRow], prefix: str
) -> set[str]:
    """The expired sessions from which no live session derives."""
    if not expired:
        return set()
    derived = await with_derived(store, expired, prefix)
    doomed = set(expired)
    for live in set(derived) - doomed:
        parent = derived[live].parent_id
        while parent is not None and parent in derived:
            doomed.discard(parent)
            parent = derived[parent].parent_id
    return doomed


async def _trim_candidates(store: Erasable, policy: Retention, prefix: str) -> list[SessionSummary]:
    """Sessions that may hold something to trim: longer than ``keep_last_events``, or (with
    ``trim_tool_results_after``) any with events, whose times the summary does not bound
    (an imported session holds events older than itself)."""
    keep, tools = policy.keep_last_events, policy.trim_tool_results_after is not None
    found = []
    async for summary in summaries_in(store, {}, prefix):
        if (keep is not None and summary.event_count > keep) or (tools and summary.event_count):
            found.append(summary)
    return found


async def _trim(
    store: Erasable, session_id: str, policy: Retention, now: datetime, dry_run: bool
) -> TrimmedSession | None:
    if not TRIM_PLANNERS:
        raise InvalidSessionOperation(
            "trim sessions", "no trim planner is registered (import llm_sessions.prompting)"
        )
    session: Session[Any] | None = await store.get(session_id)
    if session is None:  # deleted since it was listed
        return None
    plan = await TRIM_PLANNERS[-1](session.events, policy, now)
    if plan.stub is None or not plan.removed:
        return None
    ids = [event.id for event in plan.removed]
    if not dry_run:
        await session.add_event(plan.stub)
        await session.remove_events([*plan.replaced, *ids])  # one save: stub and removal
    return TrimmedSession(
        session_id=session_id,
        event_ids=ids,
        tool_events=plan.tool_events,
        tokens=plan.tokens,
        stub_event_id=None if dry_run else plan.stub.id,
    )
