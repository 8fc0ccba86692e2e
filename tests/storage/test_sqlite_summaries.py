"""The SQLite store's summary tables: kept by each save, read without loading a session,
recounted after removals, and added to a file written before they existed."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlite_layouts import back_to_version_5
from test_sqlite_store import query

from llm_sessions import SessionManager
from llm_sessions.models import EventSource, Session, SessionEvent, TokenUsage
from llm_sessions.storage import SessionStore, SQLiteSessionStore
from llm_sessions.storage.encryption import generate_key
from llm_sessions.storage.sqlite import SCHEMA_VERSION

OLD_FILE = Path(__file__).parent / "data" / "sqlite_v2.db"
"""Written by the code before the summary tables (schema version 2): sessions ``old-0`` (a
priced model, property team=red), ``old-1`` (an unpriced model, team=blue), each with a failed
tool call, and ``old-child`` (a child of ``old-0``)."""


async def full_load(store: SessionStore) -> dict[str, Any]:
    return {row.id: row for row in await SessionStore.session_summaries(store)}


async def listed(store: SessionStore, **where: Any) -> dict[str, Any]:
    page = await store.find_sessions(where=where or None, limit=1000)
    assert page.next_cursor is None
    return {row.id: row for row in page.items}


def no_loads(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*_: Any) -> None:
        raise AssertionError("a listing loaded a session")

    monkeypatch.setattr(store, "get", refuse)


async def chat(store: SessionStore, user: str, turns: int) -> SessionManager:
    manager = SessionManager(store=store, user_id=user, properties={"plan": "pro"})
    for n in range(turns):
        await manager.user_says(f"question {n}")
        await manager.ai_responds(
            "answer", model="gpt-4o-mini", usage={"prompt_tokens": 10, "completion_tokens": 3}
        )
    return manager


async def test_listings_and_totals_read_summary_rows_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteSessionStore(tmp_path / "s.db")
    alice = await chat(store, "alice", 3)
    await chat(store, "bob", 1)
    expected = await full_load(store)

    no_loads(store, monkeypatch)
    assert await listed(store) == expected
    assert set(await listed(store, user_id="alice", plan="pro")) == {alice.session_id}
    [row] = await store.usage(group_by=("user_id",), where={"user_id": "alice"})
    mine = expected[alice.session_id]
    assert (row.sessions, row.events, row.tokens) == (1, 6, mine.total_tokens)
    assert row.cost_usd == pytest.approx(mine.total_cost_usd)
    await store.close()


async def test_a_removal_marks_the_row_for_a_recount(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    manager = await chat(store, "alice", 2)
    await manager.pop_last_turn()
    assert query(path, "SELECT event_count, stale FROM sessions") == [(4, 1)]

    assert await listed(store) == await full_load(store)
    assert query(path, "SELECT event_count, stale FROM sessions") == [(2, 0)]
    await store.close()


async def test_a_file_from_before_the_summary_tables_is_upgraded_and_counted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    shutil.copy(OLD_FILE, path)
    assert query(path, "PRAGMA user_version") == [(2,)]

    store = SQLiteSessionStore(path)
    rows = await listed(store)
    assert query(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows == await full_load(store)
    assert set(rows) == {"old-0", "old-1", "old-child"}
    assert rows["old-child"].root_id == "old-0"
    assert rows["old-0"].has_errors and rows["old-1"].unpriced_models == ["model-without-a-price"]
    assert set(await listed(store, team="blue")) == {"old-1"}
    assert query(path, "SELECT count(*) FROM sessions WHERE stale = 1") == [(0,)]

    old = await store.get("old-0")
    assert old is not None
    usage = TokenUsage(prompt_tokens=4, completion_tokens=4, model="gpt-4o-mini")
    await old.add_event_and_save(
        SessionEvent(message="later", source=EventSource.LLM, token_usage=usage)
    )
    assert (await listed(store))["old-0"] == (await full_load(store))["old-0"]
    await store.close()


async def test_an_encrypted_store_keeps_only_a_stale_row_with_nothing_in_clear(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sealed.db"
    store = SQLiteSessionStore(path, encryption_key=generate_key())
    await chat(store, "alice", 1)
    rows = "SELECT stale, event_count, total_tokens, user_id IS NULL FROM sessions"
    assert query(path, rows) == [(1, 0, 0, 1)]
    rows = await listed(store, user_id="alice")
    assert rows == await full_load(store) and len(rows) == 1
    await store.close()


async def test_vacuum_marks_the_rows_it_changes_for_a_recount(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    manager = await chat(store, "alice", 2)
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE events SET body = 'not json' WHERE seq = (SELECT max(seq) FROM events)")
    await store.close()

    reopened = SQLiteSessionStore(path)
    assert await reopened.vacuum() == 1
    rows = await listed(reopened)
    assert rows == await full_load(reopened)
    assert rows[manager.session_id].event_count == 3
    await reopened.close()


@pytest.mark.parametrize("prefix", ["t.", "t\U0010ffff", "t\ud7ff", "t\uffff"])
async def test_an_id_prefix_is_a_range_of_ids_or_a_comparison(tmp_path: Path, prefix: str) -> None:
    store = SQLiteSessionStore(tmp_path / "prefix.db")
    ids = [prefix + "a", prefix, prefix[:-1] + chr(ord(prefix[-1]) - 1) + "z", "u", "t"]
    for session_id in ids:
        await store.save(Session(id=session_id))

    page = await store.find_sessions(prefix=prefix, order="created_at")

    assert sorted(row.id for row in page.items) == sorted([prefix, prefix + "a"])
    await store.close()


async def two_models(store: SessionStore) -> SessionManager:
    """A chat whose replies come from a priced model first, then from an unpriced one."""
    manager = SessionManager(store=store, user_id="alice")
    await manager.user_says("hello")
    for model in ("gpt-4o-mini", "model-without-a-price", "gpt-4o-mini"):
        usage = {"prompt_tokens": 7, "completion_tokens": 3}
        await manager.ai_responds(f"from {model}", model=model, usage=usage)
    return manager


async def by_model(store: SessionStore) -> list[tuple[Any, ...]]:
    rows = await store.usage(group_by=("model",))
    return [(row.key["model"], row.sessions, row.events, row.tokens) for row in rows]


async def test_the_first_model_is_counted_in_the_session_row_and_others_beside_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    manager = await two_models(store)
    session_id = manager.session_id
    assert query(path, "SELECT model, model_events, model_tokens FROM sessions") == [
        ("gpt-4o-mini", 3, 21)  # the user's message is counted with the model too
    ]
    assert query(path, "SELECT model, events, priced FROM summary_models") == [
        ("model-without-a-price", 1, 0)
    ]

    expected = await full_load(store)
    assert await listed(store) == expected
    assert expected[session_id].unpriced_models == ["model-without-a-price"]
    for model in ("gpt-4o-mini", "model-without-a-price"):
        assert [row.id for row in (await store.find_sessions(model=model)).items] == [session_id]
    assert (await store.find_sessions(model="gpt-4o")).items == []
    assert await by_model(store) == [
        ("gpt-4o-mini", 1, 3, 21),
        ("model-without-a-price", 1, 1, 10),
    ]
    await manager.user_says("one more")
    await manager.ai_responds("more", model="gpt-4o", usage={"prompt_tokens": 2})
    await manager.pop_last_turn()  # a recount keeps the row's model
    assert await listed(store) == await full_load(store)
    assert query(path, "SELECT model, model_events, stale FROM sessions") == [("gpt-4o-mini", 3, 0)]
    assert query(path, "SELECT model FROM summary_models") == [("model-without-a-price",)]
    await store.close()


async def test_a_version_5_file_moves_each_sessions_first_model_into_its_row(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    manager = await two_models(store)
    await store.close()
    back_to_version_5(path)  # every model in summary_models
    assert query(path, "SELECT count(*) FROM summary_models") == [(2,)]

    store = SQLiteSessionStore(path)
    manager = SessionManager(store=store, session_id=manager.session_id)
    await manager.ai_responds("again", model="gpt-4o-mini", usage={"prompt_tokens": 1})
    assert query(path, "SELECT model, model_events, stale FROM sessions") == [("gpt-4o-mini", 4, 0)]
    assert query(path, "SELECT model, events FROM summary_models") == [("model-without-a-price", 1)]
    assert await listed(store) == await full_load(store)
    assert await by_model(store) == [
        ("gpt-4o-mini", 1, 4, 22),
        ("model-without-a-price", 1, 1, 10),
    ]
    await store.close()
