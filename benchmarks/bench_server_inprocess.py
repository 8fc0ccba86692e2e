"""The server's own CPU per request, in process: the ASGI app called directly, no HTTP.

For each store this builds the app (``create_app``) over private data, creates 10
conversations and appends ``--appends`` single items round-robin through the app's ASGI
interface (what uvicorn calls after parsing a request), then fills one conversation with
10,000 items (``--filled``) and reads its page 100 of 20 (ascending, after page 99's cursor)
``--reads`` times. It reports the process's CPU time (``time.process_time``) per append and
per page read: the work that is the server's own, without uvicorn's HTTP parsing or the
client's.

``--profile`` prints the top of a cProfile of the appends instead (the event loop's thread).
``--source DIR`` (repeatable) runs the same against another checkout's ``src``: a fresh
interpreter per store and source, alternating, so all see the same machine load, to compare
versions in one run (the table shows the best of ``--rounds``)::

    .venv/bin/python benchmarks/bench_server_inprocess.py [--only sqlite] [--source /tmp/old/src]

Not part of the test run; Redis and PostgreSQL must answer.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _common import machine, table
from _private_stores import KINDS, private_store

PAGE = 100

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def call(app: App, method: str, path: str, body: bytes = b"", query: str = "") -> Any:
    """One request through the ASGI interface; the decoded JSON answer (status 200 only)."""
    headers = [(b"host", b"bench"), (b"user-agent", b"bench")]
    if body:
        headers += [(b"content-type", b"application/json")]
        headers += [(b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # a disconnect that never comes
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = sent[0]["status"]
    payload = b"".join(m.get("body", b"") for m in sent[1:])
    if status != 200:
        raise RuntimeError(f"{method} {path}: {status} {payload[:300]!r}")
    return json.loads(payload)


async def run_one(
    kind: str, appends: int, reads: int, profile: bool, filled: int = 10_000
) -> dict[str, Any]:
    """CPU ms per append and per page read on ``kind`` (or the appends' profile)."""
    from llm_sessions.server import create_app

    async with private_store(kind, "bench-inproc") as url:
        app = create_app(url)
        async with app.router.lifespan_context(app):
            ids = [(await call(app, "POST", "/v1/conversations", b"{}"))["id"] for _ in range(10)]
            bodies = [
                json.dumps({"items": [{"type": "message", "role": "user", "content": f"c-{n}"}]})
                for n in range(appends)
            ]
            paths = [f"/v1/conversations/{ids[n % 10]}/items" for n in range(appends)]
            for n in range(20):  # warm up: imports, prepared statements, caches
                await call(app, "POST", paths[n], bodies[n].encode())
            profiler = cProfile.Profile(time.thread_time) if profile else None
            started = time.process_time()
            if profiler is not None:
                profiler.enable()
            for path, body in zip(paths, bodies, strict=True):
                await call(app, "POST", path, body.encode())
            if profiler is not None:
                profiler.disable()
                stats = pstats.Stats(profiler).sort_stats("cumulative")
                stats.print_stats(45)
                stats.sort_stats("tottime").print_stats(30)
                return {}
            append_ms = (time.process_time() - started) / appends * 1000
            read_ms = await _page_reads(app, ids[0], reads, filled) if reads else None
    return {"kind": kind, "append_ms": append_ms, "read_ms": read_ms}


async def _page_reads(app: App, conversation: str, reads: int, filled: int) -> float:
    path = f"/v1/conversations/{conversation}/items"
    items = [{"type": "message", "role": "user", "content": f"item {n}"} for n in range(20)]
    for _ in range(filled // 20):
        await call(app, "POST", path, json.dumps({"items": items}).encode())
    after = None
    for _ in range((PAGE - 1) * 20 // 100):
        query = "limit=100&order=asc" + (f"&after={after}" if after else "")
        after = (await call(app, "GET", path, query=query))["last_id"]
    query = f"limit=20&order=asc&after={after}"
    for _ in range(20):
        await call(app, "GET", path, query=query)
    started = time.process_time()
    for _ in range(reads):
        page = await call(app, "GET", path, query=query)
    assert len(page["data"]) == 20
    return (time.process_time() - started) / reads * 1000


def in_fresh_interpreter(kind: str, source: str | None, options: argparse.Namespace) -> Any:
    """``run_one`` in a child interpreter importing ``llm_sessions`` from ``source``."""
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = os.pathsep.join([source, env.get("PYTHONPATH", "")])
    command = [sys.executable, __file__, "--child", kind]
    command += ["--appends", str(options.appends), "--reads", str(options.reads)]
    command += ["--filled", str(options.filled)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=KINDS)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per store and source")
    parser.add_argument("--profile", action="store_true", help="cProfile the appends")
    parser.add_argument(
        "--source", action="append", default=[], help="another checkout's src, to compare with"
    )
    parser.add_argument("--filled", type=int, default=10_000, help="items before the page read")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    options = parser.parse_args()
    kinds = [options.only] if options.only else list(KINDS)
    if options.child:
        found = run_one(options.child, options.appends, options.reads, False, options.filled)
        result = asyncio.run(found)
        print(json.dumps(result))
        return
    if options.profile:
        for kind in kinds:
            asyncio.run(run_one(kind, options.appends, options.reads, True))
        return
    print(machine(), f"load average {os.getloadavg()[0]:.2f}")
    sources: list[tuple[str, str | None]] = [(each, each) for each in options.source]
    sources.append(("this checkout", None))
    rows = []
    for kind in kinds:
        found: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sources}
        for _ in range(options.rounds):
            for name, source in sources:
                found[name].append(in_fresh_interpreter(kind, source, options))
        for name, _ in sources:
            best_append = min(r["append_ms"] for r in found[name])
            best_read = min(r["read_ms"] for r in found[name])
            rows.append([kind, name, best_append, best_read])
    header = ["store", "source", "CPU ms/append (best)", "CPU ms/page read (best)"]
    print(table(f"in-process CPU per request, best of {options.rounds}", header, rows))
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
