"""The store contract, run against every store (``store_case``) or every durable one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from expiry_control import seconds_left, time_passes

from llm_sessions.exceptions import (
    InvalidSessionOperation,
    SessionAlreadyExists,
    SessionNotFound,
)
from llm_sessions.models import (
    EventSource,
    EventType,
    RunStatus,
    Session,
    SessionEvent,
    SessionRun,
    TokenUsage,
)

if TYPE_CHECKING:
    from store_cases import StoreCase


def usage(prompt: int, completion: int) -> TokenUsage:
    return TokenUsage(prompt_tokens=prompt, completion_tokens=completion, model="gpt-4o-mini")


async def full_session() -> Session[Any]:
    """A session with every field set to something other than its default."""
    session: Session[Any] = Session(
        id="round-trip",
        parent_id="the-parent",
        child_ids=["kid-1", "kid-2"],
        task_ids=["task-1"],
        state={"count": 3, "nested": {"list": [1, 2.5, None, True]}, "text": "héllo ✓"},
    )
    await session.metadata.set_property("owner", "alice")
    await session.metadata.set_property("tags", ["a", "b"])
    runs = [SessionRun(id=f"run-{n}") for n in range(5)]
    await runs[1].mark_running()
    await runs[2].mark_completed()
    await runs[3].mark_failed("boom")
    await runs[4].mark_cancelled("stop")
    await runs[0].set_metadata("k", {"v": 1})
    await runs[2].add_tool_call("evt-tool")
    session.runs.extend(runs)
    two_hours_east = timezone(timedelta(hours=2))
    events: list[SessionEvent[Any]] = [
        SessionEvent(message="hi", source=EventSource.USER, token_usage=usage(2, 0)),
        SessionEvent(
            message="hello", source=EventSource.LLM, token_usage=usage(5, 7), task_id="run-1"
        ),
        SessionEvent(
            id="evt-tool",
            message={"tool": "search", "arguments": {"q": "x"}, "result": [1, 2]},
            type=EventType.TOOL_CALL,
            metadata={"latency_ms": 12.5, "ok": True},
            timestamp=datetime(2024, 5, 1, 14, 0, tzinfo=two_hours_east),
        ),
        SessionEvent(message="summary", source=EventSource.SYSTEM, type=EventType.SUMMARY),
    ]
    for event in events:
        await session.add_event(event)
    return session


async def test_round_trip_of_every_field(store_case: StoreCase) -> None:
    store = store_case.open()
    original = await full_session()
    await store.save(original)

    loaded = await store_case.reader(store).get(original.id)

    assert loaded is not None
    assert loaded.model_dump(mode="json") == original.model_dump(mode="json")
    assert [run.status for run in loaded.runs] == [
        RunStatus.PENDING,
        RunStatus.RUNNING,
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.CANCELLED,
    ]
    assert loaded.total_tokens == original.total_tokens == 14
    assert loaded.events[2].timestamp == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    stamps = [loaded.metadata.created_at, loaded.metadata.updated_at]
    stamps += [event.timestamp for event in loaded.events]
    stamps += [run.started_at for run in loaded.runs]
    assert all(stamp.utcoffset() == timedelta(0) for stamp in stamps)
    if not store_case.durable:
        assert loaded is original


async def test_events_keep_their_order_across_saves(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    expected = []
    for batch in range(3):
        for n in range(10):
            expected.append(f"{batch}-{n}")
            await session.add_event(SessionEvent(message=expected[-1]))
        await store.save(session)
    for n in range(5):
        expected.append(f"single-{n}")
        await session.add_event_and_save(SessionEvent(message=expected[-1]))

    loaded = await store_case.reader(store).get(session.id)

    assert loaded is not None
    assert [event.message for event in loaded.events] == expected


async def test_add_event_and_save_reaches_a_fresh_store(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    await store.save(session)
    for n in range(5):
        await session.add_event_and_save(SessionEvent(message=n, token_usage=usage(n, 1)))

    loaded = await store_case.reader(store).get(session.id)

    assert loaded is not None
    assert [event.message for event in loaded.events] == [0, 1, 2, 3, 4]
    assert loaded.total_tokens == sum(range(5)) + 5
    if not store_case.durable:
        assert loaded is session


async def test_a_loaded_session_keeps_appending(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    await session.add_event(SessionEvent(message="first"))
    await store.save(session)

    again = await store_case.reader(store).get(session.id)
    assert again is not None
    await again.add_event_and_save(SessionEvent(message="second"))

    loaded = await store_case.reader(store).get(session.id)
    assert loaded is not None
    assert [event.message for event in loaded.events] == ["first", "second"]


async def test_editing_a_saved_event_is_persisted_in_place(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    for n in range(3):
        await session.add_event(SessionEvent(message=n))
    await store.save(session)
    middle = session.events[1]
    await middle.set_metadata("reviewed", True)
    await store.save(session)
    await middle.update_token_usage(prompt=10, completion=5)
    await session.add_event_and_save(SessionEvent(message=3))

    loaded = await store_case.reader(store).get(session.id)

    assert loaded is not None
    assert [event.message for event in loaded.events] == [0, 1, 2, 3]
    assert loaded.events[1].metadata == {"reviewed": True}
    token_usage = loaded.events[1].token_usage
    assert token_usage is not None
    assert (token_usage.prompt_tokens, token_usage.completion_tokens) == (10, 5)
    assert loaded.total_tokens == 15


async def test_session_totals_follow_an_edited_event() -> None:
    # The writer's own totals, not only a reloaded copy's, follow an edited usage.
    session: Session[Any] = Session()
    await session.add_event(SessionEvent(message="x", token_usage=usage(1, 1)))
    await session.events[0].update_token_usage(prompt=10, completion=5)
    assert session.total_tokens == 15


async def test_an_event_edited_twice_keeps_the_last_edit(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    await session.add_event_and_save(SessionEvent(message="x"))
    for n in range(3):
        await session.events[0].set_metadata("n", n)
        await store.save(session)

    loaded = await store_case.reader(store).get(session.id)

    assert loaded is not None
    assert len(loaded.events) == 1
    assert loaded.events[0].metadata == {"n": 2}


async def test_header_changes_after_the_first_save_are_persisted(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    await store.save(session)
    await session.add_child("child-a")
    await session.add_child("child-b")
    await session.remove_child("child-a")
    await session.set_state("step", 1)
    await session.set_state("gone", True)
    await session.remove_state("gone")
    await session.metadata.set_property("p", "v")
    run = await SessionRun.create()
    session.runs.append(run)
    await store.save(session)
    await run.mark_running()
    await store.save(session)

    loaded = await store_case.reader(store).get(session.id)

    assert loaded is not None
    assert loaded.child_ids == ["child-b"]
    assert loaded.state == {"step": 1}
    assert loaded.metadata.properties == {"p": "v"}
    assert [(r.id, r.status) for r in loaded.runs] == [(run.id, RunStatus.RUNNING)]


async def test_timestamps_survive_every_kind_of_save(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    await store.save(session)
    await session.add_event_and_save(SessionEvent(message="a"))
    await session.add_event_and_save(SessionEvent(message="b"))
    stamps = [(session.metadata.created_at, session.metadata.updated_at)]
    await session.metadata.update_timestamp()  # later than any event
    await store.save(session)
    stamps.append((session.metadata.created_at, session.metadata.updated_at))

    loaded = await store_case.reader(store).get(session.id)

    assert loaded is not None
    assert (loaded.metadata.created_at, loaded.metadata.updated_at) == stamps[-1]
    assert stamps[0][1] == session.events[-1].timestamp < stamps[-1][1]


async def test_delete(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    await session.add_event(SessionEvent(message="x"))
    await store.save(session)

    assert await store.delete(session.id) is True

    assert await store.get(session.id) is None
    assert await store_case.reader(store).get(session.id) is None
    assert session.id not in await store.list_sessions()
    assert await store.delete(session.id) is False


async def test_a_deleted_id_can_be_used_again(store_case: StoreCase) -> None:
    store = store_case.open()
    old: Session[Any] = Session(id="reused")
    await old.add_event(SessionEvent(message="old"))
    await store.save(old)
    await store.delete("reused")
    new: Session[Any] = Session(id="reused")
    await new.add_event(SessionEvent(message="new"))
    await store.save(new)

    loaded = await store_case.reader(store).get("reused")

    assert loaded is not None
    assert [event.message for event in loaded.events] == ["new"]


async def test_list_sessions_with_prefix(store_case: StoreCase) -> None:
    store = store_case.open()
    for session_id in ["beta-1", "alpha-2", "alpha-1", "alphabet"]:
        await store.save(Session(id=session_id))

    fresh = store_case.reader(store)
    assert await fresh.list_sessions("alpha-") == ["alpha-1", "alpha-2"]
    assert await fresh.list_sessions() == ["alpha-1", "alpha-2", "alphabet", "beta-1"]
    assert await fresh.list_sessions("gamma") == []


async def test_get_of_a_missing_id_is_none(store_case: StoreCase) -> None:
    store = store_case.open()
    assert await store.get("no-such-session") is None
    assert await store.list_sessions() == []


def keep_one_open(case: StoreCase) -> None:
    # The fixture's clean-up (drop_all on redis/postgres) uses the first store opened.
    case.open()


async def test_closed_store_operations_raise(store_case: StoreCase) -> None:
    keep_one_open(store_case)
    store = store_case.open()
    session: Session[Any] = Session()
    await store.save(session)
    await store.close()
    await store.close()  # idempotent

    with pytest.raises(InvalidSessionOperation):
        await store.get(session.id)
    with pytest.raises(InvalidSessionOperation):
        await store.save(session)
    with pytest.raises(InvalidSessionOperation):
        await store.delete(session.id)
    with pytest.raises(InvalidSessionOperation):
        await store.list_sessions()
    with pytest.raises(InvalidSessionOperation):
        async with store:
            pass


async def test_store_as_context_manager_closes(store_case: StoreCase) -> None:
    keep_one_open(store_case)
    async with store_case.open() as store:
        await store.save(Session(id="ctx"))
        assert await store.list_sessions() == ["ctx"]
    with pytest.raises(InvalidSessionOperation):
        await store.get("ctx")


# -- expiry (durable stores) -------------------------------------------------------------------


async def test_expiration_seconds_hides_sessions_and_writes_refresh_it(
    durable_case: StoreCase,
) -> None:
    # Both sessions are written with a 1 s expiry; one is then written again through a store
    # with a long expiry. Then 1.2 s pass (see ``expiry_control``): the 1 s expiry is over.
    store = durable_case.open(expiration_seconds=1)
    patient = durable_case.open(expiration_seconds=3600)
    left: Session[Any] = Session(id="left-alone")
    written: Session[Any] = Session(id="written-again")
    for session in (left, written):
        await session.add_event(SessionEvent(message="first"))
        await store.save(session)
    again = await patient.get(written.id)
    assert again is not None
    await again.add_event_and_save(SessionEvent(message="refresh"))
    short, long = [await seconds_left(durable_case, s.id) for s in (left, written)]
    assert short is not None and short <= 1
    assert long is not None and long > 1  # an hour, less the test's own time
    await time_passes(durable_case, 1.2, [left.id, written.id])

    fresh = durable_case.open()
    assert await fresh.get(left.id) is None
    assert await store.get(left.id) is None
    kept = await fresh.get(written.id)
    assert kept is not None and [e.message for e in kept.events] == ["first", "refresh"]
    assert await fresh.list_sessions() == [written.id]


async def test_set_expiration(durable_case: StoreCase) -> None:
    store = durable_case.open()
    short: Session[Any] = Session(id="short")
    kept: Session[Any] = Session(id="kept")
    await store.save(short)
    await store.save(kept)

    assert await store.set_expiration("kept", 1) is True
    assert await store.set_expiration("kept", None) is True  # the next call: well within 1 s
    assert await store.set_expiration("missing", 1) is False
    assert await store.set_expiration("short", 1) is True
    assert await seconds_left(durable_case, "kept") is None
    await time_passes(durable_case, 1.2, ["short", "kept"])

    fresh = durable_case.open()
    assert await fresh.get("short") is None
    assert await fresh.get("kept") is not None
    assert await fresh.list_sessions() == ["kept"]
    assert await fresh.set_expiration("short", 10) is False


async def test_an_expired_session_does_not_come_back(durable_case: StoreCase) -> None:
    store = durable_case.open()
    session: Session[Any] = Session(id="ephemeral")
    await session.add_event(SessionEvent(message="old"))
    await store.save(session)
    await store.set_expiration(session.id, 0.5)
    await time_passes(durable_case, 0.7, [session.id])
    assert await durable_case.open().get(session.id) is None

    # Expired is deleted: a writer that held the session gets SessionNotFound, as after a
    # delete, and only a new session object can take the id again.
    with pytest.raises(SessionNotFound):
        await session.add_event_and_save(SessionEvent(message="late"))
    assert await durable_case.open().get(session.id) is None

    again = await Session.create(id="ephemeral", store=store)
    await again.add_event_and_save(SessionEvent(message="new"))
    loaded = await durable_case.open().get(session.id)
    assert loaded is not None
    assert [event.message for event in loaded.events] == ["new"]


async def test_read_events_pages_in_store_order(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session(id="paged")
    for n in range(7):
        await session.add_event(SessionEvent(id=f"e{n}", message=f"m{n}"))
    await store.save(session)
    read = store_case.reader(store)

    def ids(events: list[SessionEvent[Any]] | None) -> list[str]:
        assert events is not None
        return [event.id for event in events]

    assert ids(await read.read_events("paged")) == [f"e{n}" for n in range(7)]
    assert ids(await read.read_events("paged", limit=3, newest_first=True)) == ["e6", "e5", "e4"]
    assert ids(await read.read_events("paged", before="e4", limit=2, newest_first=True)) == [
        "e3",
        "e2",
    ]
    assert ids(await read.read_events("paged", after="e1", limit=2)) == ["e2", "e3"]
    assert ids(await read.read_events("paged", after="e1", before="e4")) == ["e2", "e3"]
    assert ids(await read.read_events("paged", after="e6")) == []
    assert await read.read_events("no-such-session") is None
    with pytest.raises(ValueError, match="after"):
        await read.read_events("paged", after="not-an-event")
    with pytest.raises(ValueError, match="limit"):
        await read.read_events("paged", limit=-1)


async def test_clear_cache_is_one_coroutine_on_every_store(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    await session.add_event(SessionEvent(message="kept"))
    await store.save(session)

    assert asyncio.iscoroutinefunction(store.clear_cache)  # type: ignore[attr-defined]
    await store.clear_cache()  # type: ignore[attr-defined]

    loaded = await store.get(session.id)
    assert loaded is not None
    assert [event.message for event in loaded.events] == ["kept"]


async def test_saving_a_new_object_over_an_existing_id_is_refused_like_create(
    store_case: StoreCase,
) -> None:
    # A session object that never came from this store cannot overwrite or merge into a
    # stored session of the same id: SessionAlreadyExists, as from Session.create.
    store = store_case.open()
    first: Session[Any] = Session(id="shared", state={"a": 1}, child_ids=["kid-1"])
    await first.add_event(SessionEvent(message="one"))
    await store.save(first)

    second: Session[Any] = Session(id="shared", state={"b": 2}, child_ids=["kid-2"])
    await second.add_event(SessionEvent(message="two"))
    with pytest.raises(SessionAlreadyExists):
        await store.save(second)
    with pytest.raises(SessionAlreadyExists):
        await Session.create(id="shared", store=store)

    loaded = await store_case.reader(store).get("shared")
    assert loaded is not None
    assert [event.message for event in loaded.events] == ["one"]
    assert loaded.state == {"a": 1}
    await first.add_event_and_save(SessionEvent(message="still the owner"))
