"""A lock another process holds for longer than the store's timeout fails the operation with
``StorageError`` (file and SQLite); once it is released the same store carries on."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions.exceptions import InvalidInputError, StorageError
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import FileSessionStore, SessionStore, open_store
from llm_sessions.storage.providers.sqlite import SQLiteSessionStore

if TYPE_CHECKING:
    from store_cases import StoreCase

TIMEOUT = 0.5
NO_HANG = 15.0  # far above the timeout: only a hang reaches it


@contextmanager
def file_lock_held(folder: Path, session_id: str) -> Iterator[None]:
    fd = os.open(folder / f"{session_id}.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a separate open file: conflicts like another process
        yield
    finally:
        os.close(fd)


@contextmanager
def sqlite_write_lock_held(path: Path) -> Iterator[None]:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


@pytest.mark.parametrize("kind", ["file", "sqlite"])
async def test_a_held_lock_fails_within_the_timeout_then_the_store_recovers(
    kind: str, tmp_path: Path
) -> None:
    store: SessionStore
    if kind == "file":
        store = FileSessionStore(tmp_path, timeout=TIMEOUT)
        held = file_lock_held(tmp_path, "busy")
    else:
        store = SQLiteSessionStore(tmp_path / "s.db", timeout=TIMEOUT)
        held = sqlite_write_lock_held(tmp_path / "s.db")
    session: Session[Any] = Session(id="busy")
    await session.add_event(SessionEvent(message="first"))
    await store.save(session)

    await session.add_event(SessionEvent(message="second"))
    with held:
        with pytest.raises(StorageError, match="locked"):
            await asyncio.wait_for(store.save(session), NO_HANG)

    await store.save(session)
    found = await store.get("busy")
    assert found is not None and [e.message for e in found.events] == ["first", "second"]
    await store.close()


async def test_a_timeout_must_be_a_positive_number(durable_case: StoreCase) -> None:
    for bad in (0, -1, float("nan"), None, "soon"):
        with pytest.raises(InvalidInputError, match="timeout"):
            durable_case.open(timeout=bad)


async def test_the_timeout_comes_from_the_url_too(durable_case: StoreCase) -> None:
    joiner = "&" if "?" in durable_case.url else "?"
    store = open_store(f"{durable_case.url}{joiner}timeout=2.5")
    assert store.timeout == 2.5  # type: ignore[attr-defined]
    await store.close()
