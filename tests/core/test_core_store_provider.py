"""The process-wide default store, open_store URLs, and the in-memory store."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from llm_sessions import Session, SessionEvent
from llm_sessions.exceptions import InvalidInputError, InvalidSessionOperation
from llm_sessions.models import SessionMetadata
from llm_sessions.storage import (
    InMemorySessionStore,
    SessionStoreInterface,
    SessionStoreProvider,
    StoreState,
    open_store,
    supported_schemes,
)


def _in_thread(target: Any) -> Any:
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(target())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not errors, errors
    return results[0]


# -- the provider ---------------------------------------------------------------------------


def test_the_default_store_is_in_memory_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_SESSIONS_STORE", raising=False)
    SessionStoreProvider.reset()
    store = SessionStoreProvider.get_store()
    assert isinstance(store, InMemorySessionStore)
    assert SessionStoreProvider.get_store() is store


def test_reset_forgets_the_store() -> None:
    first = SessionStoreProvider.get_store()
    SessionStoreProvider.reset()
    assert SessionStoreProvider.get_store() is not first


def test_concurrent_first_use_creates_one_store() -> None:
    SessionStoreProvider.reset()
    barrier = threading.Barrier(8)
    seen: list[object] = []

    def grab() -> None:
        barrier.wait()
        seen.append(SessionStoreProvider.get_store())

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(seen) == 8
    assert all(store is seen[0] for store in seen)


async def test_set_store_is_seen_from_another_thread_and_event_loop() -> None:
    store = InMemorySessionStore()
    SessionStoreProvider.set_store(store)

    assert _in_thread(SessionStoreProvider.get_store) is store

    async def create_elsewhere() -> str:
        assert SessionStoreProvider.get_store() is store
        session = await Session.create()
        return session.id

    created = _in_thread(lambda: asyncio.run(create_elsewhere()))
    assert await store.get(created) is not None


async def test_a_store_set_in_another_thread_is_seen_here() -> None:
    store = InMemorySessionStore()
    _in_thread(lambda: SessionStoreProvider.set_store(store))
    assert SessionStoreProvider.get_store() is store
    session = await Session.create()
    assert await store.get(session.id) is session


def test_the_environment_variable_names_the_default_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLM_SESSIONS_STORE", "memory://")
    SessionStoreProvider.reset()
    assert isinstance(SessionStoreProvider.get_store(), InMemorySessionStore)


def test_the_environment_variable_is_really_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_SESSIONS_STORE", "bogus-scheme://somewhere")
    SessionStoreProvider.reset()
    with pytest.raises(ValueError, match="bogus-scheme://somewhere"):
        SessionStoreProvider.get_store()


def test_set_store_refuses_something_that_is_not_a_store() -> None:
    current = SessionStoreProvider.get_store()
    with pytest.raises(InvalidInputError, match="store"):
        SessionStoreProvider.set_store(object())  # type: ignore[arg-type]
    assert SessionStoreProvider.get_store() is current


async def test_a_duck_typed_custom_store_is_accepted() -> None:
    class DictStore:
        def __init__(self) -> None:
            self.saved: dict[str, Any] = {}

        async def get(self, session_id: str) -> Any:
            return self.saved.get(session_id)

        async def save(self, session: Any) -> None:
            self.saved[session.id] = session

        async def delete(self, session_id: str) -> None:
            self.saved.pop(session_id, None)

        async def list_sessions(self, prefix: str = "") -> list[str]:
            return [sid for sid in self.saved if sid.startswith(prefix)]

    custom = DictStore()
    assert isinstance(custom, SessionStoreInterface)
    SessionStoreProvider.set_store(custom)
    parent = await Session.create()
    child = await Session.create(parent_id=parent.id)
    assert set(custom.saved) == {parent.id, child.id}
    assert parent.child_ids == [child.id]
    assert [a.id for a in await child.ancestors()] == [parent.id]


# -- open_store -----------------------------------------------------------------------------


def test_open_store_memory() -> None:
    store = open_store("memory://")
    assert isinstance(store, InMemorySessionStore)
    assert open_store("memory://") is not store


def test_an_unknown_scheme_names_the_url_and_lists_the_schemes() -> None:
    with pytest.raises(ValueError) as info:
        open_store("nosuch://host/db")
    message = str(info.value)
    assert "nosuch://host/db" in message
    schemes = supported_schemes()
    assert "memory" in schemes
    for scheme in schemes:
        assert scheme in message


@pytest.mark.parametrize("url", ["", "memory", "/tmp/sessions.db", 42])
def test_a_non_url_is_rejected(url: Any) -> None:
    with pytest.raises(ValueError, match="url"):
        open_store(url)


# -- InMemorySessionStore -------------------------------------------------------------------


async def test_get_returns_the_very_object_saved() -> None:
    store = InMemorySessionStore()
    session = Session()
    await store.save(session)
    assert await store.get(session.id) is session
    await session.add_event(SessionEvent(message="seen at once"))
    fetched = await store.get(session.id)
    assert fetched is not None and len(fetched.events) == 1
    assert await store.get("missing") is None


async def test_list_delete_count_and_clear() -> None:
    store = InMemorySessionStore()
    for session_id in ("user-1", "user-2", "bot-1"):
        await store.save(Session(id=session_id))
    assert await store.count() == 3
    assert await store.list_sessions() == ["bot-1", "user-1", "user-2"]
    assert await store.list_sessions(prefix="user-") == ["user-1", "user-2"]
    assert await store.delete("user-1") is True
    assert await store.delete("user-1") is False
    assert await store.count() == 2
    await store.clear()
    assert await store.count() == 0
    assert await store.list_sessions() == []


async def test_get_by_property_and_by_state() -> None:
    store = InMemorySessionStore()
    alice = Session(metadata=SessionMetadata(properties={"user": "alice"}), state={"step": 1})
    bob = Session(metadata=SessionMetadata(properties={"user": "bob"}), state={"step": 2})
    plain = Session()
    for session in (alice, bob, plain):
        await store.save(session)
    assert await store.get_by_property("user", "alice") == [alice]
    assert await store.get_by_property("user", "carol") == []
    assert await store.get_by_state("step", 2) == [bob]
    assert {s.id for s in await store.get_by_state("step", None)} == {plain.id}


async def test_save_refuses_a_non_session() -> None:
    store = InMemorySessionStore()
    with pytest.raises(InvalidInputError, match="session"):
        await store.save({"id": "x"})  # type: ignore[arg-type]
    assert await store.count() == 0


async def test_a_closed_store_refuses_every_operation() -> None:
    store = InMemorySessionStore()
    session = Session()
    await store.save(session)
    await store.close()
    await store.close()  # idempotent
    assert store.state is StoreState.CLOSED
    operations = {
        "get": lambda: store.get(session.id),
        "save": lambda: store.save(session),
        "delete": lambda: store.delete(session.id),
        "list_sessions": lambda: store.list_sessions(),
        "count": lambda: store.count(),
        "clear": lambda: store.clear(),
        "get_by_property": lambda: store.get_by_property("k", "v"),
        "get_by_state": lambda: store.get_by_state("k", "v"),
    }
    refused = []
    for name, operation in operations.items():
        try:
            await operation()
        except InvalidSessionOperation as exc:
            assert "closed" in str(exc)
            refused.append(name)
    assert refused == list(operations)


async def test_a_closed_store_cannot_be_reopened_as_a_context_manager() -> None:
    async with InMemorySessionStore() as store:
        assert store.state is StoreState.OPEN
        await store.save(Session())
    assert store.state is StoreState.CLOSED
    with pytest.raises(InvalidSessionOperation, match="closed"):
        async with store:
            pass  # pragma: no cover


async def test_sessions_using_a_closed_default_store_fail_loudly() -> None:
    store = SessionStoreProvider.get_store()
    session = await Session.create()
    await store.close()  # type: ignore[attr-defined]
    with pytest.raises(InvalidSessionOperation):
        await session.add_event_and_save(SessionEvent(message="x"))


async def test_expiry_is_refused_where_unsupported_rather_than_ignored() -> None:
    store = InMemorySessionStore()
    session = Session()
    await store.save(session)
    with pytest.raises(InvalidSessionOperation, match="expir"):
        await store.set_expiration(session.id, 60)
