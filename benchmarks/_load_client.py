"""The load generator of the server benchmarks: lean HTTP/1.1 clients on asyncio streams.

A benchmark client must cost a small fraction of the server it measures, or on a 2-core
machine the clients, not the server, set the rate (httpx spent about as much CPU per request
as the server). Here each client holds one keep-alive connection, sends request bytes built
before the clock starts, and reads back only the status line, the ``Content-Length`` and the
body's bytes; the benchmark parses a body only where it checks one, after the timed part.

The appends can run in this process or spread over several (``run_appends`` with
``processes``): each child process is this module, given its share of the clients as JSON; it
connects, says it is ready, waits for the parent's go (so all start together), runs its
clients and prints one JSON line: its latencies, when it started and ended
(``time.perf_counter``, one clock for every process on Linux) and the CPU time it used.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

_READY = b"ready\n"


class Connection:
    """One keep-alive HTTP/1.1 connection answering one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        """A connection to ``base_url`` (``http://host:port``)."""
        parts = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        return cls(reader, writer)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send ``request`` (built by ``post`` or ``get``); the answer's status and body.

        Raises:
            RuntimeError: The answer has no ``Content-Length`` (a chunked body, say).
        """
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        start = head.lower().find(b"\r\ncontent-length:")
        if start < 0:
            raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
        end = head.index(b"\r\n", start + 2)
        body = await self.reader.readexactly(int(head[start + 17 : end]))
        return int(head[9:12]), body

    async def json(self, request: bytes) -> object:
        """``send``, the body decoded; an answer other than 200 raises ``RuntimeError``."""
        status, body = await self.send(request)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
        return json.loads(body)

    async def close(self) -> None:
        """Close the connection."""
        self.writer.close()
        await self.writer.wait_closed()


def post(path: str, body: bytes) -> bytes:
    """The bytes of a ``POST`` of the JSON ``body`` to ``path``."""
    head = f"POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
    return head.encode() + b"content-length: %d\r\n\r\n" % len(body) + body


def get(path: str, query: str = "") -> bytes:
    """The bytes of a ``GET`` of ``path`` with the ``query`` string (without its ``?``)."""
    target = f"{path}?{query}" if query else path
    return f"GET {target} HTTP/1.1\r\nhost: bench\r\n\r\n".encode()


def append_text(client: int, n: int) -> str:
    """The text of client ``client``'s ``n``-th append (the read-back check parses it)."""
    return f"c{client}-{n}"


def _append_requests(client: int, conversation: str, appends: int) -> list[bytes]:
    path = f"/v1/conversations/{conversation}/items"
    return [
        post(path, b'{"items":[{"type":"message","role":"user","content":"%s"}]}' % text)
        for text in (append_text(client, n).encode() for n in range(appends))
    ]


async def timed(connection: Connection, requests: Sequence[bytes]) -> list[float]:
    """Send ``requests`` one after the other; the latency of each (an answer other than 200
    raises ``RuntimeError``)."""
    latencies = []
    clock = time.perf_counter
    for request in requests:
        started = clock()
        status, body = await connection.send(request)
        latencies.append(clock() - started)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
    return latencies


@dataclass
class ClientRun:
    """What the clients saw: latencies per client, the span, and the clients' CPU time."""

    latencies: list[list[float]]
    seconds: float
    cpu_seconds: float


async def run_appends(
    base_url: str, conversations: list[str], clients: int, appends: int, processes: int = 1
) -> ClientRun:
    """``clients`` clients appending ``appends`` items each to ``conversations`` (client ``n``
    to conversation ``n % len(conversations)``), in this process or spread over
    ``processes`` processes.

    Raises:
        RuntimeError: A request or a client process failed.
    """
    plans = [
        [[n, conversations[n % len(conversations)]] for n in range(p, clients, processes)]
        for p in range(processes)
    ]
    if processes == 1:
        ready = await _prepare(base_url, plans[0], appends)
        return await _run(ready)
    return await _from_processes(base_url, plans, appends)


async def _prepare(
    base_url: str, plan: list[list[object]], appends: int
) -> list[tuple[Connection, list[bytes]]]:
    return [
        (await Connection.open(base_url), _append_requests(int(n), str(c), appends))  # type: ignore[call-overload]
        for n, c in plan
    ]


async def _run(ready: list[tuple[Connection, list[bytes]]]) -> ClientRun:
    cpu, started = time.process_time(), time.perf_counter()
    latencies = await asyncio.gather(*(timed(c, requests) for c, requests in ready))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    for connection, _ in ready:
        await connection.close()
    return ClientRun(latencies=list(latencies), seconds=seconds, cpu_seconds=cpu)


async def _from_processes(
    base_url: str, plans: list[list[list[object]]], appends: int
) -> ClientRun:
    children = []
    for plan in plans:
        argument = json.dumps({"base_url": base_url, "clients": plan, "appends": appends})
        children.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(Path(__file__)),
                argument,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        )
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
    )


async def _child(plan: dict[str, object]) -> None:
    ready = await _prepare(str(plan["base_url"]), plan["clients"], int(plan["appends"]))  # type: ignore[arg-type, call-overload]
    sys.stdout.buffer.write(_READY)
    sys.stdout.flush()
    await asyncio.to_thread(sys.stdin.readline)
    started = time.perf_counter()
    run = await _run(ready)
    report = {"latencies": run.latencies, "started": started, "ended": started + run.seconds}
    sys.stdout.write(json.dumps({**report, "cpu": run.cpu_seconds}) + "\n")


if __name__ == "__main__":
    asyncio.run(_child(json.loads(sys.argv[1])))
