"""The PostgreSQL store's summary tables: kept by the save's statement, read without loading
a session, recounted after removals, and added to a schema of layout 4."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from test_sqlite_summaries import chat, full_load, listed, no_loads

from llm_sessions.models import EventSource, Session, SessionEvent, TokenUsage
from llm_sessions.storage import PostgresSessionStore
from llm_sessions.storage.encryption import generate_key
from llm_sessions.storage.postgres import SCHEMA_VERSION

pytestmark = pytest.mark.postgres


async def fetch(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    connection = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await connection.fetch(sql, *args)]
    finally:
        await connection.close()


async def test_listings_and_totals_read_summary_rows_only(
    postgres_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with PostgresSessionStore(postgres_url, schema=schema) as store:
        alice = await chat(store, "alice", 3)
        await chat(store, "bob", 1)
        expected = await full_load(store)

        no_loads(store, monkeypatch)
        assert await listed(store) == expected
        assert set(await listed(store, user_id="alice", plan="pro")) == {alice.session_id}
        [row] = await store.usage(group_by=("user_id", "plan"), where={"user_id": "alice"})
        mine = expected[alice.session_id]
        assert row.key == {"user_id": "alice", "plan": "pro"}
        assert (row.sessions, row.events, row.tokens) == (1, 6, mine.total_tokens)
        assert row.cost_usd == pytest.approx(mine.total_cost_usd)


async def test_a_removal_marks_the_row_for_a_recount(postgres_url: str, schema: str) -> None:
    counts = f'SELECT event_count, stale FROM "{schema}".summaries'
    async with PostgresSessionStore(postgres_url, schema=schema) as store:
        manager = await chat(store, "alice", 2)
        await manager.pop_last_turn()
        assert await fetch(postgres_url, counts) == [(4, True)]

        assert await listed(store) == await full_load(store)
        assert await fetch(postgres_url, counts) == [(2, False)]


async def test_a_layout_4_schema_is_upgraded_and_counted(postgres_url: str, schema: str) -> None:
    q = f'"{schema}"'
    async with PostgresSessionStore(postgres_url, schema=schema) as store:
        await chat(store, "alice", 2)
        child = await Session.create(parent_id=(await store.list_sessions())[0], store=store)
        usage = TokenUsage(prompt_tokens=4, completion_tokens=4, model="model-without-a-price")
        await child.add_event_and_save(
            SessionEvent(message="x", source=EventSource.LLM, token_usage=usage)
        )
    connection = await asyncpg.connect(postgres_url)
    await connection.execute(
        f"DROP TABLE {q}.summary_models, {q}.summaries; DROP FUNCTION {q}.keep_summary;"
        f" UPDATE {q}.schema_version SET version = 4"
    )
    await connection.close()

    async with PostgresSessionStore(postgres_url, schema=schema) as upgraded:
        rows = await listed(upgraded)
        assert await fetch(postgres_url, f"SELECT version FROM {q}.schema_version") == [
            (SCHEMA_VERSION,)
        ]
        assert rows == await full_load(upgraded) and len(rows) == 2
        assert rows[child.id].unpriced_models == ["model-without-a-price"]
        assert await fetch(postgres_url, f"SELECT count(*) FROM {q}.summaries WHERE stale") == [
            (0,)
        ]


async def test_an_encrypted_store_keeps_only_a_stale_row_with_nothing_in_clear(
    postgres_url: str, schema: str
) -> None:
    async with PostgresSessionStore(
        postgres_url, schema=schema, encryption_key=generate_key()
    ) as store:
        await chat(store, "alice", 1)
        rows = f'SELECT stale, event_count, total_tokens, user_id FROM "{schema}".summaries'
        [(stale, events, tokens, user_id)] = await fetch(postgres_url, rows)
        assert (stale, events, tokens) == (True, 0, 0) and "alice" not in str(user_id)
        rows = await listed(store, user_id="alice")
        assert rows == await full_load(store) and len(rows) == 1
