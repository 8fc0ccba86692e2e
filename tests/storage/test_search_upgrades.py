"""The text index of the SQL stores: an in-place upgrade indexes what is stored, and a search
without ``where`` on a store that reads events stops at ``max_scan_events``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from sqlite_layouts import back_to_version_5

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import PostgresSessionStore, SessionStore, SQLiteSessionStore
from llm_sessions.storage.postgres import SCHEMA_VERSION as POSTGRES_VERSION
from llm_sessions.storage.sqlite import SCHEMA_VERSION as SQLITE_VERSION

if TYPE_CHECKING:
    from store_cases import StoreCase


async def write_history(store: SessionStore) -> tuple[str, str]:
    """A session of three messages, one removed; returns (kept id, removed id)."""
    session: Session[Any] = Session()
    session.metadata.user_id = "alice"
    for text in ("the heron nests", "the heron flies", "an otter swims"):
        await session.add_event(SessionEvent(message=text, source=EventSource.USER))
    await store.save(session)
    await session.remove_events([session.events[1].id])
    await store.save(session)
    return session.events[0].id, session.id


async def test_a_sqlite_file_from_before_the_index_is_indexed_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with SQLiteSessionStore(path) as store:
        kept, _ = await write_history(store)
    back_to_version_5(path)
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "DROP TABLE search_text; DROP TABLE search_docs; PRAGMA user_version = 3"
        )
    async with SQLiteSessionStore(path) as upgraded:
        page = await upgraded.search("heron")
        assert [(hit.event_id, hit.user_id) for hit in page.items] == [(kept, "alice")]
        assert len((await upgraded.search("otter")).items) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SQLITE_VERSION,)


@pytest.mark.postgres
async def test_a_postgres_schema_from_before_the_index_is_indexed_in_place(
    postgres_url: str, schema: str
) -> None:
    q = f'"{schema}"'
    async with PostgresSessionStore(postgres_url, schema=schema) as store:
        kept, _ = await write_history(store)
    connection = await asyncpg.connect(postgres_url)
    await connection.execute(
        f"DROP TABLE {q}.search_docs; DROP FUNCTION {q}.keep_index;"
        f" UPDATE {q}.schema_version SET version = 5"
    )
    await connection.close()
    async with PostgresSessionStore(postgres_url, schema=schema) as upgraded:
        page = await upgraded.search("heron")
        assert [(hit.event_id, hit.user_id) for hit in page.items] == [(kept, "alice")]
        later: Session[Any] = Session()
        await later.add_event(SessionEvent(message="a heron again", source=EventSource.USER))
        await upgraded.save(later)
        assert len((await upgraded.search("heron")).items) == 2
    connection = await asyncpg.connect(postgres_url)
    version = await connection.fetchval(f"SELECT version FROM {q}.schema_version")
    await connection.close()
    assert version == POSTGRES_VERSION


async def test_an_unscoped_scan_stops_at_max_scan_events(store_case: StoreCase) -> None:
    if store_case.kind in ("sqlite", "postgres"):
        pytest.skip("answered from the index: nothing is scanned")
    store = store_case.open(max_scan_events=1)
    await write_history(store)
    with pytest.raises(InvalidInputError, match="max_scan_events") as caught:
        await store.search("heron")
    assert "where=" in str(caught.value)
    scoped = await store.search("heron", where={"user_id": "alice"})
    assert len(scoped.items) == 1
