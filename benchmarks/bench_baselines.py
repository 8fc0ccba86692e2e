"""llm-sessions beside the session layers people compare it with, measured in one run.

    pip install -r benchmarks/requirements-baselines.txt   # openai-agents, google-adk[db]
    python benchmarks/bench_baselines.py [--redis-url redis://127.0.0.1:6379/15]
    python benchmarks/bench_baselines.py --no-redis --only "database,(adk)"  # ADK's and ours

The same four workloads for each system on the same store: one append when the session holds ~40
items and 10,000 items (median), a 2,000-turn conversation (4,000 appends, total), and loading a
10,000-item session from a fresh store object (best of 3). Our appends count tokens with the real
tokenizer and price them; the others store the text only. A system that is not installed is
skipped. Our Agents SDK session (``LLMSessionsSession``) runs openai-agents' own workload
(``add_items`` of one item, ``get_items()`` on a fresh session object) on SQLite and Redis.
ADK's ``DatabaseSessionService`` (sqlite+aiosqlite) and our ADK service on SQLite run the same
ADK events through ``append_event``, and load with ``get_session`` on a fresh service object.
After the table: what the parts of a load of our SQLite and Redis rows take at best, down to
validating them into bare pydantic models with our events' fields and none of our checks, and
the ratios of ours to the others and to that floor, from this run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table
from _load_floor import redis_floor, sqlite_floor

from llm_sessions import SessionManager
from llm_sessions.storage import open_store
from llm_sessions.tokens import count_text

TEXT = "How do I compute the area of a circle of radius {i} cm? Please show the formula."
Append = Callable[[int], Awaitable[None]]
ADK_OURS = "llm-sessions LLMSessionsSessionService (ADK)"
ADK_DATABASE = "google-adk DatabaseSessionService"
AGENTS_OURS = "llm-sessions LLMSessionsSession (Agents SDK)"
LOADS = 3


class System(ABC):
    """One session layer on one store: how to append an item and how to load a session."""

    name = ""

    @abstractmethod
    async def new_session(self) -> Append:
        """Start a session; return a function that appends item ``i`` to it."""

    @abstractmethod
    async def load(self) -> int:
        """Load the last session from a fresh store object; return the item count."""

    async def close(self) -> None:
        return None


class Ours(System):
    def __init__(self, label: str, url: str) -> None:
        self.name = f"llm-sessions ({label})"
        self.url = url
        self.store = open_store(url)
        self.session_id = ""
        self.key_prefix = getattr(self.store, "key_prefix", "")

    async def new_session(self) -> Append:
        manager = SessionManager(store=self.store)
        self.session_id = manager.session_id

        async def append(i: int) -> None:
            if i % 2:
                await manager.ai_responds(TEXT.format(i=i), model="gpt-4o-mini")
            else:
                await manager.user_says(TEXT.format(i=i))

        return append

    async def load(self) -> int:
        if self.url.startswith("memory"):  # one process's memory: there is no "fresh" store
            session = await self.store.get(self.session_id)
            return len(session.events) if session else 0
        fresh = open_store(self.url)
        session = await fresh.get(self.session_id)
        await fresh.close()
        return len(session.events) if session else 0

    async def close(self) -> None:
        await _drop(self.store)


async def _drop(store: Any) -> None:
    """Close ``store``, removing first what the benchmark wrote to a server."""
    if hasattr(store, "drop_all"):
        await store.drop_all()
    await store.close()


class OursAgents(System):
    """Our Agents SDK session on one of our stores, run as openai-agents' sessions are."""

    def __init__(self, label: str, url: str) -> None:
        from llm_sessions.integrations.openai_agents import LLMSessionsSession

        self.name = f"{AGENTS_OURS}, {label}"
        self.cls = LLMSessionsSession
        self.url = url
        self.store = open_store(url)
        self.session_id = ""

    async def new_session(self) -> Append:
        self.session_id = uuid.uuid4().hex
        session = self.cls(self.session_id, store=self.store)

        async def append(i: int) -> None:
            role = "assistant" if i % 2 else "user"
            await session.add_items([{"role": role, "content": TEXT.format(i=i)}])

        return append

    async def load(self) -> int:
        fresh = open_store(self.url)
        items = await self.cls(self.session_id, store=fresh).get_items()
        await fresh.close()
        return len(items)

    async def close(self) -> None:
        await _drop(self.store)


class AgentsSQLite(System):
    name = "openai-agents SQLiteSession"

    def __init__(self, path: str) -> None:
        from agents.memory import SQLiteSession

        self.cls = SQLiteSession
        self.path = path
        self.session_id = ""

    async def new_session(self) -> Append:
        self.session_id = uuid.uuid4().hex
        session = self.cls(self.session_id, self.path)

        async def append(i: int) -> None:
            role = "assistant" if i % 2 else "user"
            await session.add_items([{"role": role, "content": TEXT.format(i=i)}])

        return append

    async def load(self) -> int:
        return len(await self.cls(self.session_id, self.path).get_items())


class AgentsRedis(System):
    name = "openai-agents RedisSession"

    def __init__(self, url: str) -> None:
        from agents.extensions.memory.redis_session import RedisSession

        self.cls = RedisSession
        self.url = url
        self.session_id = ""
        self.prefix = f"bench-{uuid.uuid4().hex[:8]}"
        self.sessions: list[Any] = []

    async def new_session(self) -> Append:
        self.session_id = uuid.uuid4().hex
        session = self.cls.from_url(self.session_id, url=self.url, key_prefix=self.prefix)
        self.sessions.append(session)

        async def append(i: int) -> None:
            role = "assistant" if i % 2 else "user"
            await session.add_items([{"role": role, "content": TEXT.format(i=i)}])

        return append

    async def load(self) -> int:
        session = self.cls.from_url(self.session_id, url=self.url, key_prefix=self.prefix)
        items = await session.get_items()
        await session.close()
        return len(items)

    async def close(self) -> None:
        for session in self.sessions:
            await session.clear_session()
            await session.close()


class Adk(System):
    """An ADK session service: ``append`` is ``append_event`` of a user or model text event,
    ``load`` is ``get_session`` on a fresh service object (ADK's in-memory one has none)."""

    def __init__(self) -> None:
        from google.adk.events import Event
        from google.genai import types

        self.service = self.make_service()
        self.event, self.types = Event, types
        self.session_id = ""

    def make_service(self) -> Any:
        from google.adk.sessions import InMemorySessionService

        return InMemorySessionService()

    async def new_session(self) -> Append:
        session = await self.service.create_session(app_name="bench", user_id="u")
        self.session_id = session.id
        types = self.types

        async def append(i: int) -> None:
            role = "model" if i % 2 else "user"
            content = types.Content(role=role, parts=[types.Part(text=TEXT.format(i=i))])
            event = self.event(author=role, invocation_id="bench", content=content)
            await self.service.append_event(session, event)

        return append

    async def load(self) -> int:
        fresh = self.service if isinstance(self, AdkMemory) else self.make_service()
        session = await fresh.get_session(app_name="bench", user_id="u", session_id=self.session_id)
        if fresh is not self.service:
            await fresh.close()
        return len(session.events) if session else 0

    async def close(self) -> None:
        await self.service.close()


class AdkMemory(Adk):
    name = "google-adk InMemorySessionService"

    async def close(self) -> None:
        return None


def adk_database(url: str) -> Any:
    from google.adk.sessions import DatabaseSessionService

    return DatabaseSessionService(f"sqlite+aiosqlite:///{url}")


def adk_ours(url: str) -> Any:
    from llm_sessions.integrations.adk import LLMSessionsSessionService

    return LLMSessionsSessionService(store=f"sqlite:///{url}")


class AdkSQLite(Adk):
    """An ADK session service on a SQLite file, made by ``factory`` from the file's path."""

    def __init__(self, name: str, path: str, factory: Callable[[str], Any]) -> None:
        self.name, self.path, self.factory = name, path, factory
        super().__init__()

    def make_service(self) -> Any:
        return self.factory(self.path)


async def measure(system: System, turns: int, big: int) -> list[Any]:
    async def append_median(size: int, repeat: int) -> float:
        append = await system.new_session()
        for i in range(size):
            await append(i)
        samples = []
        for i in range(size, size + repeat):
            start = time.perf_counter()
            await append(i)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples) * 1000

    at_40 = await append_median(40, 60)
    at_big = await append_median(big, 60)
    append = await system.new_session()
    start = time.perf_counter()
    for i in range(2 * turns):
        await append(i)
    conversation = time.perf_counter() - start
    append = await system.new_session()
    for i in range(big):
        await append(i)
    loads = []
    for _ in range(LOADS):
        start = time.perf_counter()
        loaded = await system.load()
        loads.append(time.perf_counter() - start)
    return [system.name, at_40, at_big, conversation, min(loads) * 1000, loaded]


def systems(tmp: str, redis_url: str | None) -> list[tuple[str, Callable[[], System]]]:
    found: list[tuple[str, Callable[[], System]]] = [
        ("memory", lambda: Ours("memory", "memory://")),
        ("memory", AdkMemory),
        ("sqlite", lambda: Ours("SQLite", f"sqlite:///{tmp}/ours.db")),
        ("sqlite", lambda: AgentsSQLite(f"{tmp}/agents.db")),
        ("sqlite", lambda: OursAgents("SQLite", f"sqlite:///{tmp}/ours_agents.db")),
        ("sqlite", lambda: AdkSQLite(ADK_OURS, f"{tmp}/adk_ours.db", adk_ours)),
        ("sqlite", lambda: AdkSQLite(ADK_DATABASE, f"{tmp}/adk_theirs.db", adk_database)),
    ]
    if redis_url:
        found += [
            (
                "redis",
                lambda: Ours("Redis", f"{redis_url}?key_prefix=bench-{uuid.uuid4().hex[:8]}:"),
            ),
            ("redis", lambda: AgentsRedis(redis_url)),
            (
                "redis",
                lambda: OursAgents(
                    "Redis", f"{redis_url}?key_prefix=bench-{uuid.uuid4().hex[:8]}:"
                ),
            ),
        ]
    return found


async def floor_of(system: System, store: str, redis_url: str | None, tmp: str) -> Any:
    """The floor of a typed load of ``system``'s last session, if it is ours on SQLite or
    Redis (None otherwise)."""
    if not isinstance(system, Ours):
        return None
    if store == "sqlite":
        return await sqlite_floor(f"{tmp}/ours.db", system.session_id)
    if store == "redis" and redis_url:
        key = f"{system.key_prefix}{{{system.session_id}}}:events"
        return await redis_floor(redis_url, key)
    return None


def ratios(rows: list[list[Any]], floors: dict[str, list[list[Any]]]) -> list[list[Any]]:
    """Ours against the others and against the floor, store by store, from this run."""
    found: list[list[Any]] = []
    by_name = {(row[0], row[1]): row for row in rows}
    for store in ("sqlite", "redis"):
        theirs = next((r for (s, n), r in by_name.items() if s == store and "openai" in n), None)
        agents = next((r for (s, n), r in by_name.items() if s == store and AGENTS_OURS in n), None)
        if theirs and agents:
            for label, column in (("append@40", 2), ("append@big", 3), ("conversation", 4)):
                found.append(
                    [
                        store,
                        f"Agents SDK {label}, ours / openai-agents",
                        agents[column] / theirs[column],
                    ]
                )
            found.append(
                [store, "Agents SDK get_items(), ours / openai-agents", agents[5] / theirs[5]]
            )
        typed = next(
            (r for (s, n), r in by_name.items() if s == store and n.startswith("llm-sessions (")),
            None,
        )
        if typed and store in floors:
            least = floors[store][0][1] + floors[store][-1][1]
            found.append(
                [
                    store,
                    "typed load (store.get), ours / floor (read + bare models)",
                    typed[5] / least,
                ]
            )
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument(
        "--only",
        default="",
        help="run only the systems whose name contains one of these comma-separated words",
    )
    args = parser.parse_args()
    redis_url = None if args.no_redis else args.redis_url
    count_text("warm up", "gpt-4o-mini")
    print(f"machine: {machine()}")
    rows = []
    floors: dict[str, list[list[Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for store, make in systems(tmp, redis_url):
            try:
                system = make()
            except ImportError as exc:
                print(f"skipped ({store}): {exc}")
                continue
            if not any(word in system.name.lower() for word in args.only.lower().split(",")):
                await system.close()
                continue
            rows.append([store, *await measure(system, args.turns, args.items)])
            floor = await floor_of(system, store, redis_url, tmp)
            if floor:
                floors[store] = floor
            await system.close()
    print(
        table(
            f"append one item at ~40 and at {args.items:,} items (median ms), "
            f"{args.turns:,}-turn conversation (s), load {args.items:,} items (ms, best of "
            f"{LOADS})",
            [
                "store",
                "system",
                "append@40",
                f"append@{args.items}",
                "conversation",
                "load",
                "loaded",
            ],
            rows,
        )
    )
    for store, floor in floors.items():
        print(
            table(
                f"\nthe least a typed load of our {args.items:,} {store} rows can cost (each "
                "step alone, best of 5; a typed load is at least the first plus the last)",
                ["step", "ms", "rows", "bytes/row"],
                floor,
            )
        )
    found = ratios(rows, floors)
    if found:
        print(
            table(
                "\nratios from this run (below 1: ours is faster)",
                ["store", "what", "ratio"],
                found,
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
