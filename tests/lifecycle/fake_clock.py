"""A clock the test moves by hand, for the memory provider and the lifecycle manager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_START = datetime(2030, 1, 1, tzinfo=UTC)


class FakeClock:
    """Called, it gives monotonic seconds (``MemoryStore(clock=...)``); ``utc()`` gives the
    same instant as an aware datetime (``SessionManager(clock=...)``). Time moves only when
    the test adds to ``now``."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def utc(self) -> datetime:
        """The clock's time as an aware UTC datetime."""
        return _START + timedelta(seconds=self.now)
