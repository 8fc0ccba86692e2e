"""How long a 4,000-token CONVERSATION prompt takes to build from sessions of growing length.

Run: ``.venv/bin/python benchmarks/bench_prompts.py [--no-redis] [--no-postgres] [--stored-only]``.
Sessions hold turns of a user message, an assistant reply that calls one or two tools (linked
by ``parent_event_id``), the tool results and a final answer, with texts of realistic length.
Each size is timed cold (token-count cache cleared before every build) and warm (the cache
filled by an earlier build), as the median of several runs with the sizes interleaved. The ratio
10,000 / 100 events should stay under 2: the
builder walks the history newest first and stops when the budget is full.

Then the same prompt from sessions of 1,000 and 100,000 events stored in SQLite, Redis and
PostgreSQL, with ``build_prompt_from_store``, which reads the log page by page from its end
(cold: token-count cache cleared first). The ratio 100,000 / 1,000 events should stay under 1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.prompting.budget import message_cache
from llm_sessions.session_prompt_builder import (
    PromptStrategy,
    build_prompt_from_session,
    build_prompt_from_store,
    truncate_prompt_to_token_limit,
)
from llm_sessions.storage import SessionStore, open_store
from llm_sessions.tokens import count_chat_messages

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table

MODEL = "gpt-4o-mini"
BUDGET = 4_000
SIZES = (100, 1_000, 10_000)
RUNS = 25
WORDS = (
    "the weather forecast for tomorrow shows rain in the north while the south stays dry "
    "please check flight schedule hotel booking budget report quarterly revenue growth "
    "customer feedback survey results indicate strong interest in the new product line "
    "database migration completed with three warnings about deprecated index settings "
    "summarise compare explain calculate convert translate schedule remind search"
).split()


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _turn(rng: random.Random) -> list[SessionEvent[Any]]:
    user: SessionEvent[Any] = SessionEvent(
        message=_text(rng, rng.randint(12, 60)), source=EventSource.USER
    )
    call: SessionEvent[Any] = SessionEvent(
        message=_text(rng, rng.randint(10, 30)), source=EventSource.LLM
    )
    tools: list[SessionEvent[Any]] = [
        SessionEvent(
            message={
                "tool": rng.choice(["search", "get_weather", "calculator"]),
                "arguments": {"query": _text(rng, 6)},
                "result": {"items": [_text(rng, 15) for _ in range(rng.randint(1, 4))]},
            },
            source=EventSource.SYSTEM,
            type=EventType.TOOL_CALL,
            parent_event_id=call.id,
        )
        for _ in range(rng.randint(1, 2))
    ]
    answer: SessionEvent[Any] = SessionEvent(
        message=_text(rng, rng.randint(60, 220)), source=EventSource.LLM
    )
    return [user, call, *tools, answer]


def make_session(size: int, seed: int = 7) -> Session[Any]:
    """A session of exactly ``size`` events made of realistic tool-using turns."""
    rng = random.Random(seed)
    events: list[SessionEvent[Any]] = []
    while len(events) < size:
        events.extend(_turn(rng))
    return Session(events=events[-size:])


async def _build(session: Session[Any], *, cold: bool) -> tuple[float, int]:
    if cold:
        message_cache.clear()
    gc.collect()
    start = time.perf_counter()
    prompt = await build_prompt_from_session(session, PromptStrategy.CONVERSATION, BUDGET, MODEL)
    elapsed = time.perf_counter() - start
    tokens = count_chat_messages(prompt, MODEL).tokens
    assert tokens <= BUDGET, tokens
    return elapsed, tokens


STORED_SIZES = (1_000, 100_000)
STORED_RUNS = 15
WRITE_BATCH = 2_000
REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


async def store_session(store: SessionStore, size: int) -> str:
    """Write a ``size``-event session to ``store`` in batches (one save per batch); its id."""
    events = make_session(size).events
    session: Session[Any] = Session()
    await store.save(session)
    for start in range(0, size, WRITE_BATCH):
        for event in events[start : start + WRITE_BATCH]:
            await session.add_event(event)
        await store.save(session)
    return session.id


async def _build_stored(store: SessionStore, session_id: str, *, cold: bool) -> float:
    if cold:
        message_cache.clear()
    gc.collect()
    start = time.perf_counter()
    prompt = await build_prompt_from_store(
        store, session_id, PromptStrategy.CONVERSATION, BUDGET, MODEL
    )
    elapsed = time.perf_counter() - start
    assert count_chat_messages(prompt, MODEL).tokens <= BUDGET
    return elapsed


async def stored(args: argparse.Namespace) -> None:
    """Print the median time of a prompt from stored sessions of each size, and the ratio."""
    token = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        urls = [("SQLite", f"sqlite:///{tmp}/prompts.db")]
        if not args.no_redis:
            urls.append(("Redis", f"{REDIS_URL}?key_prefix=bench-prompts-{token}:"))
        if not args.no_postgres:
            urls.append(("PostgreSQL", f"{POSTGRES_URL}?schema=bench_prompts_{token}"))
        rows = []
        for name, url in urls:
            store = open_store(url)
            try:
                ids = {size: await store_session(store, size) for size in STORED_SIZES}
                cold: dict[int, list[float]] = {size: [] for size in STORED_SIZES}
                warm: dict[int, list[float]] = {size: [] for size in STORED_SIZES}
                await _build_stored(store, ids[STORED_SIZES[0]], cold=True)
                for _ in range(STORED_RUNS):
                    for size, session_id in ids.items():
                        cold[size].append(await _build_stored(store, session_id, cold=True))
                        warm[size].append(await _build_stored(store, session_id, cold=False))
                small, large = STORED_SIZES[0], STORED_SIZES[-1]
                medians = {
                    (kind, size): statistics.median(found[size]) * 1e3
                    for kind, found in (("cold", cold), ("warm", warm))
                    for size in STORED_SIZES
                }
                rows.append(
                    [
                        name,
                        medians["cold", small],
                        medians["cold", large],
                        medians["cold", large] / medians["cold", small],
                        medians["warm", small],
                        medians["warm", large],
                        medians["warm", large] / medians["warm", small],
                    ]
                )
            finally:
                drop = getattr(store, "drop_all", None)
                if drop is not None:
                    await drop()
                await store.close()
    small, large = STORED_SIZES[0], STORED_SIZES[-1]
    print(
        table(
            f"{BUDGET}-token prompt from a stored session (ms, median of {STORED_RUNS})",
            [
                "store",
                f"cold {small:,}",
                f"cold {large:,}",
                "ratio",
                f"warm {small:,}",
                f"warm {large:,}",
                "ratio",
            ],
            rows,
        )
    )


async def main() -> None:
    """The in-memory table, then the stored one (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--stored-only", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if not args.stored_only:
        await in_memory()
    await stored(args)


async def in_memory() -> None:
    """Print the median build time per session size, cold and warm, and the ratios.

    Sizes are interleaved within each round so that drift in machine speed hits them alike.
    """
    print(f"CONVERSATION prompt, budget {BUDGET} tokens, model {MODEL}, median of {RUNS} runs")
    sessions = {size: make_session(size) for size in SIZES}
    cold: dict[int, list[float]] = {size: [] for size in SIZES}
    warm: dict[int, list[float]] = {size: [] for size in SIZES}
    tokens: dict[int, int] = {}
    await _build(sessions[SIZES[0]], cold=True)  # load the vocabulary, warm the interpreter
    for _ in range(RUNS):
        for size, session in sessions.items():
            cold[size].append((await _build(session, cold=True))[0])
            elapsed, tokens[size] = await _build(session, cold=False)
            warm[size].append(elapsed)
    print(f"{'events':>8} {'prompt tokens':>14} {'cold ms':>9} {'warm ms':>9}")
    for size in SIZES:
        cold_ms, warm_ms = statistics.median(cold[size]) * 1e3, statistics.median(warm[size]) * 1e3
        print(f"{size:>8} {tokens[size]:>14} {cold_ms:>9.3f} {warm_ms:>9.3f}")
    small, large = SIZES[0], SIZES[-1]
    cold_ratio = statistics.median(cold[large]) / statistics.median(cold[small])
    warm_ratio = statistics.median(warm[large]) / statistics.median(warm[small])
    print(f"ratio {large}/{small} events: cold {cold_ratio:.2f}, warm {warm_ratio:.2f}")
    naive = await _time_naive(sessions[large])
    print(f"for comparison, render all {large} events then truncate: {naive * 1e3:.1f} ms")


async def _time_naive(session: Session[Any]) -> float:
    """Render the whole history, then cut it to the budget (what the walk avoids)."""
    timings: list[float] = []
    for _ in range(3):
        start = time.perf_counter()
        full = await build_prompt_from_session(session, PromptStrategy.CONVERSATION)
        await truncate_prompt_to_token_limit(full, BUDGET, MODEL)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


if __name__ == "__main__":
    asyncio.run(main())
