"""Idle live tails: what they hold is given back when their clients go, and they sleep.

A real uvicorn server in this test's event loop (so its connections and tasks can be counted)
serves idle tails from raw sockets; once the clients close them, the connections, the request
tasks, the tail slots and the waiting tails return to what they were before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from server_helpers import free_port

from llm_sessions.server import create_app
from llm_sessions.server.connection_limits import PROTOCOL
from llm_sessions.server.state import ServerState
from llm_sessions.server.tail_limits import TailLimits
from llm_sessions.server.tail_wakeups import TailWakeups

TAILS = 100
CHECKS = 3000
"""Checks of a condition (0.01 s apart) before a test gives up waiting for it."""


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(CHECKS):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


@asynccontextmanager
async def _serving(tmp_path: Path) -> AsyncIterator[tuple[uvicorn.Server, ServerState, int]]:
    limits = TailLimits(max_per_key=TAILS, max_total=TAILS)
    app = create_app(f"sqlite:///{tmp_path}/tails.db", tail_limits=limits)
    state: ServerState = app.state.llm_sessions
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=PROTOCOL, log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        await _until(lambda: server.started, "the server started")
        yield server, state, port
    finally:
        server.should_exit = True
        await serving


async def _open_tail(port: int, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b": tailing\n\n")
    assert head.startswith(b"HTTP/1.1 200")
    return reader, writer


async def test_idle_tails_give_back_their_connections_tasks_and_slots(tmp_path: Path) -> None:
    async with _serving(tmp_path) as (server, state, port):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            conversation = (await http.post("/v1/conversations", json={})).json()["id"]
        await _until(lambda: not server.server_state.connections, "the client's connection closed")
        tasks_before = len(asyncio.all_tasks())
        path = f"/v1/sessions/{conversation}/events/stream"
        tails = [await _open_tail(port, path) for _ in range(TAILS)]
        assert len(server.server_state.connections) == TAILS
        assert state.tails.total == TAILS
        assert state.metrics.live_tails == TAILS
        assert len(asyncio.all_tasks()) > tasks_before
        await _until(lambda: state.wakeups.waiting == TAILS, "every tail waits")
        for _, writer in tails:
            writer.close()
            await writer.wait_closed()
        await _until(lambda: not server.server_state.connections, "the tails' connections closed")
        await _until(lambda: state.tails.total == 0, "the tail slots were given back")
        await _until(lambda: len(asyncio.all_tasks()) <= tasks_before, "the tails' tasks ended")
        assert state.metrics.live_tails == 0
        assert state.wakeups.waiting == 0
        assert not server.server_state.tasks


async def test_a_wait_ends_at_its_time_or_at_a_notice_and_leaves_nothing() -> None:
    wakeups = TailWakeups()
    timed = asyncio.create_task(wakeups.wait("s", 0.01))
    woken = asyncio.create_task(wakeups.wait("t", 3600))
    await _until(lambda: wakeups.waiting == 2 or timed.done(), "both wait")
    wakeups.notify("t")
    await asyncio.wait_for(asyncio.gather(timed, woken), timeout=30)
    assert wakeups.waiting == 0
    wakeups.notify("nobody")  # no tail: nothing to wake
    assert wakeups.waiting == 0
