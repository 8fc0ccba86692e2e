"""The loop every chat app runs, turn after turn, on every store and beside openai-agents.

    python benchmarks/bench_chat_loop.py [--turns 10000] [--window 500] [--no-redis] [--no-postgres]
    pip install -r benchmarks/requirements-baselines.txt   # for the openai-agents rows

One turn is ``user_says``, ``get_messages_for_llm(max_tokens=4000)`` and ``ai_responds`` through
one ``SessionManager`` (tokens counted and priced with the real tokenizer and prices). The
openai-agents turn is ``add_items`` (user), ``get_items()`` (the whole history, as its runner
reads it), ``add_items`` (assistant); the same turn also runs on our Agents SDK session
(``LLMSessionsSession``) on SQLite and Redis. Printed: the median turn over the first and the last
``--window`` turns, and their ratio (1.0 is a turn that costs the same at any length); for our
durable stores also the median time of a late turn spent in the store's own writes and reads
(its round trips or transactions), and what is left of the late turn beside them as a multiple
of the memory store's late turn.
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table

from llm_sessions import SessionManager
from llm_sessions.storage import SessionStore, open_store
from llm_sessions.tokens import count_text

QUESTION = "How do I compute the area of a circle of radius {i} cm? Please show the formula."
ANSWER = "The area is pi times the radius squared: for {i} cm that is about {a:.1f} square cm."
REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
Turn = Callable[[int], Awaitable[None]]


class StoreClock:
    """Time spent in a store's own reads and writes (the round trip or transaction)."""

    READS = ("_read", "_read_since", "_read_page", "_removal_rows")

    def __init__(self, store: SessionStore) -> None:
        self.spent = {"reads": 0.0, "writes": 0.0}
        for name in (*self.READS, "_write"):
            if hasattr(store, name):
                kind = "writes" if name == "_write" else "reads"
                setattr(store, name, self._timed(getattr(store, name), kind))

    def _timed(self, call: Callable[..., Awaitable[Any]], kind: str) -> Any:
        async def timed(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return await call(*args)
            finally:
                self.spent[kind] += time.perf_counter() - start

        return timed


async def ours(store: SessionStore) -> Turn:
    manager = SessionManager(store=store)

    async def turn(i: int) -> None:
        await manager.user_says(QUESTION.format(i=i))
        await manager.get_messages_for_llm(max_tokens=4000)
        await manager.ai_responds(ANSWER.format(i=i, a=3.14159 * i * i), model="gpt-4o-mini")

    return turn


async def agents(session: Any) -> Turn:
    async def turn(i: int) -> None:
        await session.add_items([{"role": "user", "content": QUESTION.format(i=i)}])
        await session.get_items()
        answer = ANSWER.format(i=i, a=3.14159 * i * i)
        await session.add_items([{"role": "assistant", "content": answer}])

    return turn


async def run(
    turn: Turn, turns: int, window: int, clock: StoreClock | None = None
) -> list[float | None]:
    """Median turn (ms) over the first and the last ``window`` turns, their ratio, and the
    median time of a late turn spent in the store's writes and in its reads (None without a
    ``clock``)."""
    samples: list[float] = []
    spent: dict[str, list[float]] = {"writes": [], "reads": []}
    for i in range(turns):
        before = dict(clock.spent) if clock else {}
        start = time.perf_counter()
        await turn(i)
        samples.append(time.perf_counter() - start)
        for kind, times in spent.items():
            times.append(clock.spent[kind] - before[kind] if clock else 0.0)
    early = statistics.median(samples[:window]) * 1000
    late = statistics.median(samples[-window:]) * 1000
    if clock is None:
        return [early, late, late / early, None, None]
    writes, reads = (statistics.median(spent[kind][-window:]) * 1000 for kind in spent)
    return [early, late, late / early, writes, reads]


def our_stores(tmp: str, args: argparse.Namespace) -> list[tuple[str, str]]:
    token = uuid.uuid4().hex[:8]
    found = [
        ("memory", "memory://"),
        ("SQLite", f"sqlite:///{tmp}/chat.db"),
        ("file", f"file://{tmp}/files"),
    ]
    if not args.no_redis:
        found.append(("Redis", f"{REDIS_URL}?key_prefix=bench-chat-{token}:"))
    if not args.no_postgres:
        found.append(("PostgreSQL", f"{POSTGRES_URL}?schema=bench_chat_{token}"))
    return found


async def baselines(tmp: str, args: argparse.Namespace) -> list[tuple[str, Any, Any]]:
    """Agents SDK sessions (name, session, cleanup): openai-agents' own and ours on the same
    stores, if the package is installed."""
    try:
        from agents.memory import SQLiteSession

        from llm_sessions.integrations.openai_agents import LLMSessionsSession
    except ImportError as exc:
        print(f"skipped openai-agents: {exc}")
        return []
    ours_sqlite = LLMSessionsSession("chat", store=f"sqlite:///{tmp}/ours-agents.db")
    found: list[tuple[str, Any, Any]] = [
        ("openai-agents SQLiteSession", SQLiteSession("chat", f"{tmp}/agents.db"), None),
        ("llm-sessions LLMSessionsSession SQLite", ours_sqlite, ours_sqlite.close),
    ]
    if not args.no_redis:
        try:
            from agents.extensions.memory.redis_session import RedisSession
        except ImportError as exc:
            print(f"skipped openai-agents RedisSession: {exc}")
        else:
            prefix = f"bench-chat-agents-{uuid.uuid4().hex[:8]}"
            session = RedisSession.from_url("chat", url=REDIS_URL, key_prefix=prefix)
            found.append(("openai-agents RedisSession", session, session.clear_session))
        store = open_store(f"{REDIS_URL}?key_prefix=bench-chat-ours-agents-{uuid.uuid4().hex[:8]}:")

        async def drop() -> None:
            await store.drop_all()  # type: ignore[attr-defined]
            await store.close()

        found.append(
            ("llm-sessions LLMSessionsSession Redis", LLMSessionsSession("chat", store=store), drop)
        )
    return found


def loop_parser(doc: str, turns: int, window: int) -> argparse.ArgumentParser:
    """The options of a benchmark that runs the chat loop: its length, its window, the stores."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=turns)
    parser.add_argument("--window", type=int, default=window)
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    return parser


async def main() -> None:
    args = loop_parser(__doc__ or "", 10_000, 500).parse_args()
    window = min(args.window, max(1, args.turns // 2))
    count_text("warm up", "gpt-4o-mini")
    print(f"machine: {machine()}")
    rows = []
    memory_late = None
    with tempfile.TemporaryDirectory() as tmp:
        for name, url in our_stores(tmp, args):
            store = open_store(url)
            try:
                clock = StoreClock(store) if name != "memory" else None
                row = await run(await ours(store), args.turns, window, clock)
                _, late, _, writes, reads = row
                if clock is None:
                    memory_late = late
                elif memory_late and late is not None and writes is not None and reads is not None:
                    row.append((late - writes - reads) / memory_late)
                rows.append([f"llm-sessions {name}", *row, *[None] * (6 - len(row))])
            finally:
                drop = getattr(store, "drop_all", None)
                if drop is not None:
                    await drop()
                await store.close()
        for name, session, cleanup in await baselines(tmp, args):
            try:
                rows.append([name, *await run(await agents(session), args.turns, window), None])
            finally:
                if cleanup is not None:
                    await cleanup()
    print(
        table(
            f"{args.turns:,} turns: median turn (ms) over the first and last {window} turns",
            ["system", "early", "late", "late/early", "writes", "reads", "rest/memory"],
            rows,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
