"""Unreadable records: ``CorruptSessionData`` naming the store and the place, a warning in the
log, neighbours unaffected, writes refused rather than piled on top, and ``vacuum()`` moving the
record aside."""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from llm_sessions.exceptions import CorruptSessionData
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import FileSessionStore
from llm_sessions.storage.providers.sqlite import SQLiteSessionStore


async def two_sessions(store: Any) -> Session[Any]:
    """Saves a neighbour and a victim; returns the victim."""
    for session_id in ("neighbour", "victim"):
        session: Session[Any] = Session(id=session_id)
        await session.add_event(SessionEvent(message=f"{session_id} says hi"))
        await store.save(session)
    victim = await store.get("victim")
    assert victim is not None
    return victim


async def assert_contained(
    store: Any, victim: Session[Any], where: str, *, refuses_writes: bool = True
) -> None:
    with pytest.raises(CorruptSessionData) as caught:
        await store.get("victim")
    assert where in str(caught.value)
    if refuses_writes:
        await victim.add_event(SessionEvent(message="on top"))
        with pytest.raises(CorruptSessionData):
            await store.save(victim)
    neighbour = await store.get("neighbour")
    assert neighbour is not None and neighbour.events[0].message == "neighbour says hi"
    assert "neighbour" in await store.list_sessions()


async def test_a_file_header_with_a_bad_expiry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FileSessionStore(tmp_path)
    victim = await two_sessions(store)
    header = tmp_path / "victim.json"
    doc = json.loads(header.read_text())
    header.write_text(json.dumps({**doc, "expires_at": "tomorrow"}))

    with caplog.at_level(logging.WARNING, "llm_sessions.storage"):
        await assert_contained(store, victim, str(header))
    assert "tomorrow" in caplog.text

    assert await store.vacuum() >= 1
    assert await store.get("victim") is None
    assert any((tmp_path / "quarantine").iterdir())
    assert await store.list_sessions() == ["neighbour"]


def quarantined(database: Path) -> list[dict[str, Any]]:
    text = Path(f"{database}.quarantine.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


SQLITE_DAMAGE = {
    "expires_at": "UPDATE sessions SET expires_at = 'soon' WHERE id = 'victim'",
    "created_at": "UPDATE sessions SET created_at = 'long ago' WHERE id = 'victim'",
    "properties": "UPDATE sessions SET properties = '[1, 2]' WHERE id = 'victim'",
}


@pytest.mark.parametrize("column", sorted(SQLITE_DAMAGE))
async def test_a_sqlite_session_row_that_cannot_be_read(
    column: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    victim = await two_sessions(store)
    with sqlite3.connect(path) as raw:
        raw.execute(SQLITE_DAMAGE[column])

    with caplog.at_level(logging.WARNING, "llm_sessions.storage"):
        await assert_contained(store, victim, f"{path} (session 'victim')")
    assert "Unreadable session header" in caplog.text

    assert await store.vacuum() == 1
    assert await store.get("victim") is None
    assert await store.list_sessions() == ["neighbour"]
    moved = quarantined(path)
    assert {record["table"] for record in moved} >= {"sessions", "events"}
    assert await store.vacuum() == 0
    await store.close()


async def test_a_sqlite_state_value_that_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    await two_sessions(store)
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO state VALUES ('victim', 'k', '{not json')")
    with pytest.raises(CorruptSessionData, match="victim"):
        await store.get("victim")
    assert await store.vacuum() == 1
    assert await store.get("victim") is None
    await store.close()


async def test_an_empty_sqlite_event_row_is_logged_and_vacuumed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    await two_sessions(store)
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO events (session_id, event_id, body) VALUES ('victim', 'e', '')")

    with caplog.at_level(logging.WARNING, "llm_sessions.storage"):
        victim = await store.get("victim")
    assert victim is not None and [e.message for e in victim.events] == ["victim says hi"]
    assert "unreadable event #1" in caplog.text

    assert await store.vacuum() == 1
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM events WHERE body = ''").fetchone() == (0,)
    victim = await store.get("victim")
    assert victim is not None and len(victim.events) == 1
    await store.close()


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[Any]:
    from redis.asyncio import Redis

    from llm_sessions.storage.providers.redis import RedisSessionStore

    client = Redis.from_url(redis_url)
    store = RedisSessionStore(client, key_prefix=f"test-{uuid.uuid4().hex[:12]}:")
    yield store
    await store.drop_all()
    await client.aclose()


@pytest.mark.redis
async def test_a_redis_header_that_cannot_be_read_is_quarantined(redis_store: Any) -> None:
    victim = await two_sessions(redis_store)
    prefix = redis_store.key_prefix
    await redis_store.client.hset(f"{prefix}{{victim}}:meta", "created_at", "long ago")

    await assert_contained(redis_store, victim, f"{prefix}{{victim}}:meta")
    assert await redis_store.vacuum() == 1
    assert await redis_store.get("victim") is None
    assert await redis_store.list_sessions() == ["neighbour"]
    moved = [key async for key in redis_store.client.scan_iter(match=f"{prefix}*quarantined*")]
    assert len(moved) >= 2
    assert await redis_store.vacuum() == 0


@pytest.mark.redis
async def test_an_empty_redis_event_row_is_logged_and_vacuumed(
    redis_store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await two_sessions(redis_store)
    events_key = f"{redis_store.key_prefix}{{victim}}:events"
    await redis_store.client.linsert(
        events_key, "BEFORE", await redis_store.client.lindex(events_key, 0), ""
    )

    with caplog.at_level(logging.WARNING, "llm_sessions.storage"):
        victim = await redis_store.get("victim")
    assert victim is not None and len(victim.events) == 1
    assert "unreadable event #0" in caplog.text and redis_store.key_prefix in caplog.text

    assert await redis_store.vacuum() == 1
    assert await redis_store.client.llen(events_key) == 1
    victim = await redis_store.get("victim")
    assert victim is not None
    victim.events[0].message = "edited in place"  # the index points at the moved row
    await victim.add_event(SessionEvent(message="appended"))
    await redis_store.save(victim)
    again = await redis_store.get("victim")
    assert again is not None
    assert [e.message for e in again.events] == ["edited in place", "appended"]


@pytest.mark.redis
async def test_a_reader_whose_last_event_was_vacuumed_still_sees_what_followed(
    redis_store: Any,
) -> None:
    # The vacuumed row's id must not stay in the index: a cursor on it would point at the row
    # that slid into its place, and the reader would miss that row.
    writer: Session[Any] = Session(id="victim")
    await writer.add_event(SessionEvent(message="first"))
    await redis_store.save(writer)
    await writer.add_event_and_save(SessionEvent(message="second"))
    reader = await redis_store.get("victim")
    assert reader is not None  # it has read through "second"
    await writer.add_event_and_save(SessionEvent(message="third"))
    events_key = f"{redis_store.key_prefix}{{victim}}:events"
    second_id = writer.events[1].id
    await redis_store.client.lset(events_key, 1, f'{{"id":"{second_id}","message":')

    assert await redis_store.vacuum() == 1
    refreshed = await redis_store.refresh(reader)
    assert refreshed is not None
    assert [e.message for e in refreshed.events] == ["first", "third"]


@pytest.fixture
async def postgres_store(postgres_url: str) -> AsyncIterator[Any]:
    from llm_sessions.storage import open_store

    store = open_store(f"{postgres_url}?schema=test_{uuid.uuid4().hex[:12]}")
    yield store
    await store.drop_all()  # type: ignore[attr-defined]
    await store.close()


async def postgres_execute(store: Any, sql: str) -> None:
    await store._run("damage", "test", lambda c: c.execute(sql.format(s=f'"{store.schema}"')))


@pytest.mark.postgres
async def test_a_postgres_session_that_cannot_be_read_is_quarantined(postgres_store: Any) -> None:
    victim = await two_sessions(postgres_store)
    await postgres_execute(
        postgres_store,
        "INSERT INTO {s}.runs (session_id, run_id, body)"
        """ VALUES ('victim', 'r', '{{"id": "r", "status": "exploded"}}')""",
    )
    # Typed columns hold the header; a run that cannot be read does not stop a write.
    await assert_contained(postgres_store, victim, "session_id='victim'", refuses_writes=False)

    assert await postgres_store.vacuum() == 1
    assert await postgres_store.get("victim") is None
    assert await postgres_store.list_sessions() == ["neighbour"]
    assert await postgres_store.vacuum() == 0


@pytest.mark.postgres
async def test_an_unreadable_postgres_event_row_is_logged_and_vacuumed(
    postgres_store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await two_sessions(postgres_store)
    await postgres_execute(
        postgres_store,
        "INSERT INTO {s}.events (session_id, event_id, body) VALUES ('victim', 'x', '\"\"')",
    )
    with caplog.at_level(logging.WARNING, "llm_sessions.storage"):
        victim = await postgres_store.get("victim")
    assert victim is not None and len(victim.events) == 1
    assert "unreadable event #1" in caplog.text

    assert await postgres_store.vacuum() == 1
    victim = await postgres_store.get("victim")
    assert victim is not None and [e.message for e in victim.events] == ["victim says hi"]
    assert await postgres_store.vacuum() == 0
