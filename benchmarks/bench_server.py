"""The HTTP server under concurrent clients on loopback, on SQLite, Redis and PostgreSQL.

For each store this starts ``llm-sessions serve`` in its own process on a free loopback port,
then ``--clients`` concurrent clients (default 50) each append ``--appends`` items (default 200)
with ``POST /v1/conversations/{id}/items``, spread over ``--conversations`` shared conversations
(default 10, so many clients write to the same session at once). It reports appends per second,
the p50 and p99 latency of one append, and then reads every conversation back page by page and
counts lost and duplicated items (both must be 0) and items out of their client's order.

Run from the repository root (Redis and PostgreSQL must answer; not part of the test run)::

    .venv/bin/python benchmarks/bench_server.py [--only sqlite|redis|postgres] [--workers 2]
        [--client-processes 2]   # the clients spread over processes (see _client_processes)
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
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import httpx
from _bare_server_runs import PageResult, bare_serving, compare_table, read_page_100
from _client_processes import append_from_processes
from _common import machine, table
from _processes import cpu_seconds, free_port, running

from llm_sessions.storage import open_store

REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
STARTUP_SECONDS = 60


@dataclass
class Result:
    store: str
    appends: int
    seconds: float
    latencies: list[float]
    lost: int
    duplicated: int
    out_of_order: int
    cpu_seconds: float
    client_cpu_seconds: float = 0.0

    def row(self) -> list[object]:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return [
            self.store,
            self.appends,
            self.appends / self.seconds,
            statistics.median(ordered) * 1000,
            p99 * 1000,
            self.cpu_seconds / self.appends * 1000,
            self.lost,
            self.duplicated,
            self.out_of_order,
        ]


@contextmanager
def serving(
    store_url: str,
    workers: int,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """``llm-sessions serve`` over ``store_url`` (with more ``args`` and ``env``); yields its
    base URL, stops it afterwards."""
    with _serving_process(store_url, workers, args, env) as (base_url, _):
        yield base_url


@contextmanager
def _serving_process(
    store_url: str,
    workers: int,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[tuple[str, int]]:
    """``serving``, yielding the server process's id too."""
    port = free_port()
    command = [sys.executable, "-m", "llm_sessions", "serve", "--store", store_url]
    command += ["--port", str(port), "--workers", str(workers), *args]
    with running(command, port, env) as started:
        yield started


@asynccontextmanager
async def store_url_for(kind: str) -> AsyncIterator[str]:
    """A store URL on data private to this run, removed afterwards."""
    token = uuid.uuid4().hex[:12]
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    if kind == "redis":
        url = f"{REDIS_URL}?key_prefix=bench-server-{token}:"
    else:
        url = f"{POSTGRES_URL}?schema=bench_server_{token}"
    try:
        yield url
    finally:
        cleaner = open_store(url)
        await cleaner.drop_all()  # type: ignore[attr-defined]
        await cleaner.close()


async def _client(
    http: httpx.AsyncClient, number: int, conversation: str, appends: int
) -> list[float]:
    latencies = []
    for n in range(appends):
        item = {"type": "message", "role": "user", "content": f"c{number}-{n}"}
        started = time.perf_counter()
        response = await http.post(
            f"/v1/conversations/{conversation}/items", json={"items": [item]}
        )
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
    return latencies


async def _read_back(http: httpx.AsyncClient, conversation: str) -> list[str]:
    texts: list[str] = []
    after = None
    while True:
        params = {"limit": 100, "order": "asc", **({"after": after} if after else {})}
        page = (await http.get(f"/v1/conversations/{conversation}/items", params=params)).json()
        texts += [item["content"][0]["text"] for item in page["data"]]
        if not page["has_more"]:
            return texts
        after = page["last_id"]


async def drive(
    base_url: str,
    pid: int,
    kind: str,
    clients: int,
    appends: int,
    conversations: int,
    processes: int = 1,
) -> Result:
    """The concurrent appends against the server at ``base_url`` (process ``pid``), checked."""
    # Idle connections are dropped well before the server's 5 s keep-alive timeout, so a
    # request never goes out on a connection the server is closing (no retries here: a
    # retried append could be counted twice).
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=1
    )
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as http:
        ids = [
            (await http.post("/v1/conversations", json={})).json()["id"]
            for _ in range(conversations)
        ]
        cpu_before, client_cpu = cpu_seconds(pid), time.process_time()
        started = time.perf_counter()
        if processes > 1:
            run = await append_from_processes(base_url, ids, clients, appends, processes)
            per_client, seconds, client_cpu = run.latencies, run.seconds, run.cpu_seconds
        else:
            per_client = await asyncio.gather(
                *(_client(http, n, ids[n % conversations], appends) for n in range(clients))
            )
            seconds = time.perf_counter() - started
            client_cpu = time.process_time() - client_cpu
        cpu = cpu_seconds(pid) - cpu_before
        stored = [text for conversation in ids for text in await _read_back(http, conversation)]
        order_broken = 0
        for conversation in ids:
            last: dict[str, int] = {}
            for text in await _read_back(http, conversation):
                client, n = text.split("-")
                order_broken += int(n) < last.get(client, -1)
                last[client] = int(n)
    expected = {f"c{n}-{i}" for n in range(clients) for i in range(appends)}
    counts = Counter(stored)
    return Result(
        store=kind,
        appends=clients * appends,
        seconds=seconds,
        latencies=[value for latencies in per_client for value in latencies],
        lost=len(expected - set(counts)),
        duplicated=sum(count - 1 for count in counts.values() if count > 1),
        out_of_order=order_broken,
        cpu_seconds=cpu,
        client_cpu_seconds=client_cpu,
    )


async def measure(
    kind: str, clients: int, appends: int, conversations: int, workers: int, processes: int = 1
) -> Result:
    async with store_url_for(kind) as url:
        with _serving_process(url, workers) as (base_url, pid):
            return await drive(base_url, pid, kind, clients, appends, conversations, processes)


async def _idle_tails(base_url: str, session_id: str, count: int) -> list[asyncio.StreamWriter]:
    """``count`` live tails of ``session_id`` that nothing is written to, on raw sockets."""
    host, port = base_url.removeprefix("http://").split(":")
    writers = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection(host, int(port))
        path = f"/v1/sessions/{session_id}/events/stream"
        writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        await reader.readuntil(b": tailing\n\n")
        writers.append(writer)
    return writers


async def measure_tails(
    kind: str, clients: int, appends: int, conversations: int, tails: int
) -> list[list[object]]:
    """Appends on one worker without, then with, ``tails`` idle live tails open."""
    rows = []
    limits = ["--max-tails", str(tails), "--max-tails-per-key", str(tails)]
    limits += ["--limit-concurrency", str(tails + 2 * clients)]
    for count in (0, tails):
        async with store_url_for(kind) as url:
            with _serving_process(url, 1, limits) as (base_url, pid):
                async with httpx.AsyncClient(base_url=base_url) as http:
                    idle = (await http.post("/v1/conversations", json={})).json()["id"]
                writers = await _idle_tails(base_url, idle, count)
                result = await drive(base_url, pid, kind, clients, appends, conversations)
                for writer in writers:
                    writer.close()
        rows.append([f"{kind}, {count} idle tails", *result.row()[1:]])
    return rows


async def measure_both(
    kind: str, clients: int, appends: int, conversations: int, workers: int
) -> list[tuple[str, Result, PageResult]]:
    """Ours and the bare app's appends and page reads on ``kind``, one after the other."""
    runs = []
    async with store_url_for(kind) as url:
        with _serving_process(url, workers) as (base_url, pid):
            appended = await drive(base_url, pid, kind, clients, appends, conversations)
            runs.append(("llm-sessions", appended, await read_page_100(base_url, pid)))
    async with bare_serving(kind, workers) as (base_url, pid):
        appended = await drive(base_url, pid, kind, clients, appends, conversations)
        runs.append(("bare", appended, await read_page_100(base_url, pid)))
    return runs


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["sqlite", "redis", "postgres"])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--appends", type=int, default=200, help="appends per client")
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument(
        "--baseline", action="store_true", help="also run a bare Starlette app doing the writes"
    )
    parser.add_argument(
        "--idle-tails", type=int, default=0, help="compare appends with this many idle tails"
    )
    parser.add_argument(
        "--client-processes", type=int, default=1, help="spread the clients over N processes"
    )
    options = parser.parse_args()
    kinds = [options.only] if options.only else ["sqlite", "redis", "postgres"]
    print(machine(), f"load average {os.getloadavg()[0]:.2f}")
    print(
        f"{options.clients} clients x {options.appends} appends over {options.conversations} "
        f"conversations, {options.workers} server worker(s), "
        f"{options.client_processes} loopback client process(es)"
    )
    sizes = (options.clients, options.appends, options.conversations, options.workers)
    if options.idle_tails:
        sizes3 = (options.clients, options.appends, options.conversations)
        rows = [r for k in kinds for r in await measure_tails(k, *sizes3, options.idle_tails)]
        header = ["store", "appends", "appends/s", "p50 ms", "p99 ms", "CPU ms/append"]
        header += ["lost", "duplicated", "misordered"]
        print(table("appends with idle tails", header, rows))
        print(f"load average {os.getloadavg()[0]:.2f}")
        return
    if options.baseline:
        runs = [run for kind in kinds for run in await measure_both(kind, *sizes)]
        print(compare_table(runs))
        print(f"load average {os.getloadavg()[0]:.2f}")
        return
    results = [await measure(kind, *sizes, options.client_processes) for kind in kinds]
    header = ["store", "appends", "appends/s", "p50 ms", "p99 ms", "CPU ms/append"]
    header += ["lost", "duplicated", "misordered"]
    print(table("llm-sessions serve: concurrent appends", header, [r.row() for r in results]))
    for result in results:  # who used the cores: the server (all workers) and the clients
        busy = (result.cpu_seconds + result.client_cpu_seconds) / result.seconds
        print(
            f"{result.store}: {result.seconds:.2f} s, CPU s server {result.cpu_seconds:.2f}, "
            f"clients {result.client_cpu_seconds:.2f} (cores busy {busy:.2f}); "
            f"load average {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
