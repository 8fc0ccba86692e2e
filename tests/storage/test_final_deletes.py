"""Deletes are final: a writer holding a deleted session gets ``SessionNotFound`` instead of
recreating it, and a new session of the same id starts empty."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions.exceptions import SessionNotFound
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import FileSessionStore, SessionStore

if TYPE_CHECKING:
    from store_cases import StoreCase


def other_process(case: StoreCase, store: SessionStore) -> SessionStore:
    """A second store object on the same data (the memory store has only itself)."""
    return case.open() if case.durable else store


async def messages(store: SessionStore, session_id: str) -> list[Any] | None:
    session = await store.get(session_id)
    return None if session is None else [event.message for event in session.events]


async def test_a_stale_writer_cannot_resurrect_a_deleted_session(store_case: StoreCase) -> None:
    writer = store_case.open()
    session: Session[Any] = Session()
    await writer.save(session)
    await session.add_event_and_save(SessionEvent(message="a"))
    await session.add_event_and_save(SessionEvent(message="b"))
    deleter = other_process(store_case, writer)

    assert await deleter.delete(session.id)

    with pytest.raises(SessionNotFound):
        await session.add_event_and_save(SessionEvent(message="late"))
    with pytest.raises(SessionNotFound):
        await session.set_state("k", 1)
    assert [e.message for e in session.events] == ["a", "b"]  # the refused event is taken back
    assert await messages(deleter, session.id) is None
    assert await messages(other_process(store_case, writer), session.id) is None
    assert session.id not in await deleter.list_sessions()


async def test_a_loaded_copy_is_stale_after_a_delete_too(durable_case: StoreCase) -> None:
    store = durable_case.open()
    session: Session[Any] = Session()
    await store.save(session)
    await session.add_event_and_save(SessionEvent(message="a"))
    loaded = await durable_case.open().get(session.id)
    assert loaded is not None

    await store.delete(session.id)

    with pytest.raises(SessionNotFound):
        await loaded.add_event_and_save(SessionEvent(message="late"))
    assert await messages(durable_case.open(), session.id) is None


async def test_a_new_session_can_take_a_deleted_id_and_starts_empty(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    old = await Session.create(id="reused", store=store)
    await old.add_event_and_save(SessionEvent(message="private-0"))
    await other_process(store_case, store).delete("reused")

    new = await Session.create(id="reused", store=store)
    await new.add_event_and_save(SessionEvent(message="fresh"))

    assert await messages(other_process(store_case, store), "reused") == ["fresh"]


def drop_only_the_header(store: FileSessionStore, session_id: str) -> None:
    """What a delete that crashed half-way used to leave: an event log and no header."""
    files = store._files(session_id)
    assert os.path.getsize(files.events) > 0
    os.unlink(files.header)


async def test_a_crash_that_left_the_event_log_behind_leaks_nothing(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path)
    old = await Session.create(id="crashed", store=store)
    for n in range(3):
        await old.add_event_and_save(SessionEvent(message=f"private-{n}"))
    drop_only_the_header(store, "crashed")

    new = await Session.create(id="crashed", store=FileSessionStore(tmp_path))
    await new.add_event_and_save(SessionEvent(message="mine"))

    assert await messages(FileSessionStore(tmp_path), "crashed") == ["mine"]


async def test_the_file_store_removes_the_log_before_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileSessionStore(tmp_path)
    session = await Session.create(id="ordered", store=store)
    await session.add_event_and_save(SessionEvent(message="x"))
    removed: list[str] = []
    real_unlink = os.unlink

    def recording_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        removed.append(os.fspath(path))
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", recording_unlink)
    assert await store.delete("ordered")
    monkeypatch.undo()

    header = store._location("ordered")
    assert header in removed
    assert removed.index(header) > 0  # the event log went first
