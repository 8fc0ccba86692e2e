"""What a retention pass costs on SQLite: finding nothing to do, erasing half the sessions, and
shortening long sessions in place.

Fills a SQLite store with N sessions of E alternating user and assistant messages, created one
minute apart, then times, on the same store:

1. ``keep_last_events=E`` (no session is longer: the pass only reads summaries);
2. ``max_age=90d`` as a dry run, with ``now`` set so that half the sessions are expired;
3. the same erasing them, then again with nothing left to erase;
4. ``keep_last_events=2`` shortening every remaining session (removal records and a stub each;
   the first pass also loads the tokenizer).

    python benchmarks/bench_retention.py --sessions 2000 --events 4

The store is filled with ``synchronous=off`` (the fill is not what is measured) and measured
with the default ``synchronous=full``. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table

from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import Retention, RetentionReport, open_store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def _fill(url: str, sessions: int, events: int) -> None:
    store = open_store(url + "?synchronous=off")
    try:
        for n in range(sessions):
            session: Session[Any] = Session(id=f"s{n:07d}")
            moment = T0 + timedelta(minutes=n)
            session.metadata.created_at = session.metadata.updated_at = moment
            for k in range(events):
                source = EventSource.USER if k % 2 == 0 else EventSource.LLM
                event = SessionEvent(message=f"m{k}", source=source, timestamp=moment)
                session.events.append(event)
            await store.save(session)
    finally:
        await store.close()


async def _timed(work: Callable[[], Awaitable[RetentionReport]]) -> tuple[float, RetentionReport]:
    start = time.perf_counter()
    report = await work()
    return (time.perf_counter() - start) * 1000, report


async def run(sessions: int, events: int) -> list[list[Any]]:
    """The rows: (pass, ms, sessions erased, sessions trimmed)."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'retention.db'}"
        await _fill(url, sessions, events)
        now = T0 + timedelta(minutes=sessions // 2, days=90)
        store = open_store(url)
        passes: list[tuple[str, Retention, bool]] = [
            (f"keep_last_events={events}: none longer", Retention(keep_last_events=events), False),
            ("max_age=90d, dry run (half expired)", Retention(max_age="90d"), True),
            ("max_age=90d, erasing half", Retention(max_age="90d"), False),
            ("max_age=90d again: nothing to do", Retention(max_age="90d"), False),
            ("keep_last_events=2, trimming the rest", Retention(keep_last_events=2), False),
        ]
        rows = []
        try:
            for label, policy, dry in passes:
                ms, report = await _timed(
                    lambda p=policy, d=dry: store.apply_retention(p, now=now, dry_run=d)
                )
                rows.append([label, ms, len(report.erased_session_ids), len(report.trimmed)])
        finally:
            await store.close()
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--events", type=int, default=4)
    args = parser.parse_args()
    rows = asyncio.run(run(args.sessions, args.events))
    print(machine(), f"load average {os.getloadavg()[0]:.1f}")
    title = f"retention passes over {args.sessions:,} SQLite sessions of {args.events} events"
    print(table(title, ["pass", "ms", "erased", "trimmed"], rows))


if __name__ == "__main__":
    main()
