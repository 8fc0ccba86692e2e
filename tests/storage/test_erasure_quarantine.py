"""A session ``vacuum()`` set aside whole (its header unreadable) is still its user's: an
erasure by ``user_id`` removes what was set aside, and leaves another user's."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from erasure_data import ALICE_TEXT, BOB_TEXT, forget_erasures, write_people

from llm_sessions.storage import SQLiteSessionStore, open_store


def _unreadable_sqlite_header(path: Path, session_id: str) -> None:
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute(
                "UPDATE sessions SET properties = 'not json' WHERE id = ?", (session_id,)
            )
    finally:
        connection.close()


def _sqlite_bytes(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal", ".quarantine.jsonl")
        if Path(f"{path}{suffix}").exists()
    )


async def test_sqlite_sessions_vacuum_set_aside_whole_go_with_their_user(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    try:
        people = await write_people(store)
        _unreadable_sqlite_header(path, "alice-other")
        _unreadable_sqlite_header(path, "bob-child")
        assert await store.vacuum() == 2
        quarantine = _sqlite_bytes(path)
        assert b"alice-other" in quarantine and b"bob-child" in quarantine

        receipt = await store.erase(where={"user_id": "alice"})
        await store.compact()

        assert "alice-other" in receipt.session_ids
        assert set(receipt.session_ids) == people.alice
        left = _sqlite_bytes(path)
        assert ALICE_TEXT.encode() not in left and b"alice-other" not in left
        assert BOB_TEXT.encode() in left and b"bob-child" in left
    finally:
        await store.close()


async def _unreadable_postgres_header(store: Any, session_id: str) -> None:
    sql = (
        f'INSERT INTO "{store.schema}".runs (session_id, run_id, body)'
        """ VALUES ($1, 'r', '{"id": "r", "status": "exploded"}')"""
    )
    await store._run("damage", session_id, lambda c: c.execute(sql, session_id))


async def _postgres_quarantined(store: Any) -> str:
    sql = f"SELECT coalesce(string_agg(row::text, ' '), '') FROM \"{store.schema}\".quarantine"
    return str(await store._run("read", "quarantine", lambda c: c.fetchval(sql)))


@pytest.mark.postgres
async def test_postgres_sessions_vacuum_set_aside_whole_go_with_their_user(
    postgres_url: str,
) -> None:
    store: Any = open_store(f"{postgres_url}?schema=test_{uuid.uuid4().hex[:12]}")
    try:
        people = await write_people(store)
        await _unreadable_postgres_header(store, "alice-other")
        await _unreadable_postgres_header(store, "bob-child")
        assert await store.vacuum() == 2
        moved = await _postgres_quarantined(store)
        assert "alice-other" in moved and "bob-child" in moved

        receipt = await store.erase(where={"user_id": "alice"})

        assert set(receipt.session_ids) == people.alice
        left = await _postgres_quarantined(store)
        assert ALICE_TEXT not in left and "alice-other" not in left
        assert BOB_TEXT in left and "bob-child" in left
    finally:
        await forget_erasures(store)
        await store.drop_all()
        await store.close()
