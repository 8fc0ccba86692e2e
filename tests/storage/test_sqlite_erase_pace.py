"""The SQLite erasure's pacing (batch sizes, pauses, checkpoints) and the write lock taken by
trying every millisecond. Clocks and sleeps are injected: nothing here waits."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from llm_sessions.storage.sqlite._checkpointer import Checkpointer
from llm_sessions.storage.sqlite._erase_pace import GAP, QUIET, ErasePace
from llm_sessions.storage.sqlite._write_lock import POLL, begin_immediate

NO_HANG = 15.0  # far above a checkpoint of a few pages: only a hang reaches it


def test_checkpoints_come_after_as_many_transactions_as_fill_the_log_to_its_target() -> None:
    pace = ErasePace()
    assert pace.checkpoint_due() is False
    pace.deleted(0.01)
    assert pace.checkpoint_due()  # the first one comes after one transaction
    pace.checkpoint_started()
    assert pace.checkpoint_due() is False
    pace.log_held(100)  # 100 pages a transaction: the next after five
    assert pace.every == 5
    pace.log_held(5000)  # far more than aimed at: after every transaction
    assert pace.every == 1
    pace.log_held(1)
    assert pace.every == 16  # never rarer than that
    pace.log_held(0)
    assert pace.every == 16


def test_the_next_batch_follows_the_time_the_last_held_the_lock() -> None:
    pace = ErasePace(size=100)
    pace.deleted(0.02)
    assert pace.size == 50
    pace.deleted(0.0)
    assert pace.size == 100  # at most twice the last


def test_a_pause_lasts_while_other_connections_commit_up_to_its_longest() -> None:
    pause_over = ErasePace().pause_over
    released = 0.0
    assert not pause_over(released, released, released + QUIET / 2)
    assert pause_over(released, released, released + QUIET)  # nobody committed
    commit = released + QUIET / 2
    assert not pause_over(released, commit, released + QUIET)  # a writer went in
    assert pause_over(released, commit, commit + QUIET)
    late = released + GAP - QUIET / 2
    assert pause_over(released, late, released + GAP)  # however busy, at most GAP


def _holder(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("CREATE TABLE IF NOT EXISTS t (x)")
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_waiting_writer_tries_again_every_millisecond(tmp_path: Path) -> None:
    holder = _holder(tmp_path / "s.db")
    connection = sqlite3.connect(tmp_path / "s.db", timeout=5, isolation_level=None)
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            holder.execute("COMMIT")

    try:
        begin_immediate(connection, clock=lambda: 0.0, sleep=sleep)
        assert connection.in_transaction
        connection.execute("INSERT INTO t VALUES (1)")
        connection.execute("COMMIT")
        assert pauses == [POLL] * 3
        assert connection.execute("PRAGMA busy_timeout").fetchone() == (5000,)
    finally:
        connection.close()
        holder.close()


def test_a_waiting_writer_gives_up_after_the_busy_timeout(tmp_path: Path) -> None:
    holder = _holder(tmp_path / "s.db")
    connection = sqlite3.connect(tmp_path / "s.db", timeout=2, isolation_level=None)
    now = [0.0]
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += 0.1

    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            begin_immediate(connection, clock=lambda: now[0], sleep=sleep)
        assert not connection.in_transaction
        assert len(pauses) == 20
        assert pauses[:3] == [POLL] * 3 and pauses[-1] > POLL  # slower after a while
        assert connection.execute("PRAGMA busy_timeout").fetchone() == (2000,)
    finally:
        connection.close()
        holder.execute("ROLLBACK")
        holder.close()


def test_a_pause_waits_longer_where_wake_ups_come_late() -> None:
    pace = ErasePace()
    assert pace.pause_over(0.0, 0.0, QUIET)
    for _ in range(30):
        pace.woke(0.003, 0.001)  # every sleep 2 ms late
    assert abs(pace.late - 0.002) < 1e-4
    assert not pace.pause_over(0.0, 0.0, QUIET)
    assert not pace.pause_over(0.0, 0.0, QUIET + 0.0079)
    assert pace.pause_over(0.0, 0.0, QUIET + 0.0081)  # four times that lateness more
    for _ in range(30):
        pace.woke(0.5, 0.001)
    assert not pace.pause_over(0.0, 0.0, GAP - 0.001)
    assert pace.pause_over(0.0, 0.0, GAP)  # never longer than GAP


async def test_a_checkpoint_runs_on_its_own_connection_one_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA wal_autocheckpoint = 0")
    connection.execute("CREATE TABLE t (x)")
    connection.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(100)])
    checkpoints = Checkpointer(str(path), "normal", 5.0)
    try:
        assert checkpoints.finished() is None
        assert checkpoints.start()
        assert not checkpoints.start()  # the first is still running
        frames = await asyncio.wait_for(checkpoints.wait(), NO_HANG)
        assert frames is not None and frames > 0
        assert checkpoints.finished() is None  # told once
        (_, in_log, copied) = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert in_log == copied
    finally:
        await checkpoints.close()
        connection.close()
