"""The server's periodic retention: a background task of the app's lifespan that applies a
``Retention`` policy to the whole store every ``interval`` (``llm-sessions serve
--retention``).

The first pass runs as the app starts, the next ``interval`` after a pass ends. A failed pass
is logged and the next one runs on time. The clock and the wait are injectable, so a test
drives passes without waiting on the wall clock. With several worker processes each runs the
passes; overlapping passes are harmless (a trim's stub and removal record are named by what
they remove, so a second writes nothing new, and a second erasure finds nothing, or finds the
sessions erased meanwhile and leaves no audit record: one record per erasure that deleted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..exceptions import InvalidInputError
from ..storage import Retention, RetentionReport, SessionStore
from ..storage._retention import parse_duration

__all__ = [
    "DEFAULT_INTERVAL",
    "RETENTION_ENV",
    "RETENTION_INTERVAL_ENV",
    "RetentionSchedule",
    "retention_running",
]

RETENTION_ENV = "LLM_SESSIONS_RETENTION"
"""The policy as text (``max_age=90d,keep_last_events=200``) for ``app_from_environment``."""
RETENTION_INTERVAL_ENV = "LLM_SESSIONS_RETENTION_INTERVAL"
"""How often the policy is applied (``1h``, ``30m``)."""
DEFAULT_INTERVAL = timedelta(hours=1)
_MIN_INTERVAL = timedelta(seconds=1)
logger = logging.getLogger("llm_sessions.server.retention")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetentionSchedule:
    """A policy the server applies every ``interval``.

    Args:
        policy: The ``Retention`` to apply.
        interval: Time between the end of a pass and the next (a ``timedelta`` or text such
            as ``"1h"``), at least a second.
        clock: The time each pass counts back from (default: now, in UTC).
        wait: Waits between passes (default ``asyncio.sleep``), given the seconds.
        on_pass: Called with each pass's report (for logs and tests).

    Raises:
        InvalidInputError: ``policy`` is not a ``Retention`` or ``interval`` is not a duration
            of at least a second.
    """

    policy: Retention
    interval: timedelta | str = DEFAULT_INTERVAL
    clock: Callable[[], datetime] = _utc_now
    wait: Callable[[float], Awaitable[object]] = asyncio.sleep
    on_pass: Callable[[RetentionReport], object] | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.policy, Retention):
            raise InvalidInputError("retention", self.policy, "must be a Retention(...)")
        interval = parse_duration(self.interval, "retention_interval")
        if interval < _MIN_INTERVAL:
            raise InvalidInputError("retention_interval", self.interval, "must be at least 1s")
        object.__setattr__(self, "interval", interval)

    @property
    def period(self) -> timedelta:
        """The interval, as a ``timedelta``."""
        interval = self.interval
        return interval if isinstance(interval, timedelta) else parse_duration(interval, "interval")

    async def run_once(self, store: SessionStore) -> RetentionReport:
        """One pass over ``store``, at ``clock()``."""
        report = await store.apply_retention(self.policy, now=self.clock())
        if report.erased_session_ids or report.trimmed:
            logger.info(
                "retention: erased %d sessions, trimmed %d",
                len(report.erased_session_ids),
                len(report.trimmed),
            )
        if self.on_pass is not None:
            self.on_pass(report)
        return report

    async def run_forever(self, store: Callable[[], Awaitable[SessionStore]]) -> None:
        """A pass now, then one every ``interval`` until cancelled; a failed pass is logged."""
        while True:
            try:
                await self.run_once(await store())
            except asyncio.CancelledError:
                raise
            except Exception:  # a store outage must not end the schedule
                logger.exception("retention pass failed; the next runs in %s", self.period)
            await self.wait(self.period.total_seconds())


@asynccontextmanager
async def retention_running(
    schedule: RetentionSchedule | None, store: Callable[[], Awaitable[SessionStore]]
) -> AsyncIterator[asyncio.Task[None] | None]:
    """``schedule``'s passes in a background task for the duration of the block (nothing when
    ``schedule`` is None); the task is cancelled and awaited on the way out."""
    if schedule is None:
        yield None
        return
    task = asyncio.create_task(schedule.run_forever(store), name="llm-sessions retention")
    try:
        yield task
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
