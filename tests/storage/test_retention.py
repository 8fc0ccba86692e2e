"""``apply_retention`` on every store: with ``now`` in the future exactly the expired sessions
go (a parent stays while a child of it is live), kept sessions are shortened through removal
records and a stub, and bad input deletes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from erasure_data import forget_erasures

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import EventSource, EventType, Session, SessionEvent, SessionMetadata
from llm_sessions.prompting import build_prompt_from_session, is_retention_stub
from llm_sessions.storage import Retention, SessionStore, open_store

if TYPE_CHECKING:
    from conftest import StoreCase

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=100)
POLICY = Retention(max_age="90d", max_idle=timedelta(days=30))


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


async def written_at(
    store: SessionStore, session_id: str, created: float, updated: float, parent: str | None = None
) -> Session[Any]:
    """A session created on day ``created`` whose last event is on day ``updated``."""
    metadata = SessionMetadata(created_at=day(created), updated_at=day(created))
    session: Session[Any] = Session(id=session_id, metadata=metadata, parent_id=parent)
    if parent is not None:
        session.metadata.root_id = parent
    for stamp in (created, updated):
        event = SessionEvent(message=f"{session_id} {stamp}", timestamp=day(stamp))
        await session.add_event(event)
    await store.save(session)
    if parent is not None:
        held = await store.get(parent)
        assert held is not None
        await held.add_child(session_id)
    return session


EXPIRED = {"born-long-ago", "idle", "old-chain", "old-chain-child"}
KEPT = {"busy", "young", "old-parent", "live-child"}


@pytest.fixture
async def dated(store_case: StoreCase) -> AsyncIterator[SessionStore]:
    store = store_case.open()
    await written_at(store, "born-long-ago", 0, 99)  # 100 days old: over max_age
    await written_at(store, "idle", 20, 50)  # idle 50 days: over max_idle
    await written_at(store, "busy", 20, 90)
    await written_at(store, "young", 60, 75)
    await written_at(store, "old-parent", 0, 1)  # expired, but a child of it is live
    await written_at(store, "live-child", 50, 95, parent="old-parent")
    await written_at(store, "old-chain", 0, 2)
    await written_at(store, "old-chain-child", 5, 6, parent="old-chain")
    yield store
    await forget_erasures(store)


async def test_a_future_now_removes_exactly_the_expired_sessions(
    dated: SessionStore, store_case: StoreCase
) -> None:
    report = await dated.apply_retention(POLICY, now=NOW)
    assert set(report.erased_session_ids) == EXPIRED
    fresh = store_case.reader(dated)
    assert set(await fresh.list_sessions()) == KEPT
    for session_id in EXPIRED:
        assert await fresh.get(session_id) is None
    [audit] = await fresh.audit_log()
    assert audit.actor == "retention"
    assert audit.filter["retention"] == {"max_age": "90d", "max_idle": "30d"}
    assert audit.counts["sessions"] == len(EXPIRED)
    again = await fresh.apply_retention(POLICY, now=NOW)
    assert again.erased is None and set(await fresh.list_sessions()) == KEPT


async def test_a_dry_run_names_the_same_sessions_and_removes_nothing(
    dated: SessionStore, store_case: StoreCase
) -> None:
    report = await dated.apply_retention(POLICY, now=NOW, dry_run=True)
    assert report.dry_run and set(report.erased_session_ids) == EXPIRED
    fresh = store_case.reader(dated)
    assert set(await fresh.list_sessions()) == EXPIRED | KEPT
    assert await fresh.audit_log() == []


async def test_the_policy_the_store_was_opened_with_applies_by_default(
    dated: SessionStore, store_case: StoreCase
) -> None:
    store = store_case.open(retention=POLICY) if store_case.durable else dated
    if not store_case.durable:  # its data is the object: no second one to open
        dated.retention = POLICY
    assert store.retention is POLICY
    report = await store.apply_retention(now=NOW)
    assert set(report.erased_session_ids) == EXPIRED


async def agent_session(store: SessionStore, turns: int) -> Session[Any]:
    """``turns`` turns of: a question, a reply calling a tool, the tool's result, an answer."""
    session: Session[Any] = await Session.create(id="agent", store=store)
    for n in range(turns):
        stamp = day(n)
        await session.add_event(
            SessionEvent(message=f"q{n}", source=EventSource.USER, timestamp=stamp)
        )
        calls = [{"id": f"c{n}", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
        reply = SessionEvent(
            message={"role": "assistant", "content": None, "tool_calls": calls}, timestamp=stamp
        )
        await session.add_event(reply)
        result = {"tool_call_id": f"c{n}", "name": "f", "result": f"result {n} " * 20}
        await session.add_event(
            SessionEvent(
                message=result, type=EventType.TOOL_CALL, parent_event_id=reply.id, timestamp=stamp
            )
        )
        await session.add_event(SessionEvent(message=f"a{n}", timestamp=stamp))
    await store.save(session)
    return session


async def test_keep_last_events_keeps_whole_turns_and_leaves_a_stub(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    written = await agent_session(store, 5)
    newest = [event.id for event in written.events[-5:]]  # a3 and the whole of turn 4
    report = await store.apply_retention(Retention(keep_last_events=5), now=NOW)
    [trimmed] = report.trimmed
    assert len(trimmed.event_ids) == 15 and trimmed.tool_events == 4 and trimmed.tokens > 0
    fresh = store_case.reader(store)
    session = await fresh.get("agent")
    assert session is not None
    *kept, stub = session.events
    assert [event.id for event in kept] == newest
    assert is_retention_stub(stub) and stub.id == trimmed.stub_event_id
    assert stub.metadata["retention"]["events"] == 15
    assert set(stub.metadata["retention"]["event_ids"]) == set(trimmed.event_ids)
    assert "15 earlier events" in stub.message
    prompt = await build_prompt_from_session(session, "conversation")
    assert prompt[-1] == {"role": "system", "content": stub.message}
    again = await fresh.apply_retention(Retention(keep_last_events=5), now=NOW)
    assert again.trimmed == []


async def test_old_tool_events_go_and_a_later_trim_adds_up_the_stub(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    await agent_session(store, 4)  # tool events on days 0..3
    policy = Retention(trim_tool_results_after="2d")
    report = await store.apply_retention(policy, now=day(3.5))  # days 0 and 1: over 2 days old
    assert [len(done.event_ids) for done in report.trimmed] == [2]
    later = await store.apply_retention(policy, now=day(10))
    [done] = later.trimmed
    assert done.tool_events == 2
    session = await store_case.reader(store).get("agent")
    assert session is not None
    assert not any(event.type is EventType.TOOL_CALL for event in session.events)
    [stub] = [event for event in session.events if is_retention_stub(event)]
    assert stub.metadata["retention"]["tool_events"] == 4
    assert len(session.events) == 4 * 3 + 1


@pytest.mark.parametrize(
    ("arguments", "field", "limit"),
    [
        ({"max_age": timedelta(days=-1)}, "max_age", "longer than 0"),
        ({"max_idle": "0d"}, "max_idle", "longer than 0"),
        ({"max_age": "90x"}, "max_age", "units s, m, h, d, w"),
        ({"trim_tool_results_after": 30}, "trim_tool_results_after", "a timedelta"),
        ({"keep_last_events": 0}, "keep_last_events", ">= 1"),
        ({"keep_last_events": True}, "keep_last_events", ">= 1"),
        ({"max_age": "99999d"}, "max_age", "at most"),
        ({}, "retention", "names no limit"),
    ],
)
def test_a_bad_policy_names_field_value_and_limit(
    arguments: dict[str, Any], field: str, limit: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        Retention(**arguments)
    assert raised.value.field == field and limit in raised.value.reason
    assert field in str(raised.value)


def test_open_store_keeps_the_policy_and_refuses_anything_else() -> None:
    assert open_store("memory://", retention=POLICY).retention is POLICY
    assert open_store("memory://").retention is None
    with pytest.raises(InvalidInputError) as raised:
        open_store("memory://", retention="90d")
    assert raised.value.field == "retention"


async def test_bad_arguments_delete_nothing(dated: SessionStore) -> None:
    bad: list[dict[str, Any]] = [
        {"policy": "90d"},
        {"policy": POLICY, "now": "2027-01-01"},
        {"policy": POLICY, "prefix": 3},
        {"policy": POLICY, "dry_run": "no"},
        {},
    ]
    for arguments in bad:
        with pytest.raises(InvalidInputError):
            await dated.apply_retention(**arguments)
    assert set(await dated.list_sessions()) == EXPIRED | KEPT


def test_a_policy_reads_from_text_and_bad_text_names_the_pair() -> None:
    parsed = Retention.parse("max_age=90d, max-idle=12h,keep_last_events=200")
    assert parsed == Retention(max_age="90d", max_idle="12h", keep_last_events=200)
    assert parsed.describe() == {"max_age": "90d", "max_idle": "12h", "keep_last_events": 200}
    for text, field in (
        ("max_age=90d,max_age=80d", "retention"),
        ("ttl=3d", "retention"),
        ("max_age", "retention"),
        ("", "retention"),
        ("keep_last_events=many", "keep_last_events"),
        ("trim_tool_results_after=2y", "trim_tool_results_after"),
    ):
        with pytest.raises(InvalidInputError) as raised:
            Retention.parse(text)
        assert raised.value.field == field


async def test_two_passes_at_once_write_one_stub(durable_case: StoreCase) -> None:
    writer = durable_case.open()
    await agent_session(writer, 4)
    policy = Retention(keep_last_events=3)
    first, second = durable_case.open(), durable_case.open()
    # They may both read the session before either writes: the stub and the removal record are
    # named by what they remove, so a second save adds nothing.
    plans = await asyncio.gather(
        first.apply_retention(policy, now=NOW), second.apply_retention(policy, now=NOW)
    )
    stub_ids = {done.stub_event_id for report in plans for done in report.trimmed}
    assert len(stub_ids) == 1
    session = await durable_case.open().get("agent")
    assert session is not None
    assert [event.id for event in session.events if is_retention_stub(event)] == list(stub_ids)
    assert len(session.events) == 3 + 1  # the newest reply with its tool, the answer; the stub
