"""``bench_server.py --baseline``: the bare app's process, the page-100 read, the comparison."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import table
from _load_client import Connection, get, post, timed
from _private_stores import POSTGRES_URL, REDIS_URL
from _processes import cpu_seconds, free_port, running

CONVERSATION_ITEMS = 10_000
PAGE = 100
READERS = 10
READS_PER_READER = 30
# The settings ``llm-sessions serve`` gives uvicorn by default (its access log included).
UVICORN_SETTINGS = [
    "--http",
    "llm_sessions.server.connection_limits:TimedH11Protocol",
    "--timeout-keep-alive",
    "5",
    "--limit-concurrency",
    "512",
]


@dataclass
class PageResult:
    """Reading page ``PAGE`` (20 items) of a ``CONVERSATION_ITEMS``-item conversation."""

    seconds: float
    latencies: list[float]
    cpu_seconds: float


@asynccontextmanager
async def bare_serving(kind: str, workers: int) -> AsyncIterator[tuple[str, int]]:
    """The bare app over private data of ``kind`` under uvicorn; yields its URL and pid."""
    token = uuid.uuid4().hex[:12]
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "_bare_server:app_from_environment"]
    command += ["--app-dir", str(Path(__file__).parent), "--port", str(port)]
    command += ["--workers", str(workers), *UVICORN_SETTINGS]
    with tempfile.TemporaryDirectory() as folder:
        target = {"sqlite": f"{folder}/bare.db", "redis": REDIS_URL}.get(kind, POSTGRES_URL)
        prefix = f"bench-bare-{token}:" if kind == "redis" else f"bench_bare_{token}"
        env = {"BENCH_BARE_KIND": kind, "BENCH_BARE_TARGET": target, "BENCH_BARE_PREFIX": prefix}
        try:
            with running(command, port, env) as started:
                yield started
        finally:
            await _drop(kind, prefix)


async def _drop(kind: str, prefix: str) -> None:
    """Remove what the bare app wrote to the shared services."""
    if kind == "redis":
        import redis.asyncio as redis

        client = redis.Redis.from_url(REDIS_URL)
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
        await client.aclose()
    elif kind == "postgres":
        import asyncpg

        connection = await asyncpg.connect(POSTGRES_URL)
        await connection.execute(f"DROP SCHEMA IF EXISTS {prefix} CASCADE")
        await connection.close()


async def read_page_100(base_url: str, pid: int) -> PageResult:
    """Fill a conversation with ``CONVERSATION_ITEMS`` items, then read its page ``PAGE`` of 20
    (ascending, after the cursor of page ``PAGE - 1``) from ``READERS`` clients at once."""
    connections = [await Connection.open(base_url) for _ in range(READERS)]
    first = connections[0]
    conversation = (await first.json(post("/v1/conversations", b"{}")))["id"]  # type: ignore[index]
    path = f"/v1/conversations/{conversation}/items"

    async def fill(connection: Connection, first: int) -> None:
        for start in range(first, CONVERSATION_ITEMS, 20 * READERS):
            items = [
                {"type": "message", "role": "user", "content": f"item {n}"}
                for n in range(start, start + 20)
            ]
            await connection.json(post(path, json.dumps({"items": items}).encode()))

    await asyncio.gather(*(fill(c, n * 20) for n, c in enumerate(connections)))
    cursor = await _cursor_before(first, path, (PAGE - 1) * 20)
    for connection in connections:  # fresh ones: those idle while the cursor was read
        await connection.close()
    connections = [await Connection.open(base_url) for _ in range(READERS)]
    request = get(path, f"limit=20&order=asc&after={cursor}")
    page = await connections[0].json(request)
    assert len(page["data"]) == 20  # type: ignore[index]
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    per_reader = await asyncio.gather(
        *(timed(c, [request] * READS_PER_READER) for c in connections)
    )
    seconds = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before
    for connection in connections:
        await connection.close()
    latencies = [value for each in per_reader for value in each]
    return PageResult(seconds=seconds, latencies=latencies, cpu_seconds=cpu)


async def _cursor_before(connection: Connection, path: str, position: int) -> str:
    """The id of the item at ``position`` (from 1), read 100 at a time from the start."""
    after = ""
    seen = 0
    while True:
        page: Any = await connection.json(get(path, f"limit=100&order=asc{after}"))
        data = page["data"]
        if seen + len(data) >= position:
            return str(data[position - seen - 1]["id"])
        seen += len(data)
        after = f"&after={data[-1]['id']}"


def _p(latencies: Sequence[float], share: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def compare_table(runs: Sequence[tuple[str, Any, PageResult]]) -> str:
    """Ours against the bare app, per store: appends, then the page read."""
    rows = []
    for name, appended, page in runs:
        reads = len(page.latencies)
        rows.append(
            [
                appended.store,
                name,
                appended.appends / appended.seconds,
                statistics.median(appended.latencies) * 1000,
                _p(appended.latencies, 0.99),
                appended.cpu_seconds / appended.appends * 1000,
                appended.lost + appended.duplicated + appended.out_of_order,
                reads / page.seconds,
                statistics.median(page.latencies) * 1000,
                _p(page.latencies, 0.99),
                page.cpu_seconds / reads * 1000,
            ]
        )
    header = ["store", "server", "appends/s", "p50 ms", "p99 ms", "CPU ms/append", "wrong"]
    header += [f"page {PAGE} reads/s", "p50 ms", "p99 ms", "CPU ms/read"]
    return table("ours against a bare Starlette app (same uvicorn settings)", header, rows)
