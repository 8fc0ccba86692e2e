"""The HTTP server under concurrent clients on loopback, on SQLite, Redis and PostgreSQL.

For each store this starts ``llm-sessions serve`` in its own process on a free loopback port,
then ``--clients`` concurrent clients (default 50) each append ``--appends`` items (default 200)
with ``POST /v1/conversations/{id}/items``, spread over ``--conversations`` shared conversations
(default 10, so many clients write to the same session at once). It reports appends per second,
the p50 and p99 latency of one append, and then reads every conversation back page by page and
counts lost and duplicated items (both must be 0) and items out of their client's order.

Run from the repository root (Redis and PostgreSQL must answer; not part of the test run)::

    .venv/bin/python benchmarks/bench_server.py [--only sqlite|redis|postgres] [--workers 2]
        [--client-processes 2]   # the clients spread over processes (see _load_client)

The clients are ``_load_client``'s lean HTTP/1.1 connections, so that they cost a small
fraction of the server's CPU; the run prints the CPU seconds of the server (all its workers)
and of the clients.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from _bare_server_runs import PageResult, bare_serving, compare_table, read_page_100
from _common import machine, table
from _load_client import Connection, append_text, get, post, run_appends
from _private_stores import KINDS, private_store
from _processes import cpu_seconds, free_port, running


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


async def _read_back(connection: Connection, conversation: str) -> list[str]:
    texts: list[str] = []
    after = ""
    while True:
        query = f"limit=100&order=asc{after}"
        page = await connection.json(get(f"/v1/conversations/{conversation}/items", query))
        texts += [item["content"][0]["text"] for item in page["data"]]  # type: ignore[index]
        if not page["has_more"]:  # type: ignore[index]
            return texts
        after = f"&after={page['last_id']}"  # type: ignore[index]


async def new_conversation(connection: Connection) -> str:
    """A new conversation's id."""
    return str((await connection.json(post("/v1/conversations", b"{}")))["id"])  # type: ignore[index]


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
    connection = await Connection.open(base_url)
    ids = [await new_conversation(connection) for _ in range(conversations)]
    await connection.close()
    cpu_before = cpu_seconds(pid)
    run = await run_appends(base_url, ids, clients, appends, processes)
    cpu = cpu_seconds(pid) - cpu_before
    connection = await Connection.open(base_url)  # the first one idled past the keep-alive
    stored: list[str] = []
    order_broken = 0
    for conversation in ids:
        last: dict[str, int] = {}
        for text in await _read_back(connection, conversation):
            stored.append(text)
            client, n = text.split("-")
            order_broken += int(n) < last.get(client, -1)
            last[client] = int(n)
    await connection.close()
    expected = {append_text(n, i) for n in range(clients) for i in range(appends)}
    counts = Counter(stored)
    return Result(
        store=kind,
        appends=clients * appends,
        seconds=run.seconds,
        latencies=[value for latencies in run.latencies for value in latencies],
        lost=len(expected - set(counts)),
        duplicated=sum(count - 1 for count in counts.values() if count > 1),
        out_of_order=order_broken,
        cpu_seconds=cpu,
        client_cpu_seconds=run.cpu_seconds,
    )


async def measure(
    kind: str, clients: int, appends: int, conversations: int, workers: int, processes: int = 1
) -> Result:
    async with private_store(kind) as url:
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
        async with private_store(kind) as url:
            with _serving_process(url, 1, limits) as (base_url, pid):
                connection = await Connection.open(base_url)
                idle = await new_conversation(connection)
                await connection.close()
                writers = await _idle_tails(base_url, idle, count)
                result = await drive(base_url, pid, kind, clients, appends, conversations)
                for writer in writers:
                    writer.close()
        rows.append([f"{kind}, {count} idle tails", *result.row()[1:]])
    return rows


async def measure_both(
    kind: str, clients: int, appends: int, conversations: int, workers: int, processes: int = 1
) -> list[tuple[str, Result, PageResult]]:
    """Ours and the bare app's appends and page reads on ``kind``, one after the other."""
    runs = []
    sizes = (clients, appends, conversations, processes)
    async with private_store(kind) as url:
        with _serving_process(url, workers) as (base_url, pid):
            appended = await drive(base_url, pid, kind, *sizes)
            runs.append(("llm-sessions", appended, await read_page_100(base_url, pid)))
    async with bare_serving(kind, workers) as (base_url, pid):
        appended = await drive(base_url, pid, kind, *sizes)
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
    kinds = [options.only] if options.only else list(KINDS)
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
        both = [await measure_both(k, *sizes, options.client_processes) for k in kinds]
        runs = [run for runs_of_kind in both for run in runs_of_kind]
        print(compare_table(runs))
        for name, result, _ in runs:
            print(f"{name}, {_cores_used(result)}")
        return
    results = [await measure(kind, *sizes, options.client_processes) for kind in kinds]
    header = ["store", "appends", "appends/s", "p50 ms", "p99 ms", "CPU ms/append"]
    header += ["lost", "duplicated", "misordered"]
    print(table("llm-sessions serve: concurrent appends", header, [r.row() for r in results]))
    for result in results:
        print(_cores_used(result))


def _cores_used(result: Result) -> str:
    """Who used the cores during the appends: the server (all workers) and the clients."""
    busy = (result.cpu_seconds + result.client_cpu_seconds) / result.seconds
    return (
        f"{result.store}: {result.seconds:.2f} s, CPU s server {result.cpu_seconds:.2f}, "
        f"clients {result.client_cpu_seconds:.2f} (cores busy {busy:.2f}); "
        f"load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
