"""Redis and PostgreSQL stores against their raw drivers: append cost, append rate, load time.

For each service store this measures

* the median time of ``session.add_event_and_save(event)`` when the session already holds 10,
  1,000 and 10,000 events (an append-only log keeps the 10,000/10 ratio near 1; target < 1.5),
* events per second for 10,000 appends in a row, beside the raw driver doing the same work one
  command at a time (target: within 3x; the two are interleaved append by append, so both see
  the same machine load) and all at once in one pipeline / ``executemany``,
* the time to load a 10,000-event session with a fresh store object, beside the raw read of the
  same rows (target: within 2x) and the raw read plus ``json.loads`` of every row.

Run from the repository root (needs the servers; not part of the test run)::

    .venv/bin/python benchmarks/bench_stores_services.py [--only redis|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.storage import open_store
from llm_sessions.storage.event_log import EventLogStore

SIZES = (10, 1_000, 10_000)
REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def make_event(number: int) -> SessionEvent[Any]:
    """A typical chat message of about 150 characters."""
    text = f"Message {number}: " + "the quick brown fox jumps over the lazy dog " * 3
    return SessionEvent(message=text, source=EventSource.USER, metadata={"turn": number})


@dataclass
class Result:
    """The numbers of one backend."""

    name: str
    append_median_us: dict[int, float] = field(default_factory=dict)
    store_rate: float = 0.0
    raw_rate: float = 0.0
    raw_batch_rate: float = 0.0
    load_ms: float = 0.0
    store_read_ms: float = 0.0
    raw_read_ms: float = 0.0
    raw_read_parse_ms: float = 0.0


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


async def median_of(repeats: int, call: Callable[[], Awaitable[Any]]) -> float:
    return statistics.median([await timed(call) for _ in range(repeats)])


# -- the store ---------------------------------------------------------------------------------


async def session_with(store: EventLogStore, count: int) -> Session[Any]:
    """A saved session holding ``count`` events (written in one save)."""
    session: Session[Any] = Session()
    for number in range(count):
        await session.add_event(make_event(number))
    await store.save(session)
    return session


async def append_medians(store: EventLogStore, samples: int) -> dict[int, float]:
    """Median seconds of one ``add_event_and_save`` per session size; the sessions take turns,
    append by append, so that every size sees the same machine load."""
    sessions = {size: await session_with(store, size) for size in SIZES}
    times: dict[int, list[float]] = {size: [] for size in SIZES}
    for n in range(samples):
        for size, session in sessions.items():
            event = make_event(size + n)
            times[size].append(await timed(partial(session.add_event_and_save, event)))
    return {size: statistics.median(values) for size, values in times.items()}


async def append_rates(store: EventLogStore, raw: RawDriver, count: int) -> tuple[float, float]:
    """Events/s of the store and of the raw driver, appends interleaved one to one so that
    both see the same machine load."""
    session = await session_with(store, 0)
    events = [make_event(n) for n in range(count)]
    rows = [(event.id, event.model_dump_json()) for event in events]
    store_time = raw_time = 0.0
    for event, row in zip(events, rows, strict=True):
        store_time += await timed(partial(session.add_event_and_save, event))
        raw_time += await timed(partial(raw.append, *row))
    return count / store_time, count / raw_time


async def load_times(url: str, session_id: str, repeats: int) -> tuple[float, float]:
    """Median ``get`` of the session by a fresh store object (its connection made first), and
    the median of the part of it that reads the rows (``_read``, before the models are built)."""
    loads, reads = [], []
    for _ in range(repeats):
        store = open_store(url)
        assert isinstance(store, EventLogStore)
        await store.get("not-there")
        loads.append(await timed(partial(store.get, session_id)))
        reads.append(await timed(partial(store._read, session_id)))
        await store.close()
    return statistics.median(loads), statistics.median(reads)


async def measure(url: str, raw: RawDriver, result: Result, samples: int, count: int) -> None:
    store = open_store(url)
    assert isinstance(store, EventLogStore)
    try:
        await append_medians(store, 50)  # warm up: connections, schema, cached plans
        medians = await append_medians(store, samples)
        result.append_median_us = {size: median * 1e6 for size, median in medians.items()}
        result.store_rate, result.raw_rate = await append_rates(store, raw, count)
        rows = [(event.id, event.model_dump_json()) for event in map(make_event, range(count))]
        result.raw_batch_rate = count / await timed(lambda: raw.append_all(rows))
        big = await session_with(store, count)
        load, read = await load_times(url, big.id, 5)
        result.load_ms, result.store_read_ms = load * 1e3, read * 1e3
        result.raw_read_ms = await median_of(5, raw.read) * 1e3

        async def read_and_parse() -> None:
            [json.loads(row) for row in await raw.read()]

        result.raw_read_parse_ms = await median_of(5, read_and_parse) * 1e3
    finally:
        await store.drop_all()  # type: ignore[attr-defined]
        await store.close()
        await raw.close()


# -- the raw drivers ---------------------------------------------------------------------------


class RawDriver:
    """The same work done straight with the driver: one log of event JSON texts."""

    async def append(self, event_id: str, body: str) -> None:
        raise NotImplementedError

    async def append_all(self, rows: list[tuple[str, str]]) -> None:
        raise NotImplementedError

    async def read(self) -> list[Any]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class RawRedis(RawDriver):
    """``RPUSH`` one at a time, ``RPUSH`` in one pipeline, ``LRANGE 0 -1``."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.client = Redis.from_url(url)
        self.key = f"bench-raw-{uuid.uuid4().hex}"

    async def append(self, event_id: str, body: str) -> None:
        await self.client.rpush(self.key, body)

    async def append_all(self, rows: list[tuple[str, str]]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for _, body in rows:
            pipe.rpush(self.key + ":batch", body)
        await pipe.execute()

    async def read(self) -> list[Any]:
        return list(await self.client.lrange(self.key, 0, -1))

    async def close(self) -> None:
        await self.client.delete(self.key, self.key + ":batch")
        await self.client.aclose()


class RawPostgres(RawDriver):
    """One autocommitted ``INSERT`` at a time, ``executemany``, ``SELECT ... ORDER BY seq``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.schema = f"bench_raw_{uuid.uuid4().hex[:12]}"
        self.connection: Any = None

    async def open(self) -> RawPostgres:
        import asyncpg

        self.connection = await asyncpg.connect(self.url)
        table = f"{self.schema}.events"
        await self.connection.execute(
            f"CREATE SCHEMA {self.schema}; CREATE TABLE {table} ("
            "seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, session_id text NOT NULL, "
            "event_id text NOT NULL, body json NOT NULL, UNIQUE (session_id, event_id)); "
            f"CREATE INDEX ON {table} (session_id, seq)"
        )
        self.insert = f"INSERT INTO {table} (session_id, event_id, body) VALUES ($1, $2, $3)"
        self.select = f"SELECT body FROM {table} WHERE session_id = $1 ORDER BY seq"
        return self

    async def append(self, event_id: str, body: str) -> None:
        await self.connection.execute(self.insert, "one", event_id, body)

    async def append_all(self, rows: list[tuple[str, str]]) -> None:
        await self.connection.executemany(self.insert, [("many", e, b) for e, b in rows])

    async def read(self) -> list[Any]:
        return [row[0] for row in await self.connection.fetch(self.select, "one")]

    async def close(self) -> None:
        await self.connection.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        await self.connection.close()


# -- report ------------------------------------------------------------------------------------


def report(results: list[Result]) -> None:
    def row(label: str, values: list[str]) -> None:
        print(f"{label:<46}" + "".join(f"{value:>16}" for value in values))

    row("", [r.name for r in results])
    for size in SIZES:
        row(
            f"add_event_and_save median @{size:,} events (us)",
            [f"{r.append_median_us[size]:.0f}" for r in results],
        )
    row(
        "  ratio 10,000 / 10 (target < 1.5)",
        [f"{r.append_median_us[10_000] / r.append_median_us[10]:.2f}" for r in results],
    )
    row("store appends/s (10,000, interleaved with raw)", [f"{r.store_rate:,.0f}" for r in results])
    row("raw driver appends/s, one at a time", [f"{r.raw_rate:,.0f}" for r in results])
    row("raw driver appends/s, pipeline/executemany", [f"{r.raw_batch_rate:,.0f}" for r in results])
    row(
        "  raw one-at-a-time / store (target < 3)",
        [f"{r.raw_rate / r.store_rate:.2f}" for r in results],
    )
    row("load 10,000 events, fresh store (ms)", [f"{r.load_ms:.1f}" for r in results])
    row("  of which the store's read of the rows (ms)", [f"{r.store_read_ms:.1f}" for r in results])
    row("raw read LRANGE / SELECT (ms)", [f"{r.raw_read_ms:.1f}" for r in results])
    row("raw read + json.loads per row (ms)", [f"{r.raw_read_parse_ms:.1f}" for r in results])
    row("  load / raw read (target < 2)", [f"{r.load_ms / r.raw_read_ms:.1f}" for r in results])
    row(
        "  load / (raw read + json.loads)",
        [f"{r.load_ms / r.raw_read_parse_ms:.1f}" for r in results],
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["redis", "postgres"], help="measure one backend")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--samples", type=int, default=300, help="appends timed per size")
    parser.add_argument("--count", type=int, default=10_000, help="appends for the rates")
    args = parser.parse_args()
    results = []
    if args.only in (None, "redis"):
        result = Result("Redis")
        url = f"{args.redis_url}?key_prefix=bench-{uuid.uuid4().hex[:12]}:"
        await measure(url, RawRedis(args.redis_url), result, args.samples, args.count)
        results.append(result)
    if args.only in (None, "postgres"):
        result = Result("PostgreSQL")
        url = f"{args.postgres_url}?schema=bench_{uuid.uuid4().hex[:12]}"
        raw = await RawPostgres(args.postgres_url).open()
        await measure(url, raw, result, args.samples, args.count)
        results.append(result)
    report(results)


if __name__ == "__main__":
    asyncio.run(main())
