"""What a typed load of our stored rows costs at least: the driver's read of the rows, and
validating them into bare pydantic models with our events' fields and none of our checks.

Each step is timed alone, best of ``repeat``, with the collector off (as ``timeit`` runs);
a typed load costs at least the read plus the bare models.
"""

from __future__ import annotations

import gc
import inspect
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic_core import from_json


class PlainUsage(BaseModel):
    """Our stored token usage's fields, with no checks of ours."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    model: str = ""
    estimated_cost_usd: float | None = None
    count_method: str = "reported"


class PlainEvent(BaseModel):
    """Our stored event's fields as a bare pydantic model: what any typed event costs."""

    id: str
    message: Any
    timestamp: datetime
    source: str = "llm"
    type: str = "message"
    metadata: dict[str, Any] = {}
    parent_event_id: str | None = None
    task_id: str | None = None
    token_usage: PlainUsage | None = None


async def _best_ms(step: Callable[[], Any], repeat: int, clock: Callable[[], float]) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.disable()
        try:
            start = clock()
            done = step()
            if inspect.isawaitable(done):
                await done
            best = min(best, clock() - start)
        finally:
            gc.enable()
    return best * 1000


async def _steps(
    read_name: str,
    read: Callable[[], Any],
    rows: list[Any],
    repeat: int,
    clock: Callable[[], float],
) -> list[list[Any]]:
    """The floor's steps over ``rows`` (text or bytes): [step, ms, rows, bytes/row] each."""
    joined: str | bytes = (
        b"[" + b",".join(rows) + b"]"
        if rows and isinstance(rows[0], bytes)
        else "[" + ",".join(rows) + "]"
    )
    plain = TypeAdapter(list[PlainEvent])
    steps: list[tuple[str, Callable[[], Any]]] = [
        (read_name, read),
        ("parse them as plain JSON (pydantic_core.from_json)", lambda: from_json(joined)),
        ("parse them into bare pydantic models", lambda: plain.validate_json(joined)),
    ]
    size = sum(len(row) for row in rows) // max(len(rows), 1)
    return [[name, await _best_ms(step, repeat, clock), len(rows), size] for name, step in steps]


async def sqlite_floor(
    path: str, session_id: str, repeat: int = 5, clock: Callable[[], float] = time.perf_counter
) -> list[list[Any]]:
    """The floor of a load of our SQLite rows (ms of ``clock``, best of ``repeat``)."""
    database = sqlite3.connect(path)

    def read() -> list[str]:
        sql = "SELECT body FROM events WHERE session_id = ? ORDER BY seq"
        return [body for (body,) in database.execute(sql, (session_id,))]

    try:
        return await _steps("read the rows (sqlite3)", read, read(), repeat, clock)
    finally:
        database.close()


async def redis_floor(
    url: str, key: str, repeat: int = 5, clock: Callable[[], float] = time.perf_counter
) -> list[list[Any]]:
    """The floor of a load of our Redis rows, the event list at ``key`` (ms of ``clock``,
    best of ``repeat``)."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)

    async def read() -> list[bytes]:
        rows: list[bytes] = await client.lrange(key, 0, -1)
        return rows

    try:
        rows = await read()
        return await _steps("read the rows (redis-py LRANGE)", read, rows, repeat, clock)
    finally:
        await client.aclose()
