"""The SQLite store's index rows reach FTS5 in batches: the rows waiting are those above the
highest id FTS5 holds, whatever was deleted, edited or upgraded before, and FTS5 never forgets
one it did not take. A ``where`` scope gives the same hits whichever way it is applied."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlite_layouts import back_to_version_5

from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import SQLiteSessionStore
from llm_sessions.storage.sqlite import SCHEMA_VERSION
from llm_sessions.storage.sqlite import _search as sqlite_search


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(path)
    try:
        with connection:
            return connection.execute(sql).fetchall()
    finally:
        connection.close()


async def saved(store: SQLiteSessionStore, *texts: str) -> Session[Any]:
    session: Session[Any] = Session()
    for text in texts:
        await session.add_event(SessionEvent(message=text, source=EventSource.USER))
    await store.save(session)
    return session


async def found(store: SQLiteSessionStore, word: str) -> list[str]:
    return sorted(hit.event_id for hit in (await store.search(word, limit=100)).items)


def held_by_fts(path: Path) -> list[tuple[Any, ...]]:
    return query(path, "SELECT id FROM search_text_docsize ORDER BY id")


async def test_rows_written_after_the_newest_were_deleted_are_indexed(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with SQLiteSessionStore(path) as store:
        old = await saved(store, "a walrus", "another walrus")
        newest = await saved(store, "the newest walrus")
        assert len(await found(store, "walrus")) == 3  # the batch is in FTS5
        await store.delete(newest.id)  # the highest ids FTS5 held are gone
        later = await saved(store, "a later walrus")
        assert await found(store, "walrus") == sorted(
            [*(e.id for e in old.events), later.events[0].id]
        )
        edited = old.events[1]
        await old.remove_events([old.events[0].id])
        await store.save(old)
        edited.message = "an edited narwhal"
        await store.save(old)
        fresh = await saved(store, "a fresh walrus")
        fresh.events[0].message = "a fresh narwhal"  # edited before it reached FTS5
        await store.save(fresh)
        assert await found(store, "walrus") == [later.events[0].id]
        assert await found(store, "narwhal") == sorted([edited.id, fresh.events[0].id])
    assert held_by_fts(path) == query(path, "SELECT id FROM search_docs ORDER BY id")
    assert query(path, "INSERT INTO search_text (search_text) VALUES ('integrity-check')") == []


async def test_a_version_4_file_keeps_its_waiting_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with SQLiteSessionStore(path) as store:
        first = await saved(store, "the first heron")
        assert len(await found(store, "heron")) == 1
        waiting = await saved(store, "a waiting heron")  # not yet in FTS5: no search since
    assert len(held_by_fts(path)) == 1
    back_to_version_5(path)
    # Version 4 marked the waiting rows, with an index of the marks.
    query(path, "ALTER TABLE search_docs ADD COLUMN pending INTEGER NOT NULL DEFAULT 1")
    query(
        path, "UPDATE search_docs SET pending = 0 WHERE id IN (SELECT id FROM search_text_docsize)"
    )
    query(path, "CREATE INDEX search_docs_pending ON search_docs (id) WHERE pending = 1")
    query(path, "PRAGMA user_version = 4")
    async with SQLiteSessionStore(path) as upgraded:
        assert await found(upgraded, "heron") == sorted([first.events[0].id, waiting.events[0].id])
        await upgraded.delete(first.id)
        assert await found(upgraded, "heron") == [waiting.events[0].id]
    assert query(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)] == [(6,)]
    indexes = "SELECT name FROM sqlite_master WHERE name = 'search_docs_pending'"
    assert query(path, indexes) == []
    assert query(path, "INSERT INTO search_text (search_text) VALUES ('integrity-check')") == []


async def scores(store: SQLiteSessionStore, word: str) -> dict[str, float]:
    return {hit.event_id: hit.score for hit in (await store.search(word, limit=100)).items}


async def test_rows_dropped_before_they_reached_fts5_are_not_forgotten_by_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    async with SQLiteSessionStore(path) as store:
        # Other rows, so that "walrus" is rare: BM25 then weighs it by the count of rows.
        held = await saved(store, "a walrus", *(f"the sea is cold on day {n}" for n in range(8)))
        assert len(await found(store, "walrus")) == 1  # FTS5 holds this session's rows
        gone = await saved(store, "a deleted walrus", "another deleted walrus")
        popped = SessionEvent(message="a removed walrus", source=EventSource.USER)
        await held.add_event(popped)
        await store.save(held)
        assert len(held_by_fts(path)) == 9  # the rows above are still waiting
        await store.delete(gone.id)
        await held.remove_events([popped.id])
        await store.save(held)
        later = await saved(store, "a later walrus", "a later seal")  # takes the freed ids
        before = await scores(store, "walrus")
        assert sorted(before) == sorted([held.events[0].id, later.events[0].id])
    assert query(path, "INSERT INTO search_text (search_text) VALUES ('integrity-check')") == []
    assert held_by_fts(path) == query(path, "SELECT id FROM search_docs ORDER BY id")
    # A rebuilt index counts the documents afresh: the same scores if FTS5 forgot nothing
    # it never held (a forgotten row lowers its count of documents, so every score moves).
    query(path, "INSERT INTO search_text (search_text) VALUES ('rebuild')")
    async with SQLiteSessionStore(path) as store:
        assert await scores(store, "walrus") == before


@pytest.mark.parametrize("few_matches", [0, 500])
async def test_a_scope_is_read_as_a_set_or_match_by_match_with_the_same_hits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, few_matches: int
) -> None:
    """Past ``_FEW_MATCHES`` matches (0 here, so that the rule below is what decides), a
    scope holding fewer than 5 events per match is read as a set of rows (bob's: 10 events,
    11 matches), a larger one match by match (alice's: 61 events); under it, match by match."""
    monkeypatch.setattr(sqlite_search, "_FEW_MATCHES", few_matches)
    async with SQLiteSessionStore(tmp_path / "s.db") as store:
        mine: dict[str, list[str]] = {}
        for user, texts in (
            ("alice", ["a walrus", *(f"filler {n}" for n in range(60))]),
            ("bob", [f"walrus {n}" for n in range(10)]),
        ):
            session: Session[Any] = Session()
            session.metadata.user_id = user
            for text in texts:
                await session.add_event(SessionEvent(message=text, source=EventSource.USER))
            await store.save(session)
            mine[user] = sorted(e.id for e in session.events if "walrus" in str(e.message))
        for user, ids in mine.items():
            page = await store.search("walrus", where={"user_id": user}, limit=100)
            assert sorted(hit.event_id for hit in page.items) == ids
            assert {hit.user_id for hit in page.items} == {user}
