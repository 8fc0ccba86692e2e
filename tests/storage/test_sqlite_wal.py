"""Entering WAL mode while another connection has the new database locked: the store waits for
it (up to its timeout) instead of failing with "database is locked". The clock and the pause
are injected: the other connection lets go when the store first pauses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from llm_sessions.storage.sqlite._schema import use_wal


def _locked_file(tmp_path: Path) -> tuple[Path, sqlite3.Connection]:
    path = tmp_path / "sessions.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")  # what a connection creating the schema holds
    return path, holder


def test_wal_mode_waits_for_a_connection_that_holds_the_file(tmp_path: Path) -> None:
    path, holder = _locked_file(tmp_path)
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            holder.execute("COMMIT")

    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        use_wal(connection, timeout=5, clock=lambda: 0.0, sleep=pause)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert pauses == [0.005, 0.01]
    finally:
        connection.close()
        holder.close()


def test_wal_mode_gives_up_after_the_timeout(tmp_path: Path) -> None:
    path, holder = _locked_file(tmp_path)
    now = [0.0]

    def pause(seconds: float) -> None:
        now[0] += seconds

    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            use_wal(connection, timeout=1, clock=lambda: now[0], sleep=pause)
        assert 1 <= now[0] < 1.2
    finally:
        connection.close()
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
