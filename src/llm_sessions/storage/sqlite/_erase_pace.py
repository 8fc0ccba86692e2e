"""The shape of an erasure's transactions on SQLite: how many sessions each deletes, how long
the write lock stays free between two, and how often the write-ahead log is checkpointed.

Each transaction holds the write lock about ``_HOLD`` seconds (its size paced by the last one).
Between two, the lock stays free until no other connection has committed for ``QUIET``
seconds (more on a busy machine, where a sleeping thread wakes late), and at most ``GAP``:
writers of this store try the lock every millisecond (``_write_lock``), so one waiting takes
it within about a millisecond of its release, and while writers keep committing the erasure
lets them (up to ``GAP``). With no writer the pause is about ``QUIET``. A writer through
SQLite's own busy handler (another program) sleeps 1 to 25 ms between tries, and may wait for
several transactions.

The erasure's commits leave the checkpoint to it (``Checkpointer``: beside the next
transaction), once the log holds about ``_FRAMES`` pages: not after every transaction (each
checkpoint syncs the database file), nor so late that a writer's commit passes SQLite's
automatic checkpoint (1,000 pages) and does it in its place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["GAP", "QUIET", "ErasePace", "next_batch"]

_BATCH = 100
"""Sessions deleted by an erasure's first transaction."""
_HOLD = 0.01
_MIN_BATCH = 10
_MAX_BATCH = 1000
QUIET = 0.003
"""Seconds the lock stays free after an erasure's transaction, and after each commit of
another connection in that pause (a waiting writer of this store takes it within ~1 ms)."""
GAP = 0.02
"""The longest pause between two transactions, however often other connections commit."""
_FRAMES = 500
_MAX_EVERY = 16
_LATE_WEIGHT = 0.2


def next_batch(size: int, held: float) -> int:
    """How many sessions the next transaction of an erasure deletes, after one of ``size``
    held the write lock ``held`` seconds: about ``_HOLD`` seconds' worth at that pace (between
    ``_MIN_BATCH`` and ``_MAX_BATCH``, at most twice the last)."""
    paced = int(size * _HOLD / held) if held > 0 else _MAX_BATCH
    return max(_MIN_BATCH, min(_MAX_BATCH, 2 * size, paced))


@dataclass
class ErasePace:
    """One erasure's pacing, updated after each transaction and each checkpoint."""

    size: int = field(default_factory=lambda: _BATCH)
    """Sessions the next transaction deletes."""
    every: int = 1
    """Transactions between two checkpoints."""
    since: int = 0
    """Transactions since the last checkpoint."""
    late: float = 0.0
    """How late a wake-up here comes (seconds, a moving average): on a busy machine a waiting
    writer's thread wakes that late too, and the pause waits for it."""

    def deleted(self, held: float) -> None:
        """Record a transaction that held the write lock ``held`` seconds."""
        self.size = next_batch(self.size, held)
        self.since += 1

    def checkpoint_due(self) -> bool:
        """Whether to checkpoint the log in the pause after the last transaction."""
        return self.since >= self.every

    def checkpoint_started(self) -> None:
        """Record that a checkpoint started."""
        self.since = 0

    def log_held(self, frames: int) -> None:
        """Record a checkpoint that found ``frames`` pages in the log: the next one comes
        after as many transactions as write about ``_FRAMES`` pages at that rate."""
        paced = int(self.every * _FRAMES / frames) if frames > 0 else _MAX_EVERY
        self.every = max(1, min(_MAX_EVERY, paced))

    def woke(self, slept: float, asked: float) -> None:
        """Record a sleep of ``asked`` seconds that lasted ``slept``."""
        self.late += (max(0.0, slept - asked) - self.late) * _LATE_WEIGHT

    def pause_over(self, released: float, last_commit: float, now: float) -> bool:
        """Whether the pause that began when the erasure released the lock (``released``) is
        over at ``now``, another connection having last committed at ``last_commit`` (or
        ``released``): quiet for ``QUIET`` seconds plus four times how late wake-ups come,
        or ``GAP`` seconds long."""
        quiet = min(GAP, QUIET + 4 * self.late)
        return now - released >= GAP or now - max(released, last_commit) >= quiet
