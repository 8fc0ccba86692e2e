"""Taking SQLite's write lock (``BEGIN IMMEDIATE``) by trying again every millisecond instead
of through SQLite's busy handler.

The busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ms ... between two tries, so a writer refused
while another transaction held the lock may sleep through the moment it was released, and
through the start of the next transaction too: with an erasure's short transactions one after
another, that writer would wait for several. Trying every ``POLL`` seconds, a waiting writer
takes the lock about a millisecond after its release, and an erasure can leave it free a few
milliseconds only between two transactions (``_erase_pace``). After ``_SLOWER_AFTER`` seconds
of waiting the tries are ``_SLOW_POLL`` apart; the wait ends, as SQLite's did, with "database is
locked" after the connection's ``busy_timeout``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

__all__ = ["POLL", "begin_immediate"]

POLL = 0.001
"""Seconds between two tries of a waiting writer (for its first ``_SLOWER_AFTER`` seconds)."""
_SLOWER_AFTER = 0.25
_SLOW_POLL = 0.005


def begin_immediate(
    connection: sqlite3.Connection,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Begin a write transaction, waiting for the write lock up to the connection's
    ``busy_timeout``.

    Raises:
        sqlite3.OperationalError: "database is locked" once that timeout has passed, or any
            other error of ``BEGIN IMMEDIATE``.
    """
    (timeout_ms,) = connection.execute("PRAGMA busy_timeout").fetchone()
    connection.execute("PRAGMA busy_timeout = 0")
    try:
        began = clock()
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                waited = clock() - began
                if "locked" not in str(exc) or waited >= timeout_ms / 1000:
                    raise
            sleep(POLL if waited < _SLOWER_AFTER else _SLOW_POLL)
    finally:
        connection.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
