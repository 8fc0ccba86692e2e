"""What is particular to the SQLite store: its schema, connection, pruning and errors."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from erasure_data import write_people
from expiry_control import time_passes
from sqlite_layouts import back_to_version_5
from store_cases import StoreCase
from waiting import LOCK_TIMEOUT, assert_pending_while_the_loop_turns

from llm_sessions.exceptions import InvalidInputError, StorageError
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import SQLiteSessionStore, open_store
from llm_sessions.storage.providers.sqlite import SCHEMA_VERSION
from llm_sessions.storage.sqlite._erase_pace import next_batch


def query(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


async def test_schema_wal_and_lazy_connection(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    assert not path.exists()  # nothing is opened before the first use

    await store.save(Session(id="one"))

    assert query(path, "PRAGMA journal_mode") == [("wal",)]
    assert query(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    tables = {name for (name,) in query(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "children", "tasks", "runs", "state", "events"} <= tables
    await store.close()
    assert store._connection is None


async def test_appends_and_edits_leave_other_rows_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    session: Session[Any] = Session(id="one")
    for n in range(3):
        await session.add_event(SessionEvent(message=n))
    await store.save(session)
    rows = query(path, "SELECT seq, event_id, body FROM events ORDER BY seq")

    await session.events[1].set_metadata("edited", True)
    await session.add_event_and_save(SessionEvent(message=3))
    await store.close()

    after = query(path, "SELECT seq, event_id, body FROM events ORDER BY seq")
    assert [row[:2] for row in after[:3]] == [row[:2] for row in rows]  # same positions
    assert after[0] == rows[0] and after[2] == rows[2]
    assert '"edited":true' in after[1][2]
    assert len(after) == 4


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    query(path, "PRAGMA user_version = 99")
    store = SQLiteSessionStore(path)

    with pytest.raises(StorageError, match=r"schema version 99.*upgrade"):
        await store.get("anything")
    await store.close()


async def save_one(path: Path, session_id: str, message: str) -> None:
    """Store a session with a child, a state key and one event, and close the store."""
    store = SQLiteSessionStore(path)
    session: Session[Any] = Session(id=session_id, child_ids=["kid"], state={"k": 1})
    await session.add_event(SessionEvent(message=message))
    await store.save(session)
    await store.close()


async def test_a_version_1_file_gets_header_tags_and_keeps_its_sessions(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    await save_one(path, "old", "before the upgrade")
    back_to_version_5(path)
    for (trigger,) in query(path, "SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        query(path, f"DROP TRIGGER {trigger}")  # back to the version-1 layout
    query(path, "ALTER TABLE sessions DROP COLUMN header_tag")
    query(path, "DROP TABLE summaries")  # added by version 3
    query(path, "DROP TABLE summary_models")
    query(path, "PRAGMA user_version = 1")

    upgraded = SQLiteSessionStore(path)
    loaded = await upgraded.get("old")
    assert loaded is not None
    assert [e.message for e in loaded.events] == ["before the upgrade"]
    assert (loaded.child_ids, loaded.state) == (["kid"], {"k": 1})
    assert query(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    [(tag,)] = query(path, "SELECT header_tag FROM sessions WHERE id = 'old'")
    assert isinstance(tag, str) and len(tag) == 16
    await loaded.add_child("another")
    assert query(path, "SELECT header_tag FROM sessions") != [(tag,)]
    await upgraded.close()


async def test_any_writer_that_changes_a_header_part_gives_a_new_tag(tmp_path: Path) -> None:
    # Triggers keep the tag, so a writer that does not know it (an older process still holding
    # its connection, a hand-made fix) cannot change a header that readers then skip.
    path = tmp_path / "s.db"
    await save_one(path, "s", "e")

    def tag() -> str:
        [(value,)] = query(path, "SELECT header_tag FROM sessions WHERE id = 's'")
        return str(value)

    def write(statement: str) -> None:
        with sqlite3.connect(path) as connection:  # commits
            connection.execute(statement)
        connection.close()

    seen = {tag()}
    for statement in (
        "INSERT INTO children VALUES ('s', 'kid-2')",
        "DELETE FROM children WHERE child_id = 'kid'",
        "INSERT INTO tasks VALUES ('s', 't')",
        "INSERT INTO runs VALUES ('s', 'r', '{}')",
        "UPDATE state SET json = '2' WHERE key = 'k'",
        "UPDATE sessions SET properties = '{\"p\": 1}'",
        "UPDATE sessions SET parent_id = 'p'",
    ):
        write(statement)
        assert tag() not in seen, statement
        seen.add(tag())
    before = tag()
    write("UPDATE sessions SET updated_at = updated_at, expires_at = NULL")
    write("INSERT INTO events (session_id, event_id, body) VALUES ('s', 'x', '{}')")
    assert tag() == before  # timestamps, expiry and events are not the header


async def test_a_refresh_reads_the_header_tables_only_when_the_header_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llm_sessions.storage.providers import sqlite as sqlite_module

    path = tmp_path / "s.db"
    mine, theirs = SQLiteSessionStore(path), SQLiteSessionStore(path)
    session: Session[Any] = Session(id="parent", child_ids=[f"kid-{n}" for n in range(20)])
    await mine.save(session)
    held = await mine.get("parent")
    assert held is not None
    read: list[str] = []
    real_column = sqlite_module._column

    def counting_column(conn: sqlite3.Connection, select: str, session_id: str) -> list[Any]:
        read.append(select)
        return real_column(conn, select, session_id)

    monkeypatch.setattr(sqlite_module, "_column", counting_column)
    other = await theirs.get("parent")
    assert other is not None
    await other.add_event_and_save(SessionEvent(message="an event, no header change"))
    read.clear()
    assert await mine.refresh(held) is held
    assert read == []  # the tag was still current: only the session row and the events
    assert [e.message for e in held.events] == ["an event, no header change"]

    await other.add_child("kid-new")  # a new tag
    assert await mine.refresh(held) is held
    assert "SELECT child_id FROM children" in read
    assert held.child_ids[-1] == "kid-new" and len(held.child_ids) == 21
    await mine.close()
    await theirs.close()


async def test_prune_expired(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    for session_id in ("a", "b", "kept"):
        session: Session[Any] = Session(id=session_id, child_ids=["c"], state={"k": 1})
        await session.add_event(SessionEvent(message=session_id))
        await store.save(session)
    await store.set_expiration("a", 3600)
    assert await store.prune_expired() == 0  # an expiry still ahead prunes nothing
    await store.set_expiration("a", 0.3)
    await store.set_expiration("b", 0.3)
    await time_passes(StoreCase("sqlite", f"sqlite:///{path}"), 0.4, ["a", "b", "kept"])

    assert await store.prune_expired() == 2

    assert await store.list_sessions() == ["kept"]
    for table in ("sessions", "children", "state", "events"):
        key = "id" if table == "sessions" else "session_id"
        assert query(path, f"SELECT DISTINCT {key} FROM {table}") == [("kept",)]
    await store.close()


async def test_an_unopenable_database_is_a_storage_error(tmp_path: Path) -> None:
    store = SQLiteSessionStore(tmp_path / "missing-dir" / "s.db")

    with pytest.raises(StorageError) as caught:
        await store.get("anything")
    assert isinstance(caught.value.__cause__, sqlite3.Error)
    assert str(tmp_path) in str(caught.value)
    await store.close()


async def test_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="synchronous"):
        SQLiteSessionStore(tmp_path / "s.db", synchronous="sometimes")
    with pytest.raises(InvalidInputError, match="expiration_seconds"):
        SQLiteSessionStore(tmp_path / "s.db", expiration_seconds=0)


async def test_url_paths_and_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///rel.db?expiration_seconds=5&synchronous=normal")
    absolute = open_store(f"sqlite:///{tmp_path}/abs.db")
    assert isinstance(relative, SQLiteSessionStore) and isinstance(absolute, SQLiteSessionStore)
    assert (relative.path, relative.expiration_seconds, relative.synchronous) == (
        "rel.db",
        5.0,
        "normal",
    )
    assert absolute.path == f"{tmp_path}/abs.db"

    await relative.save(Session(id="r"))
    await relative.close()
    assert (tmp_path / "rel.db").exists()


async def test_waiting_for_another_writer_does_not_block_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path, timeout=LOCK_TIMEOUT)
    session: Session[Any] = Session(id="busy")
    await store.save(session)
    taken, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        taken.set()
        release.wait()
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=other_writer)
    holder.start()
    taken.wait()
    save = asyncio.create_task(session.add_event_and_save(SessionEvent(message="waited")))
    try:
        await assert_pending_while_the_loop_turns(save)
    finally:
        release.set()
    await save
    holder.join()

    fresh = SQLiteSessionStore(path)
    loaded = await fresh.get("busy")
    assert loaded is not None and [e.message for e in loaded.events] == ["waited"]
    await fresh.close()
    await store.close()


async def test_an_erasure_leaves_the_connection_as_synchronous_as_it_was(tmp_path: Path) -> None:
    # Its batches sync less (the plan on record makes the erasure last), then it is restored.
    store = SQLiteSessionStore(tmp_path / "s.db", synchronous="extra")
    await write_people(store)
    receipt = await store.erase(where={"user_id": "alice"})
    assert receipt.counts["sessions"] == 6
    setting = await store._run(lambda: store._conn().execute("PRAGMA synchronous").fetchone())
    assert setting == (3,)  # extra
    await store.close()


def test_an_erasure_sizes_each_transaction_by_the_pace_of_the_last() -> None:
    assert next_batch(100, 0.02) == 50  # twice the time aimed at: half as many
    assert next_batch(100, 0.008) == 125
    assert next_batch(100, 0.001) == next_batch(100, 0.0) == 200  # at most twice the last
    assert next_batch(100, 30.0) == 10  # never fewer
    assert next_batch(900, 0.001) == 1000  # nor more
