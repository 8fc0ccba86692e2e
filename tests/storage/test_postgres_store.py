"""What only the PostgreSQL store does: a lazily created, versioned schema, atomic batches,
exact JSON, pruning and driver failures (the shared behaviour is in test_contract.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from llm_sessions.exceptions import (
    CorruptSessionData,
    InvalidInputError,
    SessionAlreadyExists,
    SessionNotFound,
    StorageError,
)
from llm_sessions.models import Session, SessionEvent, SessionRun
from llm_sessions.storage import open_store, supported_schemes
from llm_sessions.storage._binding import binding_of, sync_state_for
from llm_sessions.storage.providers.postgres import SCHEMA_VERSION, PostgresSessionStore

pytestmark = pytest.mark.postgres

NO_HANG = 30.0  # a refused connection fails at once; only a hang reaches this


@pytest.fixture
def schema() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def sql(postgres_url: str, schema: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection for looking at (and tampering with) the tables; drops the schema."""
    connection = await asyncpg.connect(postgres_url)
    yield connection
    await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await connection.close()


@pytest.fixture
async def store(
    postgres_url: str, schema: str, sql: asyncpg.Connection
) -> AsyncIterator[PostgresSessionStore]:
    pg_store = PostgresSessionStore(postgres_url, schema=schema)
    yield pg_store
    await pg_store.close()


async def reload(store: PostgresSessionStore, session_id: str) -> Session[Any] | None:
    """The session as a new store object on the same schema reads it."""
    async with PostgresSessionStore(store.dsn, schema=store.schema) as fresh:
        return await fresh.get(session_id)


async def schema_exists(sql: asyncpg.Connection, schema: str) -> bool:
    found = await sql.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema)
    return found is not None


async def test_the_schema_is_created_on_first_use_and_versioned(
    store: PostgresSessionStore, sql: asyncpg.Connection, schema: str
) -> None:
    assert store._pool is None
    assert not await schema_exists(sql, schema)

    assert await store.list_sessions() == []

    assert await sql.fetchval(f'SELECT version FROM "{schema}".schema_version') == SCHEMA_VERSION


async def test_stores_racing_to_create_the_schema_all_succeed(
    postgres_url: str, schema: str, sql: asyncpg.Connection
) -> None:
    stores = [PostgresSessionStore(postgres_url, schema=schema) for _ in range(6)]
    try:
        await asyncio.gather(*(s.save(Session(id=f"s{n}")) for n, s in enumerate(stores)))
        assert await stores[0].list_sessions() == [f"s{n}" for n in range(6)]
        assert await sql.fetchval(f'SELECT count(*) FROM "{schema}".schema_version') == 1
    finally:
        for pg_store in stores:
            await pg_store.close()


async def test_a_newer_schema_version_is_refused(
    store: PostgresSessionStore, postgres_url: str, schema: str, sql: asyncpg.Connection
) -> None:
    await store.save(Session(id="kept"))
    await sql.execute(f'UPDATE "{schema}".schema_version SET version = $1', SCHEMA_VERSION + 1)

    newer = PostgresSessionStore(postgres_url, schema=schema)
    try:
        with pytest.raises(StorageError, match=rf"version {SCHEMA_VERSION + 1}.*upgrade"):
            await newer.get("kept")
    finally:
        await newer.close()


async def test_a_batch_is_one_transaction(
    store: PostgresSessionStore, sql: asyncpg.Connection, schema: str
) -> None:
    session: Session[Any] = Session(id="atomic")
    await store.save(session)
    await session.add_event(SessionEvent(message="lost with the batch"))
    batch = sync_state_for(session, store).prepare(session, binding_of(session).removals)
    batch.header.state_set["broken"] = "{not json"  # fails after the event insert is planned

    with pytest.raises(StorageError) as caught:
        await store._write(batch)

    assert isinstance(caught.value.__cause__, asyncpg.PostgresError)
    assert await sql.fetchval(f'SELECT count(*) FROM "{schema}".events') == 0
    assert await sql.fetchval(f'SELECT count(*) FROM "{schema}".state') == 0


async def test_json_is_stored_byte_exact(
    store: PostgresSessionStore, sql: asyncpg.Connection, schema: str
) -> None:
    session: Session[Any] = Session(id="exact", state={"big": 1e300, "float": 2.0, "ü": "✓"})
    event: SessionEvent[Any] = SessionEvent(message={"b": 1.5e-7, "a": [1.0, "é"]})
    await session.add_event(event)
    await store.save(session)

    body = await sql.fetchval(f'SELECT body::text FROM "{schema}".events')
    assert body == event.model_dump_json()
    loaded = await reload(store, "exact")
    assert loaded is not None
    assert loaded.state == {"big": 1e300, "float": 2.0, "ü": "✓"}
    assert isinstance(loaded.state["big"], float) and isinstance(loaded.state["float"], float)
    assert loaded.events[0].message == {"b": 1.5e-7, "a": [1.0, "é"]}


async def test_children_tasks_and_runs_keep_their_order(store: PostgresSessionStore) -> None:
    kids = [f"kid-{n}" for n in (5, 1, 9, 3)]
    runs = [SessionRun(id=f"run-{n}") for n in (2, 0, 1)]
    session: Session[Any] = Session(id="ordered", child_ids=kids, task_ids=["t2", "t1"])
    session.runs.extend(runs)
    await store.save(session)

    loaded = await reload(store, "ordered")

    assert loaded is not None
    assert loaded.child_ids == kids
    assert loaded.task_ids == ["t2", "t1"]
    assert [run.id for run in loaded.runs] == ["run-2", "run-0", "run-1"]


async def test_prune_expired_deletes_expired_sessions_and_their_rows(
    store: PostgresSessionStore, sql: asyncpg.Connection, schema: str
) -> None:
    for session_id in ("old-1", "old-2", "live", "forever"):
        session: Session[Any] = Session(id=session_id, child_ids=["kid"], state={"k": 1})
        await session.add_event(SessionEvent(message=session_id))
        await store.save(session)
    await store.set_expiration("live", 3600)
    await sql.execute(
        f"UPDATE \"{schema}\".sessions SET expires_at = now() - interval '1 second' "
        "WHERE id LIKE 'old-%'"
    )
    assert await store.list_sessions() == ["forever", "live"]

    assert await store.prune_expired() == 2

    left = await sql.fetch(f'SELECT DISTINCT session_id FROM "{schema}".events ORDER BY 1')
    assert [row[0] for row in left] == ["forever", "live"]
    assert await sql.fetchval(f'SELECT count(*) FROM "{schema}".children') == 2
    assert await store.prune_expired() == 0


async def test_a_corrupt_event_row_is_logged_with_its_location_and_skipped(
    store: PostgresSessionStore,
    sql: asyncpg.Connection,
    schema: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session: Session[Any] = Session(id="bad-row")
    for n in range(3):
        await session.add_event(SessionEvent(message=n))
    await store.save(session)
    await sql.execute(
        f'UPDATE "{schema}".events SET body = \'{{"no": "message"}}\' '
        'WHERE seq = (SELECT min(seq) + 1 FROM "' + schema + '".events)'
    )

    with caplog.at_level(logging.WARNING, logger="llm_sessions.storage"):
        loaded = await store.get("bad-row")

    assert loaded is not None
    assert [event.message for event in loaded.events] == [0, 2]
    assert f'"{schema}".events' in caplog.text and "bad-row" in caplog.text


async def test_a_corrupt_run_raises_naming_its_location(
    store: PostgresSessionStore,
    sql: asyncpg.Connection,
    schema: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session: Session[Any] = Session(id="bad-run")
    session.runs.append(SessionRun(id="r"))
    await store.save(session)
    await sql.execute(f'UPDATE "{schema}".runs SET body = \'{{"status": "sideways"}}\'')

    with (
        caplog.at_level(logging.WARNING, logger="llm_sessions.storage"),
        pytest.raises(CorruptSessionData, match=schema),
    ):
        await store.get("bad-run")
    assert "bad-run" in caplog.text


async def test_concurrent_writers_all_land_in_one_order(
    store: PostgresSessionStore, postgres_url: str, schema: str
) -> None:
    await store.save(Session(id="busy"))
    stores = [PostgresSessionStore(postgres_url, schema=schema) for _ in range(4)]
    try:

        async def write(pg_store: PostgresSessionStore, n: int) -> None:
            session = await pg_store.get("busy")
            assert session is not None
            for k in range(15):
                await session.add_event_and_save(SessionEvent(message=f"{n}-{k}"))

        await asyncio.gather(*(write(s, n) for n, s in enumerate(stores * 3)))
        first, second = await stores[0].get("busy"), await stores[1].get("busy")
    finally:
        for pg_store in stores:
            await pg_store.close()

    assert first is not None and second is not None
    messages = [event.message for event in first.events]
    assert sorted(messages) == sorted(f"{n}-{k}" for n in range(12) for k in range(15))
    assert [event.id for event in second.events] == [event.id for event in first.events]


async def test_drop_all_removes_the_schema_and_the_store_can_start_over(
    store: PostgresSessionStore, sql: asyncpg.Connection, schema: str
) -> None:
    session: Session[Any] = Session(id="x")
    await session.add_event(SessionEvent(message="before"))
    await store.save(session)
    assert await store.get("x") is not None  # every statement has been prepared once

    await store.drop_all()

    assert not await schema_exists(sql, schema)
    assert await store.get("x") is None
    again: Session[Any] = Session(id="x")
    await again.add_event(SessionEvent(message="after"))
    await store.save(again)
    loaded = await store.get("x")
    assert loaded is not None and [e.message for e in loaded.events] == ["after"]


async def test_drop_all_also_drops_a_schema_of_a_newer_version(
    store: PostgresSessionStore, postgres_url: str, sql: asyncpg.Connection, schema: str
) -> None:
    await store.save(Session(id="x"))
    await sql.execute(f'UPDATE "{schema}".schema_version SET version = 99')

    async with PostgresSessionStore(postgres_url, schema=schema) as other:
        await other.drop_all()

    assert not await schema_exists(sql, schema)


def test_urls_and_their_options() -> None:
    assert {"postgresql", "postgres"} <= set(supported_schemes())
    store = open_store("postgres://u@db.example:5433/app?schema=tenant_1&expiration_seconds=60")
    assert isinstance(store, PostgresSessionStore)
    assert (store.schema, store.expiration_seconds) == ("tenant_1", 60)
    assert store.dsn == "postgres://u@db.example:5433/app"
    assert isinstance(open_store("postgresql://localhost/db"), PostgresSessionStore)
    with pytest.raises(InvalidInputError, match="schema"):
        open_store('postgresql://localhost/db?schema=x";drop')
    with pytest.raises(InvalidInputError, match="expiration_seconds"):
        open_store("postgresql://localhost/db?expiration_seconds=later")


@pytest.mark.parametrize("seconds", [0, -5, float("nan"), True])
async def test_set_expiration_rejects_bad_seconds(
    store: PostgresSessionStore, seconds: Any
) -> None:
    with pytest.raises(InvalidInputError, match="seconds"):
        await store.set_expiration("s", seconds)


async def test_an_unreachable_server_fails_fast_with_storage_error() -> None:
    store = PostgresSessionStore("postgresql://postgres@127.0.0.1:1/test", connect_timeout=2)
    with pytest.raises(StorageError, match=r"127\.0\.0\.1:1\b") as caught:
        await asyncio.wait_for(store.get("anything"), NO_HANG)  # a refused connection, no hang
    assert isinstance(caught.value.__cause__, OSError | asyncpg.PostgresError)
    await store.close()


async def test_a_missing_database_raises_storage_error(postgres_url: str) -> None:
    dsn = postgres_url.rsplit("/", 1)[0] + f"/no_such_db_{uuid.uuid4().hex[:8]}"
    store = PostgresSessionStore(dsn)
    with pytest.raises(StorageError) as caught:
        await store.list_sessions()
    assert isinstance(caught.value.__cause__, asyncpg.InvalidCatalogNameError)
    await store.close()


async def test_the_password_is_not_in_error_messages() -> None:
    store = PostgresSessionStore("postgresql://user:hunter2@127.0.0.1:1/test")
    with pytest.raises(StorageError) as caught:
        await store.get("x")
    assert "hunter2" not in str(caught.value)
    await store.close()


async def test_timestamps_come_back_in_utc_whatever_the_server_time_zone(
    postgres_url: str, schema: str, sql: asyncpg.Connection
) -> None:
    store = PostgresSessionStore(
        postgres_url, schema=schema, server_settings={"timezone": "Asia/Kolkata"}
    )
    try:
        session: Session[Any] = Session(id="utc")
        await store.save(session)
        loaded = await store.get("utc")
    finally:
        await store.close()

    assert loaded is not None
    assert loaded.metadata.created_at == session.metadata.created_at
    assert loaded.metadata.created_at.utcoffset() == timedelta(0)


async def test_a_missing_driver_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = open_store("postgresql://127.0.0.1/test")  # importing the store needs no driver
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    with pytest.raises(ImportError, match=re.escape('pip install "llm-sessions[postgres]"')):
        await store.get("x")
    await store.close()


async def commit_while_waited_for(
    holder: asyncpg.Connection, statement: str, args: tuple[Any, ...], write: Awaitable[Any]
) -> asyncio.Task[Any]:
    """Run ``statement`` in an open transaction of ``holder``, start ``write``, and commit once
    ``write`` waits for a lock that transaction holds; returns ``write``'s task.

    The steps of the race are ordered by the server's lock table, not by sleeping."""
    waiting = (
        "SELECT EXISTS (SELECT FROM pg_stat_activity"
        " WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid)))"
    )
    async with holder.transaction():
        await holder.execute(statement, *args)
        task = asyncio.ensure_future(write)
        while True:
            if task.done() or await holder.fetchval(waiting):
                break
            await asyncio.sleep(0.01)
        assert not task.done()  # it got as far as the lock, and no further
    return task


async def test_a_delete_that_commits_while_a_save_waits_is_final(
    store: PostgresSessionStore, sql: asyncpg.Connection, schema: str
) -> None:
    session: Session[Any] = Session()
    await store.save(session)
    await session.add_event_and_save(SessionEvent(message="a"))

    # The stale writer has seen the session; the delete commits while the writer waits.
    late = await commit_while_waited_for(
        sql,
        f'DELETE FROM "{schema}".sessions WHERE id = $1',
        (session.id,),
        session.add_event_and_save(SessionEvent(message="late")),
    )

    with pytest.raises(SessionNotFound):
        await late
    assert await reload(store, session.id) is None
    assert await sql.fetchval(f'SELECT count(*) FROM "{schema}".events') == 0


async def test_a_new_session_saved_while_another_creates_its_id_is_refused(
    store: PostgresSessionStore, sql: asyncpg.Connection, schema: str
) -> None:
    await store.save(Session(id="first"))  # creates the tables

    second = await commit_while_waited_for(
        sql,
        f'INSERT INTO "{schema}".sessions (id, created_at, updated_at) VALUES ($1, now(), now())',
        ("taken",),
        store.save(Session(id="taken")),
    )

    with pytest.raises(SessionAlreadyExists):
        await second
    loaded = await reload(store, "taken")
    assert loaded is not None and loaded.events == []


async def test_a_version_1_schema_is_upgraded_in_place(
    store: PostgresSessionStore, postgres_url: str, sql: asyncpg.Connection, schema: str
) -> None:
    session: Session[Any] = Session(id="kept")
    await store.save(session)
    await session.add_event_and_save(SessionEvent(message="before"))
    q = f'"{schema}"'
    await sql.execute(
        f"DROP TABLE {q}.search_docs; DROP FUNCTION {q}.keep_index;"
        f" DROP TABLE {q}.summary_models, {q}.summaries; DROP FUNCTION {q}.keep_summary;"
        f" DROP TABLE {q}.quarantine; DROP FUNCTION {q}.write_batch;"
        f" DROP INDEX {q}.events_removals; ALTER TABLE {q}.sessions DROP COLUMN header_tag;"
        f" UPDATE {q}.schema_version SET version = 1"
    )

    async with PostgresSessionStore(postgres_url, schema=schema) as upgraded:
        loaded = await upgraded.get("kept")
        assert loaded is not None
        await loaded.add_event_and_save(SessionEvent(message="after"))

    assert await sql.fetchval(f"SELECT version FROM {q}.schema_version") == SCHEMA_VERSION == 7
    assert await sql.fetchval(f"SELECT count(*) FROM {q}.quarantine") == 0
    tag = await sql.fetchval(f"SELECT header_tag FROM {q}.sessions WHERE id = 'kept'")
    assert isinstance(tag, str) and len(tag) == 32
    assert await sql.fetchval(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = 'events_removals'",
        schema,
    )
    reloaded = await reload(store, "kept")
    assert reloaded is not None
    assert [e.message for e in reloaded.events] == ["before", "after"]


def _scans_of_events(plan: Any) -> list[str]:
    """The index conditions of every scan of ``events`` in an EXPLAIN (FORMAT JSON) plan."""
    found: list[str] = []
    nodes = [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        if node.get("Relation Name") == "events":
            found.append(node.get("Index Cond", ""))
        nodes.extend(node.get("Plans", []))
    return found


@pytest.mark.parametrize(
    ("read", "arguments", "bounds"),
    [
        ("since", "('s', 'e', 't')", ["seq >"]),
        ("page after", "('s', 'e', NULL, 10)", ["seq >"]),
        ("page before, newest first", "('s', NULL, 'e', 10)", ["seq <"]),
        ("page between", "('s', 'e', 'f', 10)", ["seq >", "seq <"]),
    ],
)
async def test_a_read_from_a_cursor_starts_at_its_place_in_the_index_under_a_generic_plan(
    store: PostgresSessionStore,
    sql: asyncpg.Connection,
    read: str,
    arguments: str,
    bounds: list[str],
) -> None:
    # After five runs a prepared statement may switch to a plan made without the arguments; a
    # bound it cannot use as an index condition turns every refresh into a pass over the log.
    session: Session[Any] = Session()
    await session.add_event(SessionEvent(message="created"))
    await store.save(session)
    statement = {
        "since": store._sql_read_since,
        "page after": store._sql_pages[True, False, True, False],
        "page before, newest first": store._sql_pages[True, True, False, True],
        "page between": store._sql_pages[True, False, True, True],
    }[read]
    await sql.execute("SET plan_cache_mode = force_generic_plan")
    await sql.execute(f"PREPARE cursor_read AS {statement}")
    plan = json.loads(await sql.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE cursor_read{arguments}"))
    conditions = _scans_of_events(plan)
    for bound in bounds:
        assert any(bound in condition for condition in conditions), conditions
