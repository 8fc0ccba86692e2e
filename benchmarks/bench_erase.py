"""Erasing one user among many: how long ``erase`` takes, and what it does to other users'
appends meanwhile.

Fills a store with one user (``alice``) owning S sessions of E events and other users owning
the rest of T events (sessions of E events, 100 users), then, on fresh store objects:

1. times appends to other users' sessions alone (the baseline: median and p99);
2. runs ``erase(where={"user_id": "alice"})`` while the same appends go on from another store
   object (another worker of the app), and times both; the p99 ratio compares the two runs;
3. times ``compact()``.

``cpu s`` is the CPU time of this process while the erasure ran (the erasure's and the
appends'; a PostgreSQL server's own is not in it): on a busy machine, wall times stretch
while CPU times hardly move.

    python benchmarks/bench_erase.py --stores sqlite,postgres
    python benchmarks/bench_erase.py --stores sqlite --alice-sessions 1000 --total-events 100000

SQLite is filled with ``synchronous=off`` (the fill is not what is measured) and measured with
the default ``synchronous=full``. PostgreSQL uses a schema of its own, dropped at the end. Not
part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table

from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import PostgresSessionStore, SessionStore, SQLiteSessionStore

POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
OTHER_USERS = 100


def owned_session(session_id: str, user: str, events: int) -> Session[Any]:
    session: Session[Any] = Session(id=session_id)
    session.metadata.user_id = user
    for n in range(events):
        source = EventSource.USER if n % 2 == 0 else EventSource.LLM
        session.events.append(SessionEvent(message=f"{user} says {n}", source=source))
    return session


async def fill(store: SessionStore, alice: int, others: int, events: int) -> float:
    """Save ``alice`` sessions of hers and ``others`` of other users, 64 at a time."""
    began = time.perf_counter()
    ids = [(f"alice-{n:06d}", "alice") for n in range(alice)]
    ids += [(f"other-{n:07d}", f"user-{n % OTHER_USERS}") for n in range(others)]
    for start in range(0, len(ids), 64):
        batch = [owned_session(sid, user, events) for sid, user in ids[start : start + 64]]
        await asyncio.gather(*(store.save(session) for session in batch))
    return time.perf_counter() - began


async def appends(store: SessionStore, others: int, until: Callable[[int], bool]) -> list[float]:
    """Append one event to other users' sessions, one after another, until ``until(count)``;
    the latency of each, in milliseconds."""
    latencies: list[float] = []
    n = 0
    while not until(n):
        began = time.perf_counter()
        session = await store.session_for_append(f"other-{(n * 7919) % others:07d}")
        assert session is not None
        await session.add_event(SessionEvent(message=f"more {n}", source=EventSource.USER))
        await store.save(session)
        latencies.append((time.perf_counter() - began) * 1000)
        n += 1
        await asyncio.sleep(0)
    return latencies


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) > 1 else samples[0]


async def measure(open_one: Callable[[], SessionStore], others: int, baseline: int) -> list[Any]:
    eraser, writer = open_one(), open_one()
    try:
        alone = await appends(writer, others, lambda n: n >= baseline)
        done = asyncio.Event()

        async def erase() -> tuple[float, int]:
            began = time.perf_counter()
            receipt = await eraser.erase(where={"user_id": "alice"}, actor="bench")
            done.set()
            return time.perf_counter() - began, receipt.counts["events"]

        cpu = time.process_time()
        (seconds, events), during = await asyncio.gather(
            erase(), appends(writer, others, lambda _: done.is_set())
        )
        cpu = time.process_time() - cpu
        began = time.perf_counter()
        await eraser.compact()
        compact = time.perf_counter() - began
    finally:
        await eraser.close()
        await writer.close()
    ratio = p99(during) / p99(alone)
    return [
        events,
        seconds,
        cpu,
        compact,
        statistics.median(alone),
        p99(alone),
        len(during),
        p99(during),
        ratio,
    ]


async def run_store(name: str, alice: int, others: int, events: int, baseline: int) -> list[Any]:
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            path = f"{folder}/erase.db"
            filler = SQLiteSessionStore(path, synchronous="off")
            filled = await fill(filler, alice, others, events)
            await filler.close()
            row = await measure(lambda: SQLiteSessionStore(path), others, baseline)
            return [name, filled, *row]
    schema = f"bench_erase_{uuid.uuid4().hex[:8]}"
    store = PostgresSessionStore(POSTGRES_URL, schema=schema)
    try:
        filled = await fill(store, alice, others, events)
        row = await measure(
            lambda: PostgresSessionStore(POSTGRES_URL, schema=schema), others, baseline
        )
        return [name, filled, *row]
    finally:
        await store.drop_all()
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--alice-sessions", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=20, help="events per session")
    parser.add_argument("--total-events", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=500, help="appends timed alone")
    args = parser.parse_args()
    others = max(1, (args.total_events - args.alice_sessions * args.events) // args.events)
    rows = []
    for name in args.stores.split(","):
        print(f"running {name} ...", file=sys.stderr)
        rows.append(await run_store(name, args.alice_sessions, others, args.events, args.baseline))
    header = [
        "store",
        "fill s",
        "erased events",
        "erase s",
        "cpu s",
        "compact s",
        "append ms (median)",
        "append p99 ms",
        "appends during",
        "p99 during ms",
        "p99 ratio",
    ]
    title = (
        f"bench_erase: alice {args.alice_sessions:,} sessions x {args.events} events among "
        f"{args.total_events:,} events ({machine()})"
    )
    print(table(title, header, rows))


if __name__ == "__main__":
    asyncio.run(main())
