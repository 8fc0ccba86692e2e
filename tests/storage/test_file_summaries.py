"""The file store's summary index: kept by each write under the session's lock, read without
loading a session, recounted where a write could not keep it, compacted, and rebuilt when it
is missing (a folder written before it existed), unreadable, or by ``vacuum()``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from test_sqlite_summaries import chat, full_load, listed, no_loads

from llm_sessions.exceptions import StorageError
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import FileSessionStore
from llm_sessions.storage.encryption import generate_key
from llm_sessions.storage.file import _index
from llm_sessions.storage.file._index_rows import SummaryUpkeep, stale_row


def rows(folder: Path) -> list[dict[str, Any]]:
    """The index's lines, parsed (the format line and the completion mark included)."""
    return [json.loads(line) for line in (folder / "summaries.jsonl").read_text().splitlines()]


def newest(folder: Path, session_id: str) -> dict[str, Any]:
    return [row for row in rows(folder) if row.get("id") == session_id][-1]


async def test_listings_and_totals_read_the_index_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileSessionStore(tmp_path)
    alice = await chat(store, "alice", 3)
    await chat(store, "bob", 1)
    expected = await full_load(store)
    assert rows(tmp_path)[:2] == [{"llm_sessions.summaries": 1}, {"complete": 1}]

    for reader in (store, FileSessionStore(tmp_path)):
        no_loads(reader, monkeypatch)
        assert await listed(reader) == expected
        assert set(await listed(reader, user_id="alice", plan="pro")) == {alice.session_id}
        [row] = await reader.usage(group_by=("user_id",), where={"user_id": "alice"})
        assert (row.sessions, row.events) == (1, 6)
        assert row.cost_usd == expected[alice.session_id].total_cost_usd


async def test_a_removal_leaves_the_row_stale_until_a_listing_recounts_it(
    tmp_path: Path,
) -> None:
    store = FileSessionStore(tmp_path)
    manager = await chat(store, "alice", 2)
    await manager.pop_last_turn()
    assert newest(tmp_path, manager.session_id) == {"id": manager.session_id, "stale": 1}

    assert await listed(store) == await full_load(store)
    assert newest(tmp_path, manager.session_id)["events"] == 2


async def test_a_crash_between_the_events_and_the_row_is_recounted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileSessionStore(tmp_path)
    manager = await chat(store, "alice", 1)

    def crash(*_: Any) -> None:
        raise StorageError("the process died here")

    monkeypatch.setattr(SummaryUpkeep, "finish", crash)
    with pytest.raises(StorageError, match="died"):
        await manager.user_says("written, then the row was not")
    monkeypatch.undo()

    reader = FileSessionStore(tmp_path)
    [row] = (await reader.find_sessions()).items
    assert row.event_count == 3
    assert await listed(reader) == await full_load(reader)


async def test_a_session_written_again_during_its_recount_stays_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, other_process = FileSessionStore(tmp_path), FileSessionStore(tmp_path)
    manager = await chat(store, "alice", 2)
    await manager.pop_last_turn()  # stale: the next listing recounts it
    recount = store._recount

    def recount_then_another_write_begins(session_id: str) -> Any:
        counted = recount(session_id)
        other_process._add_rows(stale_row(session_id))  # a write's first step, elsewhere
        return counted

    monkeypatch.setattr(store, "_recount", recount_then_another_write_begins)
    [row] = (await store.find_sessions(where={"user_id": "alice"})).items
    assert (row.id, row.event_count) == (manager.session_id, 2)
    assert newest(tmp_path, manager.session_id) == {"id": manager.session_id, "stale": 1}


async def test_writes_by_two_store_objects_to_one_session_add_up(tmp_path: Path) -> None:
    first, second = FileSessionStore(tmp_path), FileSessionStore(tmp_path)
    manager = await chat(first, "alice", 1)
    other = await second.get(manager.session_id)
    assert other is not None
    await other.add_event_and_save(SessionEvent(message="from the other store"))
    await manager.user_says("and from the first")  # its counts missed the other's write

    for reader in (first, second):
        assert await listed(reader) == await full_load(reader)
        assert (await reader.find_sessions()).items[0].event_count == 4


async def test_deleted_and_expired_sessions_leave_the_listing(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path)
    kept, gone, lapsing = [await chat(store, user, 1) for user in ("a", "b", "c")]
    await store.delete(gone.session_id)
    assert newest(tmp_path, gone.session_id) == {"id": gone.session_id, "gone": 1}
    assert set(await listed(store)) == {kept.session_id, lapsing.session_id}

    await store.set_expiration(lapsing.session_id, 3600)
    assert await listed(store) == await full_load(store)  # recounted after the header change
    header = json.loads((tmp_path / f"{lapsing.session_id}.json").read_text())
    assert newest(tmp_path, lapsing.session_id)["expires_at"] == header["expires_at"]
    later, _ = await asyncio.to_thread(store._index.summaries, header["expires_at"])
    assert [summary.id for summary, _ in later] == [kept.session_id]


async def test_a_folder_written_before_the_index_is_indexed_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileSessionStore(tmp_path)
    for user in ("alice", "bob"):
        await chat(store, user, 2)
    expected = await full_load(store)
    (tmp_path / "summaries.jsonl").unlink()  # as an older version leaves a folder
    older = FileSessionStore(tmp_path)
    await chat(older, "carol", 1)  # no index: written without rows

    upgraded = FileSessionStore(tmp_path)
    found = await listed(upgraded)
    assert set(expected) < set(found) and len(found) == 3
    assert found == await full_load(upgraded)
    assert {"complete": 1} in rows(tmp_path)
    no_loads(upgraded, monkeypatch)
    assert await listed(upgraded) == found


async def test_an_unreadable_index_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path)
    await chat(store, "alice", 1)
    (tmp_path / "summaries.jsonl").write_text("not an index\n")

    reader = FileSessionStore(tmp_path)
    assert await listed(reader) == await full_load(reader)
    assert [path.name.split(".")[0] for path in (tmp_path / "quarantine").iterdir()] == [
        "summaries"
    ]


async def test_vacuum_rebuilds_the_index(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path)
    await chat(store, "alice", 1)
    await chat(store, "bob", 1)
    index = tmp_path / "summaries.jsonl"
    index.write_bytes(index.read_bytes()[:-40])  # a torn, wrong tail

    assert await store.vacuum() == 0
    assert len([row for row in rows(tmp_path) if "events" in row]) == 2
    assert await listed(store) == await full_load(store)


async def test_the_index_is_compacted_as_it_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_index, "_MIN_COMPACT_BYTES", 4096)
    store = FileSessionStore(tmp_path, fsync=False)
    manager = await chat(store, "alice", 1)
    for n in range(60):
        await manager.user_says(f"more {n}")
    await chat(store, "bob", 1)

    assert (tmp_path / "summaries.jsonl").stat().st_size < 3 * 4096
    assert await listed(store) == await full_load(store)
    assert await listed(FileSessionStore(tmp_path)) == await full_load(store)


async def test_buffered_saves_are_listed_before_they_are_written(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path, auto_save=False)
    session = Session(id="buffered")
    await session.add_event(SessionEvent(message="not on disk yet"))
    await store.save(session)

    [row] = (await store.find_sessions()).items
    assert (row.id, row.event_count) == ("buffered", 1)
    await store.close()


async def test_an_encrypted_store_keeps_only_stale_rows_with_nothing_in_clear(
    tmp_path: Path,
) -> None:
    store = FileSessionStore(tmp_path, encryption_key=generate_key())
    manager = await chat(store, "alice", 1)

    assert {json.dumps(row) for row in rows(tmp_path)[2:]} == {
        json.dumps({"id": manager.session_id, "stale": 1})
    }
    assert await listed(store) == await full_load(store)
    assert "alice" not in (tmp_path / "summaries.jsonl").read_text()


async def test_a_users_pages_and_totals_follow_writes(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path / "s", fsync=False)
    first = await chat(store, "alice", 1)
    await chat(store, "bob", 1)
    assert [row.id for row in (await store.find_sessions(where={"user_id": "alice"})).items] == [
        first.session_id
    ]
    second = await chat(store, "alice", 2)
    moved = await store.get(first.session_id)
    assert moved is not None
    moved.metadata.user_id = "bob"
    await store.save(moved)

    page = await store.find_sessions(where={"user_id": "alice"}, order="created_at")
    totals = await store.usage(group_by="user_id", where={"user_id": "bob"})
    assert [row.id for row in page.items] == [second.session_id]
    assert [(row.key, row.sessions) for row in totals] == [({"user_id": "bob"}, 2)]
