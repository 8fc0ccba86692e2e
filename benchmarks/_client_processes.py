"""Appends to the server from several client processes, so that one client process's CPU does
not set the rate a multi-worker server is measured at.

The parent starts ``processes`` copies of this module, each with its share of the clients and
their conversations. Each child opens its connections, says it is ready, waits for the parent's
go (so all start together), runs its clients and prints what it saw as one JSON line: the
latencies of its appends, when it started and ended (``time.perf_counter``, one clock for every
process on Linux) and the CPU time it used. The rate is all appends over the span from the
first start to the last end.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

_READY = b"ready\n"


@dataclass
class ClientRun:
    """What the client processes saw: latencies per client, the span, and their CPU time."""

    latencies: list[list[float]]
    seconds: float
    cpu_seconds: float
    processes: int


async def append_from_processes(
    base_url: str, conversations: list[str], clients: int, appends: int, processes: int
) -> ClientRun:
    """``clients`` clients appending ``appends`` items each to ``conversations`` (client ``n``
    to conversation ``n % len(conversations)``), spread over ``processes`` processes.

    Raises:
        RuntimeError: A client process failed.
    """
    shares = [list(range(p, clients, processes)) for p in range(processes)]
    children = []
    for share in shares:
        plan = {
            "base_url": base_url,
            "clients": [[n, conversations[n % len(conversations)]] for n in share],
            "appends": appends,
        }
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__)),
            json.dumps(plan),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        children.append(child)
    for child in children:
        if await child.stdout.readline() != _READY:  # type: ignore[union-attr]
            raise RuntimeError("a client process did not start")
    for child in children:
        child.stdin.write(b"go\n")  # type: ignore[union-attr]
        await child.stdin.drain()  # type: ignore[union-attr]
    reports = []
    for child in children:
        output, _ = await child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"a client process failed (exit {child.returncode})")
        reports.append(json.loads(output))
    return ClientRun(
        latencies=[latencies for report in reports for latencies in report["latencies"]],
        seconds=max(r["ended"] for r in reports) - min(r["started"] for r in reports),
        cpu_seconds=sum(report["cpu"] for report in reports),
        processes=processes,
    )


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


async def _child(plan: dict[str, object]) -> None:
    clients: list[list[object]] = plan["clients"]  # type: ignore[assignment]
    count = max(len(clients), 1)
    limits = httpx.Limits(
        max_connections=count, max_keepalive_connections=count, keepalive_expiry=1
    )
    base_url, appends = str(plan["base_url"]), int(plan["appends"])  # type: ignore[call-overload]
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as http:
        (await http.get("/healthz")).raise_for_status()
        sys.stdout.buffer.write(_READY)
        sys.stdout.flush()
        await asyncio.to_thread(sys.stdin.readline)
        cpu, started = time.process_time(), time.perf_counter()
        latencies = await asyncio.gather(
            *(_client(http, int(n), str(conversation), appends) for n, conversation in clients)  # type: ignore[call-overload]
        )
        ended = time.perf_counter()
        cpu = time.process_time() - cpu
    report = {"latencies": latencies, "started": started, "ended": ended, "cpu": cpu}
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    asyncio.run(_child(json.loads(sys.argv[1])))
