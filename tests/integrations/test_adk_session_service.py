"""The ADK session service against ADK's own services, with a real ADK Runner and a scripted
model, on SQLite, Redis and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from adk_script import APP, comparable, converse, runner
from google.adk.errors import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events import Event, EventActions
from google.adk.sessions import (
    BaseSessionService,
    DatabaseSessionService,
    InMemorySessionService,
)
from google.adk.sessions.base_session_service import GetSessionConfig
from google.genai import types

from llm_sessions.exceptions import InvalidInputError, StorageError
from llm_sessions.integrations.adk import STATE_SESSION_PREFIX, LLMSessionsSessionService
from llm_sessions.models import EventType
from llm_sessions.server.tenancy import TenantStore
from llm_sessions.storage import SessionStore
from llm_sessions.storage.memory import InMemorySessionStore
from llm_sessions.storage.postgres import PostgresSessionStore
from llm_sessions.storage.redis import RedisSessionStore
from llm_sessions.storage.sqlite import SQLiteSessionStore


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    """Each durable store, cleaned up afterwards."""
    if request.param == "sqlite":
        sqlite = SQLiteSessionStore(str(tmp_path / "adk.db"))
        yield sqlite
        await sqlite.close()
    elif request.param == "redis":
        url = request.getfixturevalue("redis_url")
        redis = RedisSessionStore.from_url(url, key_prefix=f"test-adk-{uuid.uuid4().hex[:10]}:")
        yield redis
        await redis.drop_all()
        await redis.close()
    else:
        url = request.getfixturevalue("postgres_url")
        schema = f"test_adk_{uuid.uuid4().hex[:10]}"
        postgres = PostgresSessionStore(url, schema=schema)
        yield postgres
        await postgres.close()
        connection = await asyncpg.connect(url)
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


async def play(service: BaseSessionService) -> dict[str, Any]:
    """The script in two users' sessions; what the service then shows."""
    await service.create_session(
        app_name=APP, user_id="ann", state={"plan": "free", "temp:x": 1}, session_id="s-ann"
    )
    await service.create_session(app_name=APP, user_id="bob", session_id="s-bob")
    await converse(service, "ann", "s-ann")
    await converse(service, "bob", "s-bob")
    ann = await service.get_session(app_name=APP, user_id="ann", session_id="s-ann")
    bob = await service.get_session(app_name=APP, user_id="bob", session_id="s-bob")
    recent = await service.get_session(
        app_name=APP,
        user_id="ann",
        session_id="s-ann",
        config=GetSessionConfig(num_recent_events=3),
    )
    assert ann is not None and bob is not None and recent is not None
    listed = await service.list_sessions(app_name=APP)
    mine = await service.list_sessions(app_name=APP, user_id="bob")
    return {
        "ann_state": ann.state,
        "bob_state": bob.state,
        "ann_events": [comparable(event) for event in ann.events],
        "recent": [comparable(event) for event in recent.events],
        "listed": [(s.id, s.user_id, s.state, s.events) for s in listed.sessions],
        "mine": [(s.id, s.user_id, s.state) for s in mine.sessions],
        "user_state": await service.get_user_state(app_name=APP, user_id="ann"),
    }


async def test_the_script_gives_what_adks_own_services_give(
    store: SessionStore, tmp_path: Path
) -> None:
    ours = await play(LLMSessionsSessionService(store=store))
    in_memory = await play(InMemorySessionService())
    database = DatabaseSessionService(f"sqlite+aiosqlite:///{tmp_path / 'adk_own.db'}")
    theirs = await play(database)
    await database.close()
    assert ours == in_memory == theirs
    assert ours["ann_state"] == {
        "plan": "free",
        "asked": ["Paris", "Oslo"],
        "app:lookups": 4,
        "user:last_city": "Oslo",
    }
    assert len(ours["ann_events"]) == 12 and len(ours["recent"]) == 3


async def test_events_round_trip_exactly_and_are_recorded_as_ours(store: SessionStore) -> None:
    service = LLMSessionsSessionService(store=store)
    await service.create_session(app_name=APP, user_id="ann", session_id="s1")
    yielded = await converse(service, "ann", "s1")
    read = await service.get_session(app_name=APP, user_id="ann", session_id="s1")
    assert read is not None
    by_id = {event.id: event for event in read.events}
    assert [by_id[event.id].model_dump() for event in yielded] == [
        event.model_dump() for event in yielded
    ]
    stored = await store.get("s1")
    assert stored is not None and len(stored.events) == 12
    assert stored.events[0].message == {"role": "user", "content": "Hi there"}
    calls = [event for event in stored.events if event.type == EventType.TOOL_CALL]
    assert len(calls) == 4  # two calls, two results
    # six model responses, each reporting 100 prompt and 20 completion tokens
    replies = [event for event in stored.events if event.token_usage.prompt_tokens == 100]
    assert len(replies) == 6 and stored.total_cost > 0


async def test_after_timestamp_keeps_the_later_events(store: SessionStore) -> None:
    service = LLMSessionsSessionService(store=store)
    await service.create_session(app_name=APP, user_id="ann", session_id="s1")
    await converse(service, "ann", "s1")
    whole = await service.get_session(app_name=APP, user_id="ann", session_id="s1")
    assert whole is not None
    cut = whole.events[5].timestamp
    later = await service.get_session(
        app_name=APP,
        user_id="ann",
        session_id="s1",
        config=GetSessionConfig(after_timestamp=cut),
    )
    assert later is not None
    assert later.events == [event for event in whole.events if event.timestamp >= cut]


async def test_a_stale_session_object_is_refused_and_stores_nothing(store: SessionStore) -> None:
    service = LLMSessionsSessionService(store=store)
    await service.create_session(app_name=APP, user_id="ann", session_id="s1")
    first = await service.get_session(app_name=APP, user_id="ann", session_id="s1")
    second = await service.get_session(app_name=APP, user_id="ann", session_id="s1")
    assert first is not None and second is not None
    await service.append_event(
        first, Event(author="user", actions=EventActions(state_delta={"a": 1}))
    )
    with pytest.raises(StaleSessionError):
        await service.append_event(
            second, Event(author="user", actions=EventActions(state_delta={"a": 2}))
        )
    now = await service.get_session(app_name=APP, user_id="ann", session_id="s1")
    assert now is not None and now.state == {"a": 1} and len(now.events) == 1


async def test_a_state_value_json_cannot_carry_is_refused_and_stores_nothing(
    store: SessionStore,
) -> None:
    service = LLMSessionsSessionService(store=store)
    session = await service.create_session(app_name=APP, user_id="ann", session_id="s1")
    event = Event(author="user", actions=EventActions(state_delta={"user:when": {1, 2}}))
    with pytest.raises(InvalidInputError, match="user:when"):
        await service.append_event(session, event)
    now = await service.get_session(app_name=APP, user_id="ann", session_id="s1")
    assert now is not None and now.events == [] and now.state == {}
    assert await service.get_user_state(app_name=APP, user_id="ann") == {}


def cut_writes(
    monkeypatch: pytest.MonkeyPatch, store: SessionStore, where: Callable[[str], bool]
) -> None:
    """Make the store fail every write to a session ``where`` picks, as a process that stops
    there would leave it."""
    write = store._write  # type: ignore[attr-defined]

    async def cut_short(batch: Any) -> None:
        if where(batch.session_id):
            raise StorageError(f"stopped before writing {batch.session_id!r}")
        await write(batch)

    monkeypatch.setattr(store, "_write", cut_short)


SHARED_DELTA = {"app:lookups": 1, "user:city": "Oslo", "plan": "pro", "temp:t": 0}


@pytest.mark.parametrize("written", [1, 2], ids=["before-user-state", "before-app-state"])
async def test_shared_state_cut_short_after_its_event_is_finished_by_the_next_reader(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch, written: int
) -> None:
    service = LLMSessionsSessionService(store=store)
    ann = await service.create_session(app_name=APP, user_id="ann", session_id="s1")
    await service.create_session(app_name=APP, user_id="bob", session_id="s2")
    state_writes = []

    def after_the_event(name: str) -> bool:
        if name.startswith(STATE_SESSION_PREFIX):
            state_writes.append(name)
        return len(state_writes) > written  # the first is the note before the event

    cut_writes(monkeypatch, store, after_the_event)
    event = Event(author="user", actions=EventActions(state_delta=dict(SHARED_DELTA)))
    with pytest.raises(StorageError, match="stopped before"):
        await service.append_event(ann, event)
    monkeypatch.undo()
    again = LLMSessionsSessionService(store=store)
    bob = await again.get_session(app_name=APP, user_id="bob", session_id="s2")
    assert bob is not None and bob.state == {"app:lookups": 1}
    read = await again.get_session(app_name=APP, user_id="ann", session_id="s1")
    assert read is not None and [e.id for e in read.events] == [event.id]
    assert read.state == {"plan": "pro", "app:lookups": 1, "user:city": "Oslo"}
    assert await again.get_user_state(app_name=APP, user_id="ann") == {"city": "Oslo"}
    stored = await store.get("s1")
    assert stored is not None and "adk_pending" not in stored.metadata.properties


async def test_an_event_whose_write_fails_changes_no_shared_state(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = LLMSessionsSessionService(store=store)
    ann = await service.create_session(app_name=APP, user_id="ann", session_id="s1")
    cut_writes(monkeypatch, store, lambda name: name == "s1")
    event = Event(author="user", actions=EventActions(state_delta=dict(SHARED_DELTA)))
    with pytest.raises(StorageError, match="stopped before"):
        await service.append_event(ann, event)
    monkeypatch.undo()
    read = await service.get_session(app_name=APP, user_id="ann", session_id="s1")
    assert read is not None and read.events == [] and read.state == {}
    assert await service.get_user_state(app_name=APP, user_id="ann") == {}
    assert [s.state for s in (await service.list_sessions(app_name=APP)).sessions] == [{}]


@pytest.mark.parametrize("bad", [{1, 2}, object(), float("nan")], ids=["set", "object", "nan"])
async def test_an_event_json_cannot_carry_exactly_is_refused_and_stores_nothing(
    store: SessionStore, bad: Any
) -> None:
    service = LLMSessionsSessionService(store=store)
    session = await service.create_session(app_name=APP, user_id="ann", session_id="s1")
    event = Event(
        author="user", custom_metadata={"x": bad}, actions=EventActions(state_delta={"app:a": 1})
    )
    with pytest.raises(InvalidInputError, match=r"event\.custom_metadata"):
        await service.append_event(session, event)
    now = await service.get_session(app_name=APP, user_id="ann", session_id="s1")
    assert now is not None and now.events == [] and now.state == {}
    stored = await store.get("s1")
    assert stored is not None and stored.events == []


async def test_another_tenants_session_id_is_refused_and_nothing_is_stored() -> None:
    shared = InMemorySessionStore()
    service = LLMSessionsSessionService(store=TenantStore(shared, "acme"))
    with pytest.raises(InvalidInputError, match="session_id"):
        await service.create_session(app_name=APP, user_id="ann", session_id="other.s1")
    assert await shared.list_sessions() == []
    made = await service.create_session(app_name=APP, user_id="ann", state={"app:x": 1})
    assert made.id.startswith("acme.") and made.state == {"app:x": 1}
    assert all(name.startswith("acme.") for name in await shared.list_sessions())
    other = LLMSessionsSessionService(store=TenantStore(shared, "other"))
    theirs = await other.create_session(app_name=APP, user_id="ann", state={"app:x": 2})
    assert [s.id for s in (await service.list_sessions(app_name=APP)).sessions] == [made.id]
    assert (await other.list_sessions(app_name=APP)).sessions[0].state == {"app:x": 2}
    assert await service.get_session(app_name=APP, user_id="ann", session_id=theirs.id) is None
    with pytest.raises(SessionNotFoundError):
        await service.append_event(theirs, Event(author="user", content=None))
    await service.delete_session(app_name=APP, user_id="ann", session_id=theirs.id)
    kept = await other.get_session(app_name=APP, user_id="ann", session_id=theirs.id)
    assert kept is not None and kept.events == [] and kept.state == {"app:x": 2}


async def test_create_refuses_a_taken_id_and_delete_removes_the_session(
    store: SessionStore,
) -> None:
    service = LLMSessionsSessionService(store=store)
    await service.create_session(app_name=APP, user_id="ann", session_id="s1")
    with pytest.raises(AlreadyExistsError):
        await service.create_session(app_name=APP, user_id="bob", session_id="s1")
    assert await service.get_session(app_name=APP, user_id="bob", session_id="s1") is None
    assert await service.get_session(app_name="other", user_id="ann", session_id="s1") is None
    await service.delete_session(app_name=APP, user_id="bob", session_id="s1")  # not bob's
    assert await store.get("s1") is not None
    await service.delete_session(app_name=APP, user_id="ann", session_id="s1")
    assert await store.get("s1") is None
    assert (await service.list_sessions(app_name=APP)).sessions == []


async def test_a_runner_resumes_a_session_through_a_new_service(store: SessionStore) -> None:
    await LLMSessionsSessionService(store=store).create_session(
        app_name=APP, user_id="ann", session_id="s1"
    )
    again = LLMSessionsSessionService(store=store)
    message = types.Content(role="user", parts=[types.Part(text="Hi there")])
    events = [
        e
        async for e in runner(again).run_async(user_id="ann", session_id="s1", new_message=message)
    ]
    assert events[-1].content is not None and events[-1].content.parts
    read = await again.get_session(app_name=APP, user_id="ann", session_id="s1")
    assert read is not None and len(read.events) == 2
