"""A Redis that freezes or goes away: each operation fails with ``StorageError`` within the
store's timeout, the store recovers by itself when the server is back, and no acknowledged
event is lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from private_servers import PrivateRedis, messages_in

from llm_sessions.exceptions import StorageError
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import open_store

TIMEOUT = 1.0
NO_HANG = 15.0  # far above the timeout: only a hang reaches it


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    if not PrivateRedis.available():
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


async def append(store: Any, session: Session[Any], text: str) -> None:
    await session.add_event(SessionEvent(message=text))
    await store.save(session)


async def test_a_frozen_server_fails_each_call_within_the_timeout(
    redis_server: PrivateRedis,
) -> None:
    url = f"{redis_server.url}?timeout={TIMEOUT}"
    store = open_store(url)
    session: Session[Any] = Session(id="frozen")
    await append(store, session, "before")

    redis_server.freeze()
    try:
        actions: list[Callable[[], Awaitable[Any]]] = [
            lambda: append(store, session, "during"),
            lambda: store.get("frozen"),
            store.list_sessions,
        ]
        for action in actions:
            with pytest.raises(StorageError, match="within"):
                await asyncio.wait_for(action(), NO_HANG)
    finally:
        redis_server.thaw()

    await append(store, session, "after")  # the same store object recovers by itself
    await store.close()
    messages = await messages_in(open_store(url), "frozen")
    assert messages[0] == "before" and messages[-1] == "after"
    assert set(messages) <= {"before", "during", "after"}  # "during" may or may not have landed


async def test_a_server_that_goes_away_and_returns_loses_nothing_acknowledged(
    redis_server: PrivateRedis,
) -> None:
    url = f"{redis_server.url}?timeout={TIMEOUT}"
    store = open_store(url)
    session: Session[Any] = Session(id="restart")
    acknowledged = []
    for n in range(20):
        await append(store, session, f"m{n}")
        acknowledged.append(f"m{n}")

    redis_server.shutdown_nosave()
    with pytest.raises(StorageError):
        await asyncio.wait_for(append(store, session, "while down"), NO_HANG)

    redis_server.start()
    await append(store, session, "back")
    acknowledged.append("back")
    await store.close()
    messages = await messages_in(open_store(url), "restart")
    assert [m for m in messages if m != "while down"] == acknowledged


async def test_a_refresh_reloads_the_scripts_a_restarted_server_lost(
    redis_server: PrivateRedis,
) -> None:
    store = open_store(redis_server.url)
    writer = open_store(redis_server.url)
    session: Session[Any] = Session(id="scripts")
    await append(store, session, "one")
    assert await store.refresh(session) is session  # the read script is loaded and used
    redis_server.shutdown_nosave()  # the append-only file keeps the data, not the scripts
    redis_server.start()
    other = await writer.get("scripts")
    assert other is not None
    await append(writer, other, "two")  # the write script is loaded again by its own call;
    # nothing has loaded the read script since the restart
    assert await asyncio.wait_for(store.refresh(session), NO_HANG) is session
    assert [event.message for event in session.events] == ["one", "two"]
    await store.close()
    await writer.close()
