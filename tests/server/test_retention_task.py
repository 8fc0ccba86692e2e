"""serve --retention: the app applies a retention policy as it starts and every interval, on
an injected clock and wait (no test waits on the wall clock), and survives a failed pass."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from llm_sessions.cli.main import app as cli
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import Session, SessionEvent, SessionMetadata
from llm_sessions.server import RetentionSchedule, create_app
from llm_sessions.server.app import app_from_environment
from llm_sessions.storage import InMemorySessionStore, Retention, RetentionReport, SessionStore
from llm_sessions.storage._erasure import ChainRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = Retention(max_age="90d")
GUARD = 30.0
"""Seconds a test waits for a pass before it fails instead of hanging (not a timing check)."""


async def born(store: SessionStore, session_id: str, days: int) -> None:
    moment = T0 + timedelta(days=days)
    metadata = SessionMetadata(created_at=moment, updated_at=moment)
    session: Session[Any] = Session(id=session_id, metadata=metadata)
    await session.add_event(SessionEvent(message="hello", timestamp=moment))
    await store.save(session)


class Drive:
    """The schedule's clock and wait, stepped by the test: each pass reads the next time, and
    the wait after it returns only when the test calls ``next_pass``."""

    def __init__(self, times: list[datetime]) -> None:
        self.times = list(times)
        self.waited: list[float] = []
        self.reports: asyncio.Queue[RetentionReport] = asyncio.Queue()
        self._go = asyncio.Event()
        self.waiting = asyncio.Event()

    def clock(self) -> datetime:
        now = self.times.pop(0)
        if isinstance(now, Exception):
            raise now
        return now

    async def wait(self, seconds: float) -> None:
        self.waited.append(seconds)
        self.waiting.set()
        await self._go.wait()
        self._go.clear()

    def next_pass(self) -> None:
        self._go.set()

    async def report(self) -> RetentionReport:
        return await asyncio.wait_for(self.reports.get(), GUARD)

    def schedule(self) -> RetentionSchedule:
        return RetentionSchedule(
            POLICY, "1h", clock=self.clock, wait=self.wait, on_pass=self.reports.put_nowait
        )


async def test_the_app_applies_the_policy_as_it_starts_and_every_interval() -> None:
    store = InMemorySessionStore()
    await born(store, "old", 0)
    await born(store, "young", 95)
    drive = Drive([T0 + timedelta(days=100), T0 + timedelta(days=300)])
    app = create_app(store, retention=drive.schedule())
    async with app.router.lifespan_context(app):
        first = await drive.report()
        assert first.erased_session_ids == ["old"]
        assert await store.list_sessions() == ["young"]
        await born(store, "later", 150)
        drive.next_pass()
        second = await drive.report()
        assert sorted(second.erased_session_ids) == ["later", "young"]
        assert [record.actor for record in await store.audit_log()] == ["retention"] * 2
    assert drive.waited[0] == 3600.0
    assert drive.times == []  # no pass after the app stopped


async def test_a_failed_pass_is_logged_and_the_next_runs(caplog: pytest.LogCaptureFixture) -> None:
    store = InMemorySessionStore()
    await born(store, "old", 0)
    drive = Drive([RuntimeError("clock broke"), T0 + timedelta(days=100)])  # type: ignore[list-item]
    app = create_app(store, retention=drive.schedule())
    with caplog.at_level(logging.ERROR, logger="llm_sessions.server.retention"):
        async with app.router.lifespan_context(app):
            await asyncio.wait_for(drive.waiting.wait(), GUARD)  # the failed pass is over
            assert "retention pass failed" in caplog.text
            drive.next_pass()
            report = await drive.report()
    assert report.erased_session_ids == ["old"]


class OverlappedStore(InMemorySessionStore):
    """A memory store on which another worker's pass runs whole while this worker's pass has
    found the expired sessions and not yet erased them (the passes of workers started together
    overlap so)."""

    other_pass: Callable[[], Awaitable[object]] | None = None

    async def _rows_where(self, key: str, values: Sequence[str], prefix: str) -> list[ChainRow]:
        if self.other_pass is not None:
            other, self.other_pass = self.other_pass, None
            await other()
        return await super()._rows_where(key, values, prefix)


async def test_overlapping_passes_of_two_workers_leave_one_audit_record() -> None:
    store = OverlappedStore()
    await born(store, "old", 0)
    await born(store, "young", 95)
    at_day_100 = T0 + timedelta(days=100)
    first, second = (RetentionSchedule(POLICY, clock=lambda: at_day_100) for _ in range(2))
    reports: list[RetentionReport] = []

    async def first_worker() -> None:
        reports.append(await first.run_once(store))

    store.other_pass = first_worker
    late = await second.run_once(store)

    assert [report.erased_session_ids for report in reports] == [["old"]]
    assert late.erased is None  # the first worker had erased "old": this pass erased nothing
    [record] = await store.audit_log()
    assert (record.actor, record.counts["sessions"]) == ("retention", 1)
    assert await store.list_sessions() == ["young"]


def test_the_environment_names_the_policy_and_bad_values_are_refused() -> None:
    env = {"LLM_SESSIONS_STORE": "memory://", "LLM_SESSIONS_RETENTION": "max_idle=30d"}
    schedule = app_from_environment(env).state.llm_sessions.retention
    assert schedule.policy == Retention(max_idle="30d") and schedule.period == timedelta(hours=1)
    for name, value, field in (
        ("LLM_SESSIONS_RETENTION", "max_idle=30x", "max_idle"),
        ("LLM_SESSIONS_RETENTION_INTERVAL", "0s", "retention_interval"),
    ):
        with pytest.raises(InvalidInputError) as raised:
            app_from_environment({**env, name: value})
        assert raised.value.field == field
    with pytest.raises(InvalidInputError):
        create_app("memory://", retention="max_age=90d")  # type: ignore[arg-type]


@pytest.fixture
def uvicorn_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    for name in ("LLM_SESSIONS_RETENTION", "LLM_SESSIONS_RETENTION_INTERVAL"):
        monkeypatch.setenv(name, "")  # serve sets them for its workers: put back after
    return calls


def test_serve_retention_is_checked_before_binding_and_shown(
    uvicorn_runs: list[dict[str, Any]],
) -> None:
    arguments = ["serve", "--store", "memory://", "--retention", "max_age=90d,keep_last_events=50"]
    result = CliRunner().invoke(cli, [*arguments, "--retention-interval", "30m"])
    assert result.exit_code == 0, result.output
    assert "  retention     max_age=90d,keep_last_events=50 every 30m" in result.output
    assert len(uvicorn_runs) == 1
    bad = CliRunner().invoke(cli, ["serve", "--store", "memory://", "--retention", "max_age=9x"])
    assert bad.exit_code == 1 and "max_age='9x'" in bad.output
    assert len(uvicorn_runs) == 1
