"""Questions across many sessions, answered from the stores' summary rows.

Creates N sessions (``--events`` pairs each, 5 by default: a user message and a priced reply;
100 users, 5 models, ``updated_at`` spread one minute apart) in each store, then times, as the
median of a few calls: the first page of 50 (newest first), the 100th page (its cursor found
first), a page filtered to one user, and a usage rollup by user over one day.

    python benchmarks/bench_fleet.py --stores sqlite,postgres,redis,file --sessions 10000
    python benchmarks/bench_fleet.py --stores sqlite,postgres --sessions 1000000 --events 1
    python benchmarks/bench_fleet.py --stores sqlite --sessions 10000 --adk   # beside google-adk

The fill is not what is measured. SQLite, PostgreSQL and Redis are filled by ``_fleet_fill``:
each session through the store's own ``save``, its database call held back and sent with
``--per-trip`` others (one SQLite transaction, one PostgreSQL ``executemany``, one Redis
pipeline). PostgreSQL past 10,000 sessions (a multiple of it) saves the first 10,000 so and
copies their rows in SQL with ids and times moved on (``_fleet_copies``), then ``ANALYZE``s as
autovacuum would. A million sessions still take most of an hour on SQLite on a busy 2-core VM
(minutes on PostgreSQL). The bench checks the rows on a sample: the 100 sessions from the
middle of the fill (``s00500000`` to ``s00500099`` of a million; in a copied block on
PostgreSQL) are also saved one by one into a second store, and both must list and total them
alike. Fewer events per session (``--events 1``) make a million quicker still and change no
summary read (listings and totals never read events); the table prints the count used. The
file store is filled by plain saves. SQLite runs with ``synchronous=off`` and the file store
with ``fsync=False``. PostgreSQL uses schemas of its own and Redis key prefixes of its own
(their index included), all dropped at the end, unless ``--keep NAME`` keeps them (and a later
run with the same NAME measures them again without a fill; drop them yourself afterwards).
Each figure is the median wall time and, in brackets, the mean CPU time per call (this
process, and on PostgreSQL the server processes of the store's connections). Not part of the
test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table
from _fleet_adk import adk_rows
from _fleet_copies import analyze, copy_blocks
from _fleet_cpu import server_pids, wall_and_cpu
from _fleet_fill import batched_fill, same_answers

from llm_sessions.models import EventSource, Session, SessionEvent, TokenUsage
from llm_sessions.storage import (
    FileSessionStore,
    PostgresSessionStore,
    RedisSessionStore,
    SessionStore,
    SQLiteSessionStore,
)

POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1", "o3-mini")
START = datetime(2026, 11, 1, tzinfo=UTC)
BLOCK = 10_000
"""PostgreSQL past this many sessions (a multiple of it): the rest are copies of these."""


def fleet_session(n: int, pairs: int = 5) -> Session[Any]:
    """The n-th session: its user, model and time follow from n; ``pairs`` turns."""
    session: Session[Any] = Session(id=f"s{n:08d}")
    session.metadata.user_id = f"user-{n % 100}"
    model = MODELS[n % len(MODELS)]
    for turn in range(pairs):
        session.events.append(SessionEvent(message=f"q{turn}", source=EventSource.USER))
        usage = TokenUsage(prompt_tokens=20 + turn, completion_tokens=10, model=model)
        session.events.append(
            SessionEvent(message=f"a{turn}", source=EventSource.LLM, token_usage=usage)
        )
    moment = START + timedelta(minutes=n)
    session.metadata.created_at = session.metadata.updated_at = moment
    return session


async def fill(store: SessionStore, count: int, pairs: int = 5, per_trip: int = 2000) -> float:
    """Save ``count`` sessions of ``pairs`` turns (batched, ``per_trip`` at a time, but for
    the file store); returns the seconds taken."""
    began = time.perf_counter()
    if isinstance(store, FileSessionStore):
        for start in range(0, count, 64):
            batch = [fleet_session(n, pairs) for n in range(start, min(count, start + 64))]
            await asyncio.gather(*(store.save(session) for session in batch))
    elif isinstance(store, PostgresSessionStore) and count > BLOCK and count % BLOCK == 0:
        await batched_fill(store, (fleet_session(n, pairs) for n in range(BLOCK)), per_trip)
        await copy_blocks(store, BLOCK, count)
    else:
        sessions = (fleet_session(n, pairs) for n in range(count))
        await batched_fill(store, sessions, per_trip)
    if isinstance(store, PostgresSessionStore):
        await analyze(store)
    return time.perf_counter() - began


async def check_sample(store: SessionStore, reference: SessionStore, options: Any) -> None:
    """``reference`` gets the 100 sessions from the middle of the fill by plain saves; both
    must answer alike (with 200 sessions or more)."""
    middle = options.sessions // 200 * 100
    if isinstance(store, FileSessionStore) or middle < 100:
        return
    for n in range(middle, middle + 100):
        await reference.save(fleet_session(n, options.events))
    await same_answers(store, reference, f"s{middle:08d}"[:7])


async def measure(store: SessionStore, count: int, repeat: int) -> list[Any]:
    """The four timings: median wall ms (mean CPU ms)."""
    # Warms the connection; on Redis it also builds the index of the sessions the fill wrote
    # (a database is indexed once, on its first listing), which is not what is measured.
    await store.find_sessions(limit=1)
    pids = server_pids(store)
    first = await wall_and_cpu(lambda: store.find_sessions(limit=50), repeat, pids)
    cursor = None
    for _ in range(99):
        cursor = (await store.find_sessions(limit=50, cursor=cursor)).next_cursor
    hundredth = await wall_and_cpu(
        lambda: store.find_sessions(limit=50, cursor=cursor), repeat, pids
    )
    one_user = await wall_and_cpu(
        lambda: store.find_sessions(where={"user_id": "user-7"}, limit=50), repeat, pids
    )
    day = START + timedelta(minutes=count // 2)
    since = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rollup = await wall_and_cpu(
        lambda: store.usage(group_by="user_id", since=since, until=since + timedelta(days=1)),
        repeat,
        pids,
    )
    return [first, hundredth, one_user, rollup]


def open_store(name: str, place: str) -> SessionStore:
    """A store of kind ``name``: a file under the folder ``place``, else ``place`` as the
    PostgreSQL schema or the Redis key prefix."""
    if name == "sqlite":
        return SQLiteSessionStore(f"{place}/fleet.db", synchronous="off")
    if name == "file":
        return FileSessionStore(f"{place}/fleet", fsync=False)
    if name == "redis":
        return RedisSessionStore.from_url(f"{REDIS_URL}?key_prefix={place}:")
    return PostgresSessionStore(POSTGRES_URL, schema=place)


async def run_store(name: str, options: Any, adk: list[Any] | None) -> list[Any]:
    count, repeat, kept = options.sessions, options.repeat, options.keep
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as other:
        local = name in ("sqlite", "file")
        tag = kept or f"bench_fleet_{uuid.uuid4().hex[:8]}"
        if local and kept:
            folder = f"{tempfile.gettempdir()}/{kept}_{name}"
            os.makedirs(folder, exist_ok=True)
        store = open_store(name, folder if local else tag)
        reference = open_store(name, other if local else tag + "_ref")
        try:
            seconds = None
            if not (await store.find_sessions(prefix=f"s{count - 1:08d}", limit=1)).items:
                seconds = await fill(store, count, options.events, options.per_trip)
                await check_sample(store, reference, options)
            row = [name, count, options.events * 2, seconds, *await measure(store, count, repeat)]
            if name == "sqlite" and adk is not None:
                adk += await adk_rows(store, count, repeat, MODELS, START.timestamp())
            return row
        finally:
            for each in (store, reference):
                if not local and (each is reference or not kept):
                    await each.drop_all()  # type: ignore[attr-defined]
                await each.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7, help="calls per median")
    parser.add_argument("--events", type=int, default=5, help="message-reply pairs a session")
    parser.add_argument("--per-trip", type=int, default=2000, help="saves sent at once")
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="keep the filled stores (file NAME_sqlite in the temp folder, schema or key prefix"
        " NAME) and measure them again, unfilled, when run with the same NAME",
    )
    parser.add_argument(
        "--adk",
        action="store_true",
        help="with sqlite: google-adk's DatabaseSessionService filled alike, one user listed",
    )
    args = parser.parse_args()
    rows = []
    adk: list[Any] = []
    for name in args.stores.split(","):
        print(f"running {name} ...", file=sys.stderr)
        rows.append(await run_store(name, args, adk if args.adk else None))
    header = [
        "store",
        "sessions",
        "events",
        "fill s",
        "page 1 ms (cpu)",
        "page 100 ms (cpu)",
        "1 user ms (cpu)",
        "1-day usage ms (cpu)",
    ]
    print(table(f"bench_fleet ({machine()}; load {os.getloadavg()[0]:.2f})", header, rows))
    if adk:
        header = ["one user's sessions", "sessions", "fill s", "listed", "ms"]
        print(table("the same sessions, one user (SQLite files)", header, adk))


if __name__ == "__main__":
    asyncio.run(main())
