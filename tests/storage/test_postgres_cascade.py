"""Layout 7 of the PostgreSQL schema: no foreign keys, and one statement-level trigger on
``sessions`` that deletes a deleted session's rows from every other table. A layout-6 schema
(with its keys) is upgraded in place."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from llm_sessions.models import EventSource, Session, SessionEvent, SessionRun, TokenUsage
from llm_sessions.storage.postgres._cascade import CASCADED
from llm_sessions.storage.providers.postgres import SCHEMA_VERSION, PostgresSessionStore

pytestmark = pytest.mark.postgres


async def _write(store: PostgresSessionStore, session_id: str) -> None:
    session: Session[Any] = Session(
        id=session_id, child_ids=["kid"], task_ids=["task"], state={"k": 1}
    )
    session.metadata.user_id = "someone"
    session.runs.append(SessionRun(id="run"))
    usage = TokenUsage(prompt_tokens=4, completion_tokens=4, model="a-model")
    await session.add_event(
        SessionEvent(message=f"words of {session_id}", source=EventSource.LLM, token_usage=usage)
    )
    await store.save(session)
    await store.find_sessions()  # the summary rows are counted


async def _rows(sql: asyncpg.Connection, schema: str, session_id: str) -> dict[str, int]:
    found = {}
    for table, column in CASCADED:
        count = f'SELECT count(*) FROM "{schema}".{table} WHERE {column} = $1'
        found[table] = await sql.fetchval(count, session_id)
    return found


async def _make_it_layout_6(sql: asyncpg.Connection, schema: str) -> None:
    q = f'"{schema}"'
    for table, column in CASCADED:
        target = "summaries" if table == "summary_models" else "sessions"
        await sql.execute(
            f"ALTER TABLE {q}.{table} ADD FOREIGN KEY ({column})"
            f" REFERENCES {q}.{target} (id) ON DELETE CASCADE"
        )
    await sql.execute(
        f"DROP TRIGGER sessions_cascade ON {q}.sessions; DROP FUNCTION {q}.drop_session_rows;"
        f" UPDATE {q}.schema_version SET version = 6"
    )


async def test_a_layout_6_schema_loses_its_keys_and_deletes_still_take_every_row(
    postgres_url: str, schema: str
) -> None:
    sql = await asyncpg.connect(postgres_url)
    try:
        async with PostgresSessionStore(postgres_url, schema=schema) as store:
            for session_id in ("gone", "pruned", "kept"):
                await _write(store, session_id)
        await _make_it_layout_6(sql, schema)
        keys = (
            "SELECT count(*) FROM pg_constraint"
            " WHERE contype = 'f' AND connamespace = $1::regnamespace"
        )
        assert await sql.fetchval(keys, f'"{schema}"') == len(CASCADED)
        before = await _rows(sql, schema, "gone")
        assert all(count > 0 for count in before.values()), before

        async with PostgresSessionStore(postgres_url, schema=schema) as upgraded:
            assert await upgraded.delete("gone")
            await upgraded.set_expiration("pruned", 0.001)
            await sql.execute("SELECT pg_sleep(0.01)")
            assert await upgraded.prune_expired() == 1

        version = f'SELECT version FROM "{schema}".schema_version'
        assert await sql.fetchval(version) == SCHEMA_VERSION == 7
        assert await sql.fetchval(keys, f'"{schema}"') == 0
        assert set((await _rows(sql, schema, "gone")).values()) == {0}
        assert set((await _rows(sql, schema, "pruned")).values()) == {0}
        assert await _rows(sql, schema, "kept") == before  # the same rows, another session
    finally:
        await sql.close()
