"""Questions across many sessions, answered from the stores' summary rows.

Creates N sessions (10 events each: 5 user messages and 5 priced replies; 100 users, 5 models,
``updated_at`` spread one minute apart) in each store, then times, as the median of a few
calls: the first page of 50 (newest first), the 100th page (its cursor found first), a page
filtered to one user, and a usage rollup by user over one day.

    python benchmarks/bench_fleet.py --stores sqlite,postgres,redis,file --sessions 10000
    python benchmarks/bench_fleet.py --stores sqlite --sessions 10000 --adk   # beside google-adk

SQLite is filled with ``synchronous=off`` and the file store with ``fsync=False`` (the fill is
not what is measured). PostgreSQL uses a schema of its own and Redis a key prefix of its own
(its index included), both dropped at the end. Not part of the test run.
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

from _common import machine, median_ms, table
from _fleet_adk import adk_rows

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


def fleet_session(n: int) -> Session[Any]:
    """The n-th session: its user, model and time follow from n."""
    session: Session[Any] = Session(id=f"s{n:08d}")
    session.metadata.user_id = f"user-{n % 100}"
    model = MODELS[n % len(MODELS)]
    for turn in range(5):
        session.events.append(SessionEvent(message=f"q{turn}", source=EventSource.USER))
        usage = TokenUsage(prompt_tokens=20 + turn, completion_tokens=10, model=model)
        session.events.append(
            SessionEvent(message=f"a{turn}", source=EventSource.LLM, token_usage=usage)
        )
    moment = START + timedelta(minutes=n)
    session.metadata.created_at = session.metadata.updated_at = moment
    return session


async def fill(store: SessionStore, count: int, concurrency: int) -> float:
    """Save ``count`` sessions, ``concurrency`` at a time; returns the seconds it took."""
    began = time.perf_counter()
    for start in range(0, count, concurrency):
        batch = [fleet_session(n) for n in range(start, min(count, start + concurrency))]
        await asyncio.gather(*(store.save(session) for session in batch))
    return time.perf_counter() - began


async def measure(store: SessionStore, count: int, repeat: int) -> list[Any]:
    """The four timings, in milliseconds."""
    # Warms the connection; on Redis it also builds the index of the sessions the fill wrote
    # (a database is indexed once, on its first listing), which is not what is measured.
    await store.find_sessions(limit=1)
    first = await median_ms(lambda: store.find_sessions(limit=50), repeat)
    cursor = None
    for _ in range(99):
        cursor = (await store.find_sessions(limit=50, cursor=cursor)).next_cursor
    hundredth = await median_ms(lambda: store.find_sessions(limit=50, cursor=cursor), repeat)
    one_user = await median_ms(
        lambda: store.find_sessions(where={"user_id": "user-7"}, limit=50), repeat
    )
    day = START + timedelta(minutes=count // 2)
    since = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rollup = await median_ms(
        lambda: store.usage(group_by="user_id", since=since, until=since + timedelta(days=1)),
        repeat,
    )
    return [first, hundredth, one_user, rollup]


async def run_store(name: str, count: int, repeat: int, adk: list[Any] | None) -> list[Any]:
    if name in ("sqlite", "file"):
        with tempfile.TemporaryDirectory() as folder:
            store: SessionStore = (
                SQLiteSessionStore(f"{folder}/fleet.db", synchronous="off")
                if name == "sqlite"
                else FileSessionStore(f"{folder}/fleet", fsync=False)
            )
            seconds = await fill(store, count, 64)
            row = [name, count, seconds, *await measure(store, count, repeat)]
            if name == "sqlite" and adk is not None:
                adk += await adk_rows(store, count, repeat, MODELS, START.timestamp())
            await store.close()
            return row
    tag = f"bench_fleet_{uuid.uuid4().hex[:8]}"
    remote: PostgresSessionStore | RedisSessionStore
    if name == "redis":
        remote = RedisSessionStore.from_url(f"{REDIS_URL}?key_prefix={tag}:")
    else:
        remote = PostgresSessionStore(POSTGRES_URL, schema=tag)
    try:
        seconds = await fill(remote, count, 32)
        return [name, count, seconds, *await measure(remote, count, repeat)]
    finally:
        await remote.drop_all()
        await remote.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7, help="calls per median")
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
        rows.append(await run_store(name, args.sessions, args.repeat, adk if args.adk else None))
    header = [
        "store",
        "sessions",
        "fill s",
        "page 1 ms",
        "page 100 ms",
        "1 user ms",
        "1-day usage ms",
    ]
    print(table(f"bench_fleet ({machine()})", header, rows))
    if adk:
        header = ["one user's sessions", "sessions", "fill s", "listed", "ms"]
        print(table("the same sessions, one user (SQLite files)", header, adk))


if __name__ == "__main__":
    asyncio.run(main())
