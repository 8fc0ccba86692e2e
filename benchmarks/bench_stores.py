"""How much the stores cost beside their raw drivers, and whether appends stay flat.

For each store: the median time of ``add_event_and_save`` when the session already holds 10,
1,000 and N events (N = ``--events``), the append rate over N one-at-a-time appends, and the
time to load the N-event session from a fresh store object. Beside it, the same workload done
with the raw driver on the same JSON texts (one-at-a-time writes with the same durability
settings, a bulk write, and a read that decodes every row with ``json.loads``), so the
library's overhead reads as a ratio.

    python benchmarks/bench_stores.py --stores memory,file,sqlite --events 10000

Targets: append time at N / at 10 under 1.5; append rate within 3x of the raw one-at-a-time
rate; load within 2x of the raw read. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from llm_sessions.models import EventSource, Session, SessionEvent, TokenUsage
from llm_sessions.storage import SessionStore, open_store

REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ALL_STORES = ["memory", "file", "sqlite", "redis", "postgres"]
VARIANTS = ["file-nofsync", "sqlite-normal"]  # the faster, less durable settings


class RawDriver:
    """The same workload done directly with a driver: one append, a bulk write, a read."""

    async def append(self, text: str) -> None:
        raise NotImplementedError

    async def bulk(self, texts: list[str]) -> None:
        raise NotImplementedError

    async def read(self) -> list[Any]:
        raise NotImplementedError

    async def close(self) -> None:
        """Release what the driver holds."""


@dataclass
class Result:
    store: str
    medians: dict[int, float] = field(default_factory=dict)
    rate: float = 0.0
    load: float = 0.0
    raw_rate: float | None = None
    raw_bulk_rate: float | None = None
    raw_load: float | None = None


def make_events(count: int) -> list[SessionEvent[Any]]:
    """A conversation: user turns, and model replies with token usage."""
    events: list[SessionEvent[Any]] = []
    for n in range(count):
        if n % 2 == 0:
            message = f"question {n}: " + "lorem ipsum " * 8
            events.append(SessionEvent(message=message, source=EventSource.USER))
        else:
            usage = TokenUsage(prompt_tokens=40 + n % 7, completion_tokens=60, model="gpt-4o-mini")
            message = f"answer {n}: " + "dolor sit " * 10
            events.append(SessionEvent(message=message, token_usage=usage))
    return events


async def timed(work: Awaitable[Any]) -> float:
    started = time.perf_counter()
    await work
    return time.perf_counter() - started


async def bench(
    name: str,
    open_one: Callable[[], SessionStore],
    raw: RawDriver | None,
    count: int,
    window: int,
    loads: int,
) -> Result:
    """Library and raw driver side by side: their appends alternate, so a noisy disk or
    server affects both alike."""
    sizes = sorted({10, min(1000, count), count})
    events = make_events(count + window)
    texts = [event.model_dump_json() for event in events[:count]]
    store = open_one()
    session: Session[Any] = Session(id=f"bench-{uuid.uuid4().hex[:8]}")
    await store.save(session)
    times, raw_times = [], []
    for index, event in enumerate(events):
        times.append(await timed(session.add_event_and_save(event)))
        if raw is not None and index < count:
            raw_times.append(await timed(raw.append(texts[index])))
    result = Result(name)
    result.medians = {size: statistics.median(times[size : size + window]) for size in sizes}
    result.rate = count / sum(times[:count])
    durations = []
    for _ in range(loads):
        reader = open_one() if name != "memory" else store
        started = time.perf_counter()
        loaded = await reader.get(session.id)
        durations.append(time.perf_counter() - started)
        assert loaded is not None and len(loaded.events) == count + window
        if reader is not store:
            await reader.close()
    result.load = statistics.median(durations)
    if raw is not None:
        result.raw_rate = count / sum(raw_times)
        result.raw_bulk_rate = count / await timed(raw.bulk(texts))
        raw_loads = []
        for _ in range(loads):
            started = time.perf_counter()
            assert len(await raw.read()) == count
            raw_loads.append(time.perf_counter() - started)
        result.raw_load = statistics.median(raw_loads)
        await raw.close()
    cleanup = getattr(store, "drop_all", None)
    if cleanup is not None:
        await cleanup()
    await store.close()
    return result


# -- the raw drivers ---------------------------------------------------------------------------


def decode_all(rows: list[Any]) -> list[Any]:
    return [json.loads(row) for row in rows]


class RawFile(RawDriver):
    """Plain appends to a JSON-lines file (open, write, fsync, close), then read and decode."""

    def __init__(self, directory: Path, fsync: bool) -> None:
        self.path = directory / f"raw-{uuid.uuid4().hex[:8]}.jsonl"
        self.fsync = fsync

    def _write(self, path: Path, mode: str, data: str) -> None:
        with open(path, mode, encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            if self.fsync:
                os.fsync(handle.fileno())

    async def append(self, text: str) -> None:
        self._write(self.path, "a", text + "\n")

    async def bulk(self, texts: list[str]) -> None:
        self._write(self.path.with_suffix(".bulk"), "w", "".join(t + "\n" for t in texts))

    async def read(self) -> list[Any]:
        return decode_all(self.path.read_text(encoding="utf-8").splitlines())


class RawSQLite(RawDriver):
    """One INSERT per event in autocommit mode (WAL, the same synchronous setting)."""

    INSERT = "INSERT INTO events (session_id, event_id, body) VALUES (?, ?, ?)"

    def __init__(self, directory: Path, synchronous: str) -> None:
        self.conn = sqlite3.connect(
            directory / f"raw-{uuid.uuid4().hex[:8]}.db", isolation_level=None
        )
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute(f"PRAGMA synchronous = {synchronous}")
        self.conn.execute(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT,"
            " event_id TEXT, body TEXT, UNIQUE (session_id, event_id))"
        )
        self.conn.execute("CREATE INDEX events_order ON events (session_id, seq)")

    async def append(self, text: str) -> None:
        self.conn.execute(self.INSERT, ("one", uuid.uuid4().hex, text))

    async def bulk(self, texts: list[str]) -> None:
        self.conn.execute("BEGIN")
        self.conn.executemany(self.INSERT, [("bulk", uuid.uuid4().hex, t) for t in texts])
        self.conn.execute("COMMIT")

    async def read(self) -> list[Any]:
        query = "SELECT body FROM events WHERE session_id = 'one' ORDER BY seq"
        return decode_all([body for (body,) in self.conn.execute(query)])

    async def close(self) -> None:
        self.conn.close()


class RawRedis(RawDriver):
    """One RPUSH per event (one round trip), a pipelined bulk push, LRANGE to read."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.client = redis.Redis.from_url(url)
        self.key = f"bench-raw-{uuid.uuid4().hex[:8]}"

    async def append(self, text: str) -> None:
        await self.client.rpush(self.key, text)

    async def bulk(self, texts: list[str]) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for text in texts:
                pipe.rpush(self.key + ":bulk", text)
            await pipe.execute()

    async def read(self) -> list[Any]:
        return decode_all(await self.client.lrange(self.key, 0, -1))

    async def close(self) -> None:
        await self.client.delete(self.key, self.key + ":bulk")
        await self.client.aclose()


class RawPostgres(RawDriver):
    """One INSERT per event with asyncpg, executemany for bulk, one SELECT to read."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.table = f"bench_raw_{uuid.uuid4().hex[:8]}"
        self.conn: Any = None

    async def _connection(self) -> Any:
        if self.conn is None:
            import asyncpg

            self.conn = await asyncpg.connect(self.url)
            await self.conn.execute(
                f"CREATE TABLE {self.table} (seq BIGSERIAL PRIMARY KEY, session_id TEXT,"
                " event_id TEXT, body TEXT, UNIQUE (session_id, event_id))"
            )
        return self.conn

    def _insert(self) -> str:
        return f"INSERT INTO {self.table} (session_id, event_id, body) VALUES ($1, $2, $3)"

    async def append(self, text: str) -> None:
        conn = await self._connection()
        await conn.execute(self._insert(), "one", uuid.uuid4().hex, text)

    async def bulk(self, texts: list[str]) -> None:
        conn = await self._connection()
        await conn.executemany(self._insert(), [("bulk", uuid.uuid4().hex, t) for t in texts])

    async def read(self) -> list[Any]:
        conn = await self._connection()
        query = f"SELECT body FROM {self.table} WHERE session_id = 'one' ORDER BY seq"
        return decode_all([record[0] for record in await conn.fetch(query)])

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")
            await self.conn.close()


# -- wiring ------------------------------------------------------------------------------------


def answers(url: str, port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or port), 1):
            return True
    except OSError:
        return False


def setups(name: str, directory: Path) -> tuple[Callable[[], SessionStore], RawDriver | None]:
    token = uuid.uuid4().hex[:8]
    if name == "memory":
        shared = open_store("memory://")
        return (lambda: shared), None
    if name in ("file", "file-nofsync"):
        fsync = name == "file"
        url = f"file://{directory / ('files-' + token)}?fsync={str(fsync).lower()}"
        return (lambda: open_store(url)), RawFile(directory, fsync)
    if name in ("sqlite", "sqlite-normal"):
        sync = "full" if name == "sqlite" else "normal"
        url = f"sqlite:///{directory / ('lib-' + token + '.db')}?synchronous={sync}"
        return (lambda: open_store(url)), RawSQLite(directory, sync)
    if name == "redis":
        url = f"{REDIS_URL}?key_prefix=bench-{token}:"
        return (lambda: open_store(url)), RawRedis(REDIS_URL)
    if name == "postgres":
        url = f"{POSTGRES_URL}?schema=bench_{token}"
        return (lambda: open_store(url)), RawPostgres(POSTGRES_URL)
    raise SystemExit(f"unknown store {name!r}; choose from {ALL_STORES + VARIANTS}")


def available(name: str) -> bool:
    if name == "redis":
        return answers(REDIS_URL, 6379)
    if name == "postgres":
        return answers(POSTGRES_URL, 5432)
    return True


def table(results: list[Result], count: int) -> str:
    sizes = sorted({10, min(1000, count), count})
    head = [
        "store",
        *(f"p50@{s} ms" for s in sizes),
        f"{count}/10",
        "lib ev/s",
        "raw ev/s",
        "raw/lib",
        "bulk ev/s",
        "load ms",
        "raw load ms",
        "load/raw",
    ]
    rows = [head]
    for r in results:
        known = r.raw_rate is not None and r.raw_load is not None
        rows.append(
            [
                r.store,
                *(f"{r.medians[s] * 1e3:.3f}" for s in sizes),
                f"{r.medians[count] / r.medians[10]:.2f}",
                f"{r.rate:,.0f}",
                f"{r.raw_rate:,.0f}" if r.raw_rate else "-",
                f"{r.raw_rate / r.rate:.2f}" if r.raw_rate else "-",
                f"{r.raw_bulk_rate:,.0f}" if r.raw_bulk_rate else "-",
                f"{r.load * 1e3:.1f}",
                f"{r.raw_load * 1e3:.1f}" if r.raw_load else "-",
                f"{r.load / r.raw_load:.2f}" if known and r.raw_load else "-",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stores",
        default=",".join(ALL_STORES),
        help=f"comma-separated, from {ALL_STORES + VARIANTS}",
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=50, help="appends per median")
    parser.add_argument("--loads", type=int, default=3, help="loads per median")
    args = parser.parse_args()
    names = [name.strip() for name in args.stores.split(",") if name.strip()]
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for name in names:
            if not available(name):
                print(f"skipping {name}: no server answers", file=sys.stderr)
                continue
            open_one, raw = setups(name, directory)
            print(f"running {name} ...", file=sys.stderr, flush=True)
            results.append(await bench(name, open_one, raw, args.events, args.window, args.loads))
    print(table(results, args.events))


if __name__ == "__main__":
    asyncio.run(main())
