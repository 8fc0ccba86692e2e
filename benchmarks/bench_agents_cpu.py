"""Our Agents SDK session beside openai-agents' sessions, and our typed load beside its floor,
in CPU time beside wall time, from one run.

    pip install -r benchmarks/requirements-baselines.txt   # openai-agents
    python benchmarks/bench_agents_cpu.py [--items 10000] [--appends 300] [--no-redis]

On a machine shared with other work, wall times grow with the load while CPU time (of the
whole process: the event loop's thread and the stores' threads) does not; the ratios of ours
to theirs are taken from the same run. Measured: ``add_items`` of one item on a session of ~40
items (CPU per call, median wall), ``get_items()`` of ``--items`` items on a fresh session
object and store (best of 7, each), and ``store.get`` of a session of ``--items`` events from a
fresh store beside the floor ``bench_baselines.py`` prints (reading the rows plus bare pydantic
models of the same fields, best of 5 with the collector off).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table
from _load_floor import redis_floor, sqlite_floor

from llm_sessions import SessionManager
from llm_sessions.integrations.openai_agents import LLMSessionsSession
from llm_sessions.storage import open_store
from llm_sessions.tokens import count_text

TEXT = "How do I compute the area of a circle of radius {i} cm? Please show the formula."
LOADS = 7


def _item(i: int) -> dict[str, str]:
    return {"role": "assistant" if i % 2 else "user", "content": TEXT.format(i=i)}


async def _appends(session: Any, appends: int) -> tuple[float, float]:
    """CPU ms per ``add_items`` of one item after 40, and the median wall ms."""
    for i in range(40):
        await session.add_items([_item(i)])
    walls = []
    cpu = time.process_time()
    for i in range(40, 40 + appends):
        start = time.perf_counter()
        await session.add_items([_item(i)])
        walls.append(time.perf_counter() - start)
    return (time.process_time() - cpu) / appends * 1000, statistics.median(walls) * 1000


async def _best(step: Callable[[], Awaitable[int]], expected: int) -> tuple[float, float]:
    """Best CPU ms and best wall ms of ``LOADS`` runs of ``step``."""
    cpus, walls = [], []
    for _ in range(LOADS):
        cpu, start = time.process_time(), time.perf_counter()
        found = await step()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        assert found == expected, (found, expected)
    return min(cpus) * 1000, min(walls) * 1000


class Sides:
    """Our session and theirs on one store, made from ids."""

    def __init__(self, label: str, ours_url: str, theirs: Callable[[str], Any]) -> None:
        self.label, self.ours_url, self.theirs = label, ours_url, theirs
        self.store = open_store(ours_url)

    def ours(self, session_id: str, store: Any = None) -> LLMSessionsSession:
        return LLMSessionsSession(session_id, store=store or self.store)

    async def fresh_ours(self, session_id: str) -> int:
        fresh = open_store(self.ours_url)
        try:
            return len(await self.ours(session_id, fresh).get_items())
        finally:
            await fresh.close()

    async def fresh_theirs(self, session_id: str) -> int:
        session = self.theirs(session_id)
        try:
            return len(await session.get_items())
        finally:
            closed = session.close()  # SQLiteSession's is plain, RedisSession's a coroutine
            if inspect.isawaitable(closed):
                await closed


async def agents_rows(sides: Sides, items: int, appends: int) -> list[list[Any]]:
    """The rows of one store: appends, then get_items() of ``items`` items."""
    ours, theirs = sides.ours(uuid.uuid4().hex), sides.theirs(uuid.uuid4().hex)
    ours_add, theirs_add = await _appends(ours, appends), await _appends(theirs, appends)
    big = uuid.uuid4().hex
    batch = [_item(i) for i in range(items)]
    writer = sides.ours(big)
    for start in range(0, items, 500):
        await writer.add_items(batch[start : start + 500])
    await sides.theirs(big).add_items(batch)
    ours_get = await _best(lambda: sides.fresh_ours(big), items)
    theirs_get = await _best(lambda: sides.fresh_theirs(big), items)
    return [
        [sides.label, "add_items at ~40 (CPU ms/call, median wall ms)", *ours_add, *theirs_add],
        [
            sides.label,
            f"get_items() of {items:,} (best CPU ms, best wall ms)",
            *ours_get,
            *theirs_get,
        ],
    ]


async def typed_row(label: str, url: str, items: int, floor: Any) -> list[Any]:
    """Our ``store.get`` of ``items`` events from a fresh store beside the floor."""
    store = open_store(url)
    manager = SessionManager(store=store)
    for i in range(items):
        if i % 2:
            await manager.ai_responds(TEXT.format(i=i), model="gpt-4o-mini")
        else:
            await manager.user_says(TEXT.format(i=i))

    async def load() -> int:
        fresh = open_store(url)
        try:
            session = await fresh.get(manager.session_id)
            return len(session.events) if session else 0
        finally:
            await fresh.close()

    cpu, wall = await _best(load, items)
    least = _least(await floor(manager.session_id, time.process_time))
    least_wall = _least(await floor(manager.session_id, time.perf_counter))
    if hasattr(store, "drop_all"):
        await store.drop_all()
    await store.close()
    return [label, cpu, least, cpu / least, wall, least_wall, wall / least_wall]


def _least(steps: list[list[Any]]) -> float:
    """A typed load's floor: reading the rows plus the bare models."""
    return float(steps[0][1] + steps[-1][1])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--no-redis", action="store_true")
    args = parser.parse_args()
    from agents.memory import SQLiteSession

    count_text("warm up", "gpt-4o-mini")
    print(f"machine: {machine()}")
    rows, typed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = Sides(
            "SQLite", f"sqlite:///{tmp}/ours.db", lambda s: SQLiteSession(s, f"{tmp}/theirs.db")
        )
        rows += await agents_rows(sqlite, args.items, args.appends)
        await sqlite.store.close()
        path = f"{tmp}/typed.db"
        typed.append(
            await typed_row(
                "SQLite",
                f"sqlite:///{path}",
                args.items,
                lambda sid, clock: sqlite_floor(path, sid, clock=clock),
            )
        )
    if not args.no_redis:
        rows += await _redis_rows(args)
        prefix = f"bench-{uuid.uuid4().hex[:8]}:"

        async def floor(sid: str, clock: Callable[[], float]) -> Any:
            key = f"{prefix}{{{sid}}}:events"
            return await redis_floor(args.redis_url, key, clock=clock)

        typed.append(
            await typed_row("Redis", f"{args.redis_url}?key_prefix={prefix}", args.items, floor)
        )
    print(
        table(
            "\nAgents SDK sessions, ours beside openai-agents'",
            ["store", "what", "ours CPU", "ours wall", "theirs CPU", "theirs wall"],
            rows,
        )
    )
    ratios = [[r[0], r[1].split(" (")[0], r[2] / r[4], r[3] / r[5]] for r in rows]
    print(table("\nours / theirs", ["store", "what", "CPU", "wall"], ratios))
    print(
        table(
            f"\ntyped load of {args.items:,} events (store.get) beside the floor (ms)",
            ["store", "CPU", "floor CPU", "ratio", "wall", "floor wall", "ratio"],
            typed,
        )
    )


async def _redis_rows(args: argparse.Namespace) -> list[list[Any]]:
    from agents.extensions.memory.redis_session import RedisSession

    theirs_prefix = f"bench-{uuid.uuid4().hex[:8]}"
    made: set[str] = set()

    def theirs(session_id: str) -> Any:
        made.add(session_id)
        return RedisSession.from_url(session_id, url=args.redis_url, key_prefix=theirs_prefix)

    url = f"{args.redis_url}?key_prefix=bench-{uuid.uuid4().hex[:8]}:"
    sides = Sides("Redis", url, theirs)
    try:
        return await agents_rows(sides, args.items, args.appends)
    finally:
        for session_id in sorted(made):
            session = theirs(session_id)
            await session.clear_session()
            await session.close()
        await sides.store.drop_all()  # type: ignore[attr-defined]
        await sides.store.close()


if __name__ == "__main__":
    asyncio.run(main())
