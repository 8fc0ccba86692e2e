"""Which sessions a search reads: those ``find_sessions`` lists for its ``where`` and
``prefix``, never an expired one, and on the SQL stores (which select them in the search's own
query) only after summary rows waiting for a recount are recounted."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from expiry_control import time_passes
from store_cases import StoreCase, drop_case, url_for

from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import SessionStore

if TYPE_CHECKING:
    from collections.abc import Mapping


async def saved(
    store: SessionStore, sid: str, user: str | None, text: str, **properties: Any
) -> Session[Any]:
    session: Session[Any] = Session(id=sid)
    session.metadata.user_id = user
    session.metadata.properties.update(properties)
    await session.add_event(SessionEvent(message=text, source=EventSource.USER))
    await store.save(session)
    return session


async def hit_sessions(store: SessionStore, query: str, **filters: Any) -> set[str]:
    return {hit.session_id for hit in (await store.search(query, limit=100, **filters)).items}


async def listed(store: SessionStore, where: Mapping[str, Any] | None, prefix: str) -> set[str]:
    page = await store.find_sessions(where=where, limit=1000, prefix=prefix)
    return {row.id for row in page.items}


async def test_a_where_reads_the_sessions_find_sessions_lists(store_case: StoreCase) -> None:
    store = store_case.open()
    await saved(store, "a--1", "alice", "the pelican dives", plan="pro")
    await saved(store, "a--2", "alice", "a pelican again", plan="free")
    await saved(store, "b--1", "bob", "pelican here too", plan="pro")
    await saved(store, "b--2", None, "no owner for this pelican", plan="pro")
    reader = store_case.reader(store)
    cases: list[tuple[dict[str, Any] | None, str]] = [
        (None, ""),
        ({"user_id": "alice"}, ""),
        ({"user_id": None}, ""),
        ({"plan": "pro"}, ""),
        ({"plan": "pro", "user_id": "bob"}, ""),
        ({"plan": "pro"}, "a--"),
        ({"user_id": "carol"}, ""),
    ]
    found = {}
    for where, prefix in cases:
        assert await hit_sessions(reader, "pelican", where=where, prefix=prefix) == await listed(
            reader, where, prefix
        )
        found[(str(where), prefix)] = await hit_sessions(
            reader, "pelican", where=where, prefix=prefix
        )
    assert found[(str({"plan": "pro"}), "")] == {"a--1", "b--1", "b--2"}
    assert found[(str({"plan": "pro"}), "a--")] == {"a--1"}
    assert found[(str({"user_id": None}), "")] == {"b--2"}


async def test_an_expired_session_is_never_found(durable_case: StoreCase) -> None:
    store = durable_case.open()
    kept = await saved(store, "kept", "alice", "the heron waits")
    gone = await saved(store, "gone", "alice", "the heron left")
    assert await store.set_expiration(gone.id, 1) is True
    await time_passes(durable_case, 1.2, [kept.id, gone.id])
    for reader in (store, durable_case.open()):
        assert await hit_sessions(reader, "heron") == {kept.id}
        assert await hit_sessions(reader, "heron", where={"user_id": "alice"}) == {kept.id}


@pytest.fixture(params=["sqlite", "postgres"])
async def sql_case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreCase]:
    """SQLite and PostgreSQL: the stores that select a search's sessions in SQL."""
    case = StoreCase(request.param, url_for(request.param, tmp_path, request))
    yield case
    await drop_case(case)


async def run_sql(case: StoreCase, sql: str) -> list[tuple[Any, ...]]:
    """Run ``sql`` on the case's data (``{summaries}``: the table of its summary rows, which
    on SQLite are columns of ``sessions``)."""
    if case.kind == "sqlite":
        connection = sqlite3.connect(urlsplit(case.url).path)
        try:
            with connection:
                return connection.execute(sql.format(summaries="sessions")).fetchall()
        finally:
            connection.close()
    schema = parse_qs(urlsplit(case.url).query)["schema"][0]
    remote = await asyncpg.connect(case.url.split("?")[0])
    try:
        return [
            tuple(row) for row in await remote.fetch(sql.format(summaries=f'"{schema}".summaries'))
        ]
    finally:
        await remote.close()


async def test_rows_waiting_for_a_recount_are_recounted_before_a_where(
    sql_case: StoreCase,
) -> None:
    store = sql_case.open()
    mine = await saved(store, "mine", "alice", "the otter swims")
    await saved(store, "theirs", "bob", "the otter sleeps")
    # What an upgrade leaves: a row to recount, its owner not yet known.
    stale = "true" if sql_case.kind == "postgres" else "1"
    await run_sql(sql_case, f"UPDATE {{summaries}} SET stale = {stale}, user_id = NULL")
    reader = sql_case.open()
    assert await hit_sessions(reader, "otter", where={"user_id": "alice"}) == {mine.id}
    assert await run_sql(sql_case, "SELECT id, user_id FROM {summaries} ORDER BY id") == [
        ("mine", "alice"),
        ("theirs", "bob"),
    ]
    assert await hit_sessions(reader, "otter", where={"user_id": None}) == set()
