"""The data model: sessions, events, runs and metadata."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from llm_sessions import (
    EventSource,
    EventType,
    RunStatus,
    Session,
    SessionEvent,
    SessionRun,
    TokenSummary,
)
from llm_sessions.exceptions import InvalidSessionOperation, SessionAlreadyExists, SessionNotFound
from llm_sessions.models import CountMethod, SessionMetadata
from llm_sessions.storage import EventLogStore, InMemorySessionStore
from llm_sessions.tokens import count_text


def _is_uuid4(value: str) -> bool:
    return uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value


def _is_utc(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0)


async def _event(
    text: str, source: EventSource = EventSource.LLM, **kwargs: object
) -> SessionEvent:
    return await SessionEvent.create_with_tokens(
        message=text, prompt=text, model="gpt-4o-mini", source=source, **kwargs
    )


# -- Session --------------------------------------------------------------------------------


def test_session_defaults() -> None:
    before = datetime.now(UTC)
    session = Session()
    assert _is_uuid4(session.id)
    assert session.parent_id is None
    assert session.child_ids == [] and session.task_ids == [] and session.runs == []
    assert session.events == [] and session.state == {}
    assert isinstance(session.metadata, SessionMetadata)
    assert _is_utc(session.metadata.created_at) and _is_utc(session.metadata.updated_at)
    assert before <= session.metadata.created_at <= datetime.now(UTC)
    assert session.metadata.properties == {}
    assert isinstance(session.token_summary, TokenSummary)
    assert session.total_tokens == 0 and session.total_cost == 0.0
    assert Session().id != session.id


def test_session_is_generic_over_the_message_type() -> None:
    session = Session[str]()
    assert session.events == []
    typed = Session[str](events=[SessionEvent[str](message="hi")])
    assert typed.events[0].message == "hi"
    with pytest.raises(ValueError):
        SessionEvent[str](message=42)


async def test_create_saves_to_the_default_store(store: InMemorySessionStore) -> None:
    session = await Session.create()
    assert await store.get(session.id) is session
    assert await store.list_sessions() == [session.id]


async def test_create_with_a_parent_links_it_into_the_parents_children(
    store: InMemorySessionStore,
) -> None:
    parent = await Session.create()
    child = await Session.create(parent_id=parent.id)
    assert child.parent_id == parent.id
    reloaded = await store.get(parent.id)
    assert reloaded is not None and reloaded.child_ids == [child.id]


async def test_create_under_a_missing_parent_saves_nothing(store: InMemorySessionStore) -> None:
    with pytest.raises(SessionNotFound):
        await Session.create(parent_id="no-such-parent")
    assert await store.count() == 0


async def test_create_in_an_explicit_store_leaves_the_default_alone(
    store: InMemorySessionStore,
) -> None:
    other = InMemorySessionStore()
    session = await Session.create(store=other)
    assert await other.get(session.id) is session
    assert await store.get(session.id) is None
    assert session.store is other


async def test_ancestors_are_nearest_first() -> None:
    root = await Session.create()
    child = await Session.create(parent_id=root.id)
    grandchild = await Session.create(parent_id=child.id)
    assert [s.id for s in await grandchild.ancestors()] == [child.id, root.id]
    assert [s.id for s in await child.ancestors()] == [root.id]
    assert await root.ancestors() == []


async def test_descendants_cover_all_levels() -> None:
    root = await Session.create()
    child1 = await Session.create(parent_id=root.id)
    child2 = await Session.create(parent_id=root.id)
    grandchild = await Session.create(parent_id=child1.id)
    great = await Session.create(parent_id=grandchild.id)
    ids = [s.id for s in await root.descendants()]
    assert sorted(ids) == sorted([child1.id, child2.id, grandchild.id, great.id])
    assert len(ids) == 4
    assert ids.index(child1.id) < ids.index(grandchild.id) < ids.index(great.id)
    assert [s.id for s in await child1.descendants()] == [grandchild.id, great.id]
    assert await great.descendants() == []


async def test_add_child_never_duplicates_and_remove_child_removes() -> None:
    session = await Session.create()
    await session.add_child("c1")
    await session.add_child("c1")
    await session.add_child("c2")
    assert session.child_ids == ["c1", "c2"]
    await session.remove_child("c1")
    assert session.child_ids == ["c2"]
    await session.remove_child("not-a-child")
    assert session.child_ids == ["c2"]


async def test_last_update_time_follows_the_latest_event() -> None:
    session = Session()
    assert session.last_update_time == session.metadata.created_at
    first = SessionEvent(message="a", timestamp=datetime(2030, 1, 1, tzinfo=UTC))
    second = SessionEvent(message="b", timestamp=datetime(2030, 1, 2, tzinfo=UTC))
    await session.add_event(first)
    assert session.last_update_time == first.timestamp
    await session.add_event(second)
    assert session.last_update_time == second.timestamp


async def test_active_run_is_the_running_one() -> None:
    session = Session()
    assert session.active_run is None
    pending = await SessionRun.create()
    session.runs.append(pending)
    assert session.active_run is None
    running = await SessionRun.create()
    await running.mark_running()
    session.runs.append(running)
    assert session.active_run is running
    await running.mark_completed()
    assert session.active_run is None


async def test_total_tokens_and_cost_add_up_the_events() -> None:
    session = await Session.create()
    first = await _event("Hello, world!", EventSource.USER)
    second = await SessionEvent.create_with_tokens(
        message="reply", prompt="Hello, world!", completion="Hi there", model="gpt-4o"
    )
    await session.add_event_and_save(first)
    await session.add_event_and_save(second)
    assert first.token_usage is not None and second.token_usage is not None
    assert session.total_tokens == first.token_usage.total_tokens + second.token_usage.total_tokens
    assert first.token_usage.estimated_cost_usd is not None
    assert second.token_usage.estimated_cost_usd is not None
    expected = first.token_usage.estimated_cost_usd + second.token_usage.estimated_cost_usd
    assert session.total_cost == pytest.approx(expected)
    assert session.total_cost > 0
    assert set(session.token_summary.usage_by_model) == {"gpt-4o-mini", "gpt-4o"}


async def test_events_without_usage_count_nothing() -> None:
    session = Session()
    await session.add_event(SessionEvent(message="no usage"))
    assert session.total_tokens == 0 and session.total_cost == 0


async def test_add_event_refuses_a_non_event() -> None:
    session = Session()
    with pytest.raises(ValueError, match="event"):
        await session.add_event({"message": "hi"})  # type: ignore[arg-type]
    assert session.events == []


async def test_state_helpers() -> None:
    session = await Session.create()
    assert await session.get_state("k") is None
    assert await session.get_state("k", "default") == "default"
    assert await session.has_state("k") is False
    await session.set_state("k", {"nested": [1, 2.5, "x", None, True]})
    assert await session.has_state("k") is True
    assert await session.get_state("k") == {"nested": [1, 2.5, "x", None, True]}
    await session.remove_state("k")
    assert await session.has_state("k") is False
    await session.remove_state("k")  # removing a missing key is not an error
    assert session.state == {}


async def test_token_usage_by_source() -> None:
    session = Session()
    await session.add_event(await _event("Hello, world!", EventSource.USER))
    await session.add_event(await _event("Hi!", EventSource.LLM))
    await session.add_event(await _event("Hello again", EventSource.USER))
    await session.add_event(SessionEvent(message="no usage", source=EventSource.SYSTEM))
    by_source = await session.get_token_usage_by_source()
    assert set(by_source) == {"user", "llm"}
    user_tokens = (
        count_text("Hello, world!", "gpt-4o-mini").tokens
        + count_text("Hello again", "gpt-4o-mini").tokens
    )
    assert by_source["user"].total_tokens == user_tokens
    assert by_source["llm"].total_tokens == count_text("Hi!", "gpt-4o-mini").tokens
    assert sum(s.total_tokens for s in by_source.values()) == session.total_tokens


async def test_token_usage_by_run() -> None:
    session = Session()
    run = await SessionRun.create()
    await session.add_event(await _event("in the run", task_id=run.id))
    await session.add_event(await _event("also in the run", task_id=run.id))
    await session.add_event(await _event("outside"))
    by_run = await session.get_token_usage_by_run()
    assert set(by_run) == {run.id, "no_run"}
    assert by_run["no_run"].total_tokens == count_text("outside", "gpt-4o-mini").tokens
    assert by_run[run.id].total_tokens + by_run["no_run"].total_tokens == session.total_tokens


async def test_count_message_tokens() -> None:
    session = Session()
    assert await session.count_message_tokens("Hello, world!", "gpt-4o-mini") == 4
    # A message dict counts as its content, with or without a role (as the originals did).
    for message in ({"content": "Hello, world!"}, {"role": "user", "content": "Hello, world!"}):
        assert await session.count_message_tokens(message, "gpt-4o-mini") == 4
    assert await session.count_message_tokens({"role": "user"}, "gpt-4o-mini") == (
        count_text('{"role": "user"}', "gpt-4o-mini").tokens
    )
    assert (
        await session.count_message_tokens(["a", 1], "gpt-4o-mini")
        == count_text('["a", 1]', "gpt-4o-mini").tokens
    )


async def test_async_init_recomputes_the_summary() -> None:
    session = Session()
    event = await _event("Hello, world!")
    session.events.append(event)  # bypasses add_event
    assert session.total_tokens == 0
    await session.async_init()
    assert event.token_usage is not None
    assert session.total_tokens == event.token_usage.total_tokens


def test_token_summary_is_derived_from_events_on_load() -> None:
    data = {
        "events": [
            {"message": "x", "token_usage": {"prompt_tokens": 5, "model": "gpt-4o-mini"}},
            {"message": "y", "token_usage": {"completion_tokens": 3, "model": "gpt-4o-mini"}},
        ],
        "token_summary": {"total_tokens": 999},
    }
    session = Session.model_validate(data)
    assert session.total_tokens == 8


def test_session_round_trips_through_json() -> None:
    session = Session(state={"a": 1}, metadata=SessionMetadata(properties={"p": "v"}))
    session.events.append(SessionEvent(message={"k": [1, 2]}, source=EventSource.USER))
    copy = Session.model_validate_json(session.model_dump_json())
    assert copy.id == session.id
    assert copy.events[0].message == {"k": [1, 2]}
    assert copy.events[0].source is EventSource.USER
    assert copy.state == {"a": 1} and copy.metadata.properties == {"p": "v"}
    assert copy.metadata.created_at == session.metadata.created_at


# -- SessionRun -----------------------------------------------------------------------------


async def test_run_lifecycle() -> None:
    run = await SessionRun.create(metadata={"task": "analysis"})
    assert _is_uuid4(run.id)
    assert run.status is RunStatus.PENDING
    assert run.ended_at is None
    assert await run.get_duration() is None
    await run.mark_running()
    assert run.status is RunStatus.RUNNING
    assert _is_utc(run.started_at)
    running_for = await run.get_duration()
    assert running_for is not None and running_for >= 0
    await run.mark_completed()
    assert run.status is RunStatus.COMPLETED
    assert run.ended_at is not None and run.ended_at >= run.started_at
    assert await run.get_duration() == (run.ended_at - run.started_at).total_seconds()
    assert run.is_finished is True


async def test_run_duration_is_fixed_once_finished() -> None:
    run = SessionRun()
    await run.mark_running()
    await run.mark_completed()
    first = await run.get_duration()
    assert run.ended_at is not None
    # As if it had finished an hour ago: the duration is the run's, not the time since.
    run.started_at -= timedelta(hours=1)
    run.ended_at -= timedelta(hours=1)
    assert await run.get_duration() == first


@pytest.mark.parametrize("final", ["mark_completed", "mark_failed", "mark_cancelled"])
@pytest.mark.parametrize(
    "then", ["mark_running", "mark_completed", "mark_failed", "mark_cancelled"]
)
async def test_finished_runs_cannot_change_status(final: str, then: str) -> None:
    run = SessionRun()
    await run.mark_running()
    await getattr(run, final)()
    status = run.status
    with pytest.raises(InvalidSessionOperation) as info:
        await getattr(run, then)()
    assert run.id in str(info.value)
    assert run.status is status


async def test_a_running_run_cannot_start_again() -> None:
    run = SessionRun()
    await run.mark_running()
    with pytest.raises(InvalidSessionOperation):
        await run.mark_running()
    assert run.status is RunStatus.RUNNING


async def test_mark_failed_and_cancelled_keep_their_reasons() -> None:
    failed = SessionRun()
    await failed.mark_running()
    await failed.mark_failed("tool crashed")
    assert failed.status is RunStatus.FAILED
    assert await failed.get_metadata("failure_reason") == "tool crashed"
    assert failed.ended_at is not None

    cancelled = SessionRun()
    await cancelled.mark_cancelled("user stopped it")
    assert cancelled.status is RunStatus.CANCELLED
    assert await cancelled.get_metadata("cancel_reason") == "user stopped it"

    quiet = SessionRun()
    await quiet.mark_failed()
    assert await quiet.has_metadata("failure_reason") is False


async def test_run_metadata_helpers() -> None:
    run = await SessionRun.create(metadata={"a": 1})
    assert await run.get_metadata("a") == 1
    assert await run.get_metadata("missing", "d") == "d"
    await run.set_metadata("b", [1, 2])
    assert await run.has_metadata("b") is True
    await run.remove_metadata("b")
    assert await run.has_metadata("b") is False
    with pytest.raises(ValueError, match=r"run\.metadata"):
        await run.set_metadata("bad", object())
    assert run.metadata == {"a": 1}


async def test_run_metadata_with_a_none_value_can_be_removed() -> None:
    run = await SessionRun.create(metadata={"a": None})
    await run.remove_metadata("a")
    assert await run.has_metadata("a") is False


async def test_run_tool_calls() -> None:
    session = Session()
    run = SessionRun()
    first = SessionEvent(message={"tool": "a"}, type=EventType.TOOL_CALL, task_id=run.id)
    other = SessionEvent(message="not a tool call")
    second = SessionEvent(message={"tool": "b"}, type=EventType.TOOL_CALL, task_id=run.id)
    for event in (first, other, second):
        await session.add_event(event)
    await run.add_tool_call(second.id)
    await run.add_tool_call(first.id)
    await run.add_tool_call(first.id)
    assert run.tool_calls == [second.id, first.id]
    assert [e.id for e in await run.get_tool_calls(session)] == [first.id, second.id]


async def test_run_to_dict_is_json_ready() -> None:
    run = await SessionRun.create(metadata={"task": "x"})
    await run.mark_running()
    await run.mark_completed()
    data = await run.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["status"] == "completed"
    assert data["id"] == run.id
    assert data["metadata"] == {"task": "x"}
    assert datetime.fromisoformat(data["ended_at"]) == run.ended_at
    assert data["duration"] == await run.get_duration()
    assert data["duration"] >= 0


async def test_run_to_dict_has_no_duration_until_it_ends() -> None:
    run = await SessionRun.create()
    assert (await run.to_dict())["duration"] is None
    await run.mark_running()
    assert (await run.to_dict())["duration"] is None
    await run.mark_failed("boom")
    assert (await run.to_dict())["duration"] == await run.get_duration()


# -- SessionEvent ---------------------------------------------------------------------------


def test_event_defaults() -> None:
    event = SessionEvent(message="hi")
    assert _is_uuid4(event.id)
    assert event.source is EventSource.LLM
    assert event.type is EventType.MESSAGE
    assert _is_utc(event.timestamp)
    assert event.metadata == {}
    assert event.parent_event_id is None and event.task_id is None and event.token_usage is None


def test_event_timestamps_are_stored_in_utc() -> None:
    naive = SessionEvent(message="x", timestamp=datetime(2030, 5, 1, 12, 0))
    assert naive.timestamp == datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    aware = SessionEvent(message="x", timestamp=datetime(2030, 5, 1, 12, 0, tzinfo=plus_two))
    assert aware.timestamp.utcoffset() == timedelta(0)
    assert aware.timestamp.hour == 10


def test_event_message_may_be_any_json_value() -> None:
    for message in ["text", 1, 2.5, True, None, [1, "a"], {"k": {"n": [1]}}]:
        assert SessionEvent(message=message).message == message


def test_parent_event_id_is_lifted_from_metadata() -> None:
    reply = SessionEvent(message="I'll check")
    tool = SessionEvent(
        message={"tool_name": "get_weather"},
        source=EventSource.SYSTEM,
        type=EventType.TOOL_CALL,
        metadata={"parent_event_id": reply.id},
    )
    assert tool.parent_event_id == reply.id
    explicit = SessionEvent(
        message="x", parent_event_id="explicit", metadata={"parent_event_id": "other"}
    )
    assert explicit.parent_event_id == "explicit"


def test_an_invalid_parent_event_id_in_metadata_is_rejected() -> None:
    with pytest.raises(ValueError, match="parent_event_id"):
        SessionEvent(message="x", metadata={"parent_event_id": "../../etc"})


async def test_event_metadata_helpers() -> None:
    event = SessionEvent(message="x", metadata={"a": 1})
    assert await event.get_metadata("a") == 1
    assert await event.get_metadata("missing", 0) == 0
    await event.set_metadata("b", {"nested": True})
    assert await event.has_metadata("b") is True
    await event.update_metadata({"c": 3, "d": [4]})
    await event.update_metadata("e", "five")
    assert event.metadata == {"a": 1, "b": {"nested": True}, "c": 3, "d": [4], "e": "five"}
    await event.remove_metadata("b")
    await event.remove_metadata("never-there")
    assert await event.has_metadata("b") is False


async def test_create_with_tokens_counts_prompt_and_completion() -> None:
    event = await SessionEvent.create_with_tokens(
        message="Hi there",
        prompt="Hello, world!",
        completion="Hi there",
        model="gpt-4o-mini",
        source=EventSource.LLM,
        type=EventType.MESSAGE,
        task_id="run-1",
        metadata={"k": "v"},
    )
    usage = event.token_usage
    assert usage is not None
    assert usage.prompt_tokens == 4
    assert usage.completion_tokens == count_text("Hi there", "gpt-4o-mini").tokens
    assert usage.model == "gpt-4o-mini"
    assert usage.count_method is CountMethod.TOKENIZER
    assert (event.task_id, event.metadata) == ("run-1", {"k": "v"})


async def test_update_token_usage_counts_texts() -> None:
    event = SessionEvent(message="x")
    usage = await event.update_token_usage(prompt="Hello, world!", completion="hi", model="gpt-4")
    assert event.token_usage is usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 1, 5)
    assert usage.model == "gpt-4" and usage.count_method is CountMethod.TOKENIZER


async def test_update_token_usage_keeps_unspecified_parts_and_takes_reported_ints() -> None:
    event = await SessionEvent.create_with_tokens(
        message="x", prompt="Hello, world!", completion="hi", model="gpt-4o-mini"
    )
    usage = await event.update_token_usage(completion=25)
    assert (usage.prompt_tokens, usage.completion_tokens) == (4, 25)
    assert usage.count_method is CountMethod.REPORTED
    assert usage.model == "gpt-4o-mini"
    usage = await event.update_token_usage(model="claude-3-5-sonnet", prompt="Hello, world!")
    assert usage.model == "claude-3-5-sonnet"
    assert usage.count_method is CountMethod.ESTIMATE


async def test_update_token_usage_rejects_negative_counts() -> None:
    event = await _event("Hello, world!")
    before = event.token_usage
    with pytest.raises(ValueError, match="prompt"):
        await event.update_token_usage(prompt=-3)
    assert event.token_usage is before


async def test_a_session_sees_an_events_updated_usage_after_rebuild() -> None:
    session = Session()
    event = await _event("Hello, world!")
    await session.add_event(event)
    await event.update_token_usage(prompt=100, completion=0)
    session.rebuild_token_summary()
    assert session.total_tokens == 100


# -- SessionMetadata ------------------------------------------------------------------------


async def test_session_metadata_helpers() -> None:
    metadata = await SessionMetadata.create(properties={"user": "alice"})
    assert _is_utc(metadata.created_at)
    assert await metadata.get_property("user") == "alice"
    assert await metadata.get_property("missing", "d") == "d"
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)  # no waiting for the clock to move
    metadata.updated_at = long_ago
    await metadata.set_property("plan", "pro")
    assert metadata.properties == {"user": "alice", "plan": "pro"}
    assert metadata.updated_at > long_ago
    metadata.updated_at = long_ago
    await metadata.update_timestamp()
    assert metadata.updated_at > long_ago
    assert _is_utc(metadata.updated_at)
    with pytest.raises(ValueError, match="properties"):
        await metadata.set_property("bad", {1, 2})
    assert "bad" not in metadata.properties


async def test_adding_an_event_stamps_the_session_update_time() -> None:
    session = Session()
    event = SessionEvent(message="x", timestamp=datetime(2031, 1, 1, tzinfo=UTC))
    await session.add_event(event)
    assert session.metadata.updated_at == event.timestamp


# -- changes reach a store that rebuilds sessions from what it wrote ------------------------


async def test_header_and_events_survive_a_fresh_store(
    json_store: EventLogStore, reopen: Callable[[], EventLogStore]
) -> None:
    parent = await Session.create(store=json_store)
    session = await Session.create(parent_id=parent.id, store=json_store)
    await session.set_state("step", 2)
    await session.metadata.set_property("user", "alice")
    run = await SessionRun.create(metadata={"task": "t"})
    await run.mark_running()
    session.runs.append(run)
    await session.add_event_and_save(await _event("Hello, world!", EventSource.USER))
    await session.add_event_and_save(await _event("Hi!", task_id=run.id))

    fresh = reopen()
    loaded = await fresh.get(session.id)
    assert loaded is not None and loaded is not session
    assert [e.message for e in loaded.events] == ["Hello, world!", "Hi!"]
    assert loaded.state == {"step": 2}
    assert loaded.metadata.properties == {"user": "alice"}
    assert [r.id for r in loaded.runs] == [run.id] and loaded.active_run is not None
    assert loaded.total_tokens == session.total_tokens
    loaded_parent = await fresh.get(parent.id)
    assert loaded_parent is not None and loaded_parent.child_ids == [session.id]
    assert [a.id for a in await loaded.ancestors()] == [parent.id]


async def test_run_changes_after_a_save_reach_the_store(
    json_store: EventLogStore, reopen: Callable[[], EventLogStore]
) -> None:
    session = await Session.create(store=json_store)
    run = await SessionRun.create(metadata={"a": 1})
    session.runs.append(run)
    await json_store.save(session)
    await run.mark_running()
    await run.mark_completed()
    await run.remove_metadata("a")
    await json_store.save(session)
    loaded = await reopen().get(session.id)
    assert loaded is not None
    assert loaded.runs[0].status is RunStatus.COMPLETED
    assert loaded.runs[0].metadata == {}


async def test_removing_a_none_valued_run_metadata_key_reaches_the_store(
    json_store: EventLogStore, reopen: Callable[[], EventLogStore]
) -> None:
    session = await Session.create(store=json_store)
    run = await SessionRun.create(metadata={"note": None})
    session.runs.append(run)
    await json_store.save(session)
    await run.remove_metadata("note")
    await json_store.save(session)
    loaded = await reopen().get(session.id)
    assert loaded is not None
    assert loaded.runs[0].metadata == {}


async def test_event_metadata_edits_after_a_save_reach_the_store(
    json_store: EventLogStore, reopen: Callable[[], EventLogStore]
) -> None:
    session = await Session.create(store=json_store)
    event = SessionEvent(message="x", metadata={"a": 1})
    await session.add_event_and_save(event)
    await event.set_metadata("b", 2)
    await event.remove_metadata("a")
    await json_store.save(session)
    loaded = await reopen().get(session.id)
    assert loaded is not None
    assert loaded.events[0].metadata == {"b": 2}


async def test_a_cycle_in_stored_links_does_not_hang_navigation(
    store: InMemorySessionStore,
) -> None:
    a = Session(id="cycle-a", parent_id="cycle-b", child_ids=["cycle-b"])
    b = Session(id="cycle-b", parent_id="cycle-a", child_ids=["cycle-a"])
    await store.save(a)
    await store.save(b)
    assert [s.id for s in await a.ancestors()] == ["cycle-b"]
    assert [s.id for s in await a.descendants()] == ["cycle-b"]


async def test_navigation_skips_a_missing_relative(store: InMemorySessionStore) -> None:
    orphan = Session(parent_id="gone", child_ids=["also-gone"])
    await store.save(orphan)
    assert await orphan.ancestors() == []
    assert await orphan.descendants() == []


async def test_create_with_tokens_takes_the_spec_positional_order() -> None:
    event = await SessionEvent.create_with_tokens(
        "the message",
        "Hello, world!",
        "hi",
        "gpt-4o-mini",
        EventSource.USER,
        EventType.REFERENCE,
        "task-1",
        {"k": 1},
    )
    assert event.message == "the message"
    assert (event.source, event.type, event.task_id) == (
        EventSource.USER,
        EventType.REFERENCE,
        "task-1",
    )
    assert event.metadata == {"k": 1}
    assert event.token_usage is not None
    assert (event.token_usage.prompt_tokens, event.token_usage.completion_tokens) == (4, 1)


async def test_create_refuses_an_id_that_is_taken_and_leaves_the_session_alone() -> None:
    first: Session = await Session.create(id="taken")
    await first.add_event_and_save(SessionEvent(message="kept"))
    with pytest.raises(SessionAlreadyExists, match="taken"):
        await Session.create(id="taken")
    again = await first.store.get("taken")
    assert again is not None and [e.message for e in again.events] == ["kept"]
