"""The server under abuse: what its limits hold, measured on one real server process.

Starts ``llm-sessions serve`` over a fresh SQLite file with two tenants and short timeouts, then
reports, in one run:

1. RSS of the server while ``--tails`` (default 50) clients hold live tails on a session of
   1 MB events without reading them, and after the write timeout has dropped them;
2. the size of ``/metrics`` (and the time to build it) after ``--odd-methods`` (default 3,000)
   requests with made-up methods;
3. ``--slow`` (default 90) connections that send half a request: how many the server closed and
   how long after they opened;
4. another tenant's latency (p50, p99 of ``GET /v1/sessions/{id}``) alone, then while one tenant
   sends 3.9 MB appends with ``model=`` and ``/prompt`` with a budget, then while it sends the
   same sizes with nothing to count (what the size alone costs: parsing, storing, answering).

Run from the repository root (a few minutes; not part of the test run)::

    .venv/bin/python benchmarks/bench_server_abuse.py [--tails 50] [--odd-methods 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from _common import machine, table
from bench_server import serving

KEY_HEAVY = "bench-heavy-key-0123456789"
KEY_LIGHT = "bench-light-key-0123456789"
TIMEOUT_FLAGS = ["--header-timeout", "2", "--body-timeout", "2", "--write-timeout", "3"]


@contextmanager
def serving_abuse(folder: str, tails: int) -> Iterator[tuple[str, int]]:
    """The server with short timeouts and room for ``tails`` tails; yields its URL and pid."""
    args = [*TIMEOUT_FLAGS, "--max-tails-per-key", str(tails), "--max-tails", str(tails)]
    env = {"LLM_SESSIONS_API_KEYS": f"{KEY_HEAVY}=heavy,{KEY_LIGHT}=light"}
    with serving(f"sqlite:///{folder}/bench.db", 1, args, env) as base_url:
        yield base_url, _pid_listening(int(base_url.rsplit(":", 1)[1]))


def _pid_listening(port: int) -> int:
    """The pid of the ``llm-sessions serve`` process started with ``--port port``."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                arguments = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in arguments and str(port).encode() in arguments:
                return int(entry.name)
    raise RuntimeError(f"no server process on port {port}")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _live_tails(http: httpx.Client) -> int:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("llm_sessions_live_tails "):
            return int(line.split()[1])
    raise RuntimeError("no llm_sessions_live_tails")


def _client(base_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def stalled_tails(base_url: str, pid: int, tails: int) -> list[list[object]]:
    """RSS before, during and after ``tails`` stalled tails on a session of 1 MB events."""
    with _client(base_url, KEY_HEAVY) as http:
        session = http.post("/v1/sessions", json={}).json()["id"]
        first = None
        for number in range(12):
            item = {"message": f"{number}" + "x" * 1_000_000, "source": "user"}
            written = http.post(f"/v1/sessions/{session}/events", json={"events": [item]})
            first = first or written.json()["first_id"]
        start = _rss_mb(pid)
        request = (
            f"GET /v1/sessions/{session}/events/stream?after={first} HTTP/1.1\r\n"
            f"Host: bench\r\nAuthorization: Bearer {KEY_HEAVY}\r\n\r\n"
        ).encode()
        port = int(base_url.rsplit(":", 1)[1])
        with ExitStack() as stack:
            for _ in range(tails):
                sock = stack.enter_context(socket.socket())
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.connect(("127.0.0.1", port))
                sock.sendall(request)
            peak, held = start, 0
            opened = time.perf_counter()
            while True:
                peak = max(peak, _rss_mb(pid))
                live = _live_tails(http)
                held = max(held, live)
                if live == 0 and held > 0:
                    break
                time.sleep(0.05)
            dropped_after = time.perf_counter() - opened
        end = _rss_mb(pid)
    return [[tails, held, start, peak, end, dropped_after]]


def odd_methods(base_url: str, count: int) -> list[list[object]]:
    """``/metrics`` size and build time after ``count`` requests with made-up methods."""
    with _client(base_url, KEY_LIGHT) as http:
        for number in range(count):
            http.request(f"M{number:05d}", "/v1/sessions")
        started = time.perf_counter()
        text = http.get("/metrics").text
        elapsed = time.perf_counter() - started
    return [[count, len(text.encode()), elapsed * 1000]]


def slow_connections(base_url: str, count: int) -> list[list[object]]:
    """How many of ``count`` half-sent requests the server closed, and after how long."""
    port = int(base_url.rsplit(":", 1)[1])
    closed_after: list[float] = []
    with ExitStack() as stack:
        sockets = []
        for number in range(count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=60))
            start = b"GET /healthz HTTP/1.1\r\nHost: b\r\n" if number % 2 else b"POST /v1/s"
            sock.sendall(start)
            sockets.append((sock, time.perf_counter()))
        for sock, opened in sockets:
            try:
                while sock.recv(4096):
                    pass
            except (ConnectionResetError, TimeoutError):
                pass
            closed_after.append(time.perf_counter() - opened)
    return [[count, len(closed_after), statistics.median(closed_after), max(closed_after)]]


async def _light_load(base_url: str, clients: int, requests: int) -> list[float]:
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {KEY_LIGHT}"}, timeout=60
    ) as http:
        session = (await http.post("/v1/sessions", json={})).json()["id"]

        async def one_client() -> list[float]:
            latencies = []
            for _ in range(requests):
                started = time.perf_counter()
                (await http.get(f"/v1/sessions/{session}")).raise_for_status()
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.01)
            return latencies

        results = await asyncio.gather(*(one_client() for _ in range(clients)))
    return [latency for result in results for latency in result]


async def _heavy_load(base_url: str, counted: bool) -> dict[str, int]:
    """One tenant's heavy requests, until SIGTERM (run in its own process, so that its 3.9 MB
    bodies do not slow the measuring client); without ``counted``, the same sizes with no
    ``model=`` and no budget, so that nothing is counted (the cost of the size alone)."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    text = " ".join(f"w{n % 5000}" for n in range(700_000))[:3_900_000]
    counts = {"appends": 0, "prompts": 0}
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {KEY_HEAVY}"}, timeout=120
    ) as http:
        while not stop.is_set():
            # A session each round: the cost measured is the request's, not a growing session's.
            session = (await http.post("/v1/sessions", json={})).json()["id"]
            item = {"message": f"{counts['appends']} {text}", "source": "user"}
            item.update({"model": "gpt-4o"} if counted else {})
            appended = await http.post(f"/v1/sessions/{session}/events", json={"events": [item]})
            appended.raise_for_status()
            counts["appends"] += 1
            budget = {"max_tokens": 2_000_000} if counted else {}
            prompt = await http.get(f"/v1/sessions/{session}/prompt", params=budget)
            prompt.raise_for_status()
            counts["prompts"] += 1
    return counts


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


async def _loaded(
    base_url: str, clients: int, requests: int, counted: bool
) -> tuple[tuple[float, float], str]:
    """Another tenant's p50 and p99 while the heavy tenant runs, and what that one sent."""
    command = [__file__, "--heavy-tenant", base_url, *([] if counted else ["--uncounted"])]
    heavy = await asyncio.create_subprocess_exec(
        sys.executable, *command, stdout=asyncio.subprocess.PIPE
    )
    await asyncio.sleep(1.0)  # the first heavy requests are under way
    loaded = _percentiles(await _light_load(base_url, clients, requests))
    heavy.terminate()
    return loaded, (await heavy.communicate())[0].decode().strip()


async def other_tenants(base_url: str, clients: int, requests: int) -> list[list[object]]:
    """Another tenant's p50 and p99 alone, under one tenant's heavy requests, and under the
    same sizes with nothing to count."""
    alone = _percentiles(await _light_load(base_url, clients, requests))
    rows: list[list[object]] = [["alone", "-", *alone, 1.0]]
    for label, counted in (("with heavy tenant", True), ("same sizes, uncounted", False)):
        loaded, sent = await _loaded(base_url, clients, requests, counted)
        rows.append([label, sent, *loaded, loaded[1] / alone[1]])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tails", type=int, default=50)
    parser.add_argument("--odd-methods", type=int, default=3000)
    parser.add_argument("--slow", type=int, default=90)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--only", choices=["tails", "metrics", "slow", "tenants"])
    parser.add_argument("--heavy-tenant", help=argparse.SUPPRESS)
    parser.add_argument("--uncounted", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.heavy_tenant:
        counts = asyncio.run(_heavy_load(options.heavy_tenant, not options.uncounted))
        print(f"{counts['appends']} appends, {counts['prompts']} prompts")
        return
    print(machine())
    print(f"server flags: {' '.join(TIMEOUT_FLAGS)}")
    with (
        tempfile.TemporaryDirectory() as folder,
        serving_abuse(folder, options.tails) as (url, pid),
    ):
        if options.only in (None, "tails"):
            rows = stalled_tails(url, pid, options.tails)
            header = ["tails", "held", "RSS start MB", "RSS peak MB", "RSS after MB", "dropped s"]
            print(table("Stalled live tails on 1 MB events", header, rows), "\n")
        if options.only in (None, "metrics"):
            rows = odd_methods(url, options.odd_methods)
            header = ["odd methods", "/metrics bytes", "/metrics ms"]
            print(table("/metrics after made-up methods", header, rows), "\n")
        if options.only in (None, "slow"):
            rows = slow_connections(url, options.slow)
            header = ["connections", "closed", "median s", "max s"]
            print(table("Half-sent requests (header timeout 2 s)", header, rows), "\n")
        if options.only in (None, "tenants"):
            rows = asyncio.run(other_tenants(url, options.clients, options.requests))
            header = ["other tenant", "heavy tenant sent", "p50 ms", "p99 ms", "p99 / alone"]
            print(table("Another tenant's GET latency", header, rows))


if __name__ == "__main__":
    main()
