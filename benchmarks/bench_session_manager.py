"""A long conversation through SessionManager: does the cost of a turn stay flat?

    python benchmarks/bench_session_manager.py                 # in-memory store
    python benchmarks/bench_session_manager.py --store sqlite:///bench.db

Reports the total time of a 2,000-turn conversation (2,000 user_says + 2,000 ai_responds, each
counting tokens and pricing them), the median cost of a turn around turn 100 and around turn
2,000 (their ratio must stay under 1.5: no step rewrites the history), and the median time of
one add_event_and_save when the session holds 10 and 10,000 events.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, median_ms, table

from llm_sessions import EventSource, Session, SessionEvent, SessionManager
from llm_sessions.storage import open_store
from llm_sessions.tokens import count_text

QUESTION = "How do I compute the area of a circle of radius {i} cm, and what is it in m²?"
ANSWER = (
    "The area is π·r². For r = {i} cm that is {a:.2f} cm², or {m:.6f} m². "
    "Multiply the radius by itself, then by π."
)


async def conversation(store_url: str, turns: int) -> tuple[float, list[float]]:
    store = open_store(store_url)
    manager = SessionManager(store=store)
    per_turn: list[float] = []
    start = time.perf_counter()
    for i in range(turns):
        turn_start = time.perf_counter()
        await manager.user_says(QUESTION.format(i=i))
        area = 3.14159 * i * i
        await manager.ai_responds(
            ANSWER.format(i=i, a=area, m=area / 10_000), model="gpt-4o-mini", provider="openai"
        )
        per_turn.append(time.perf_counter() - turn_start)
    total = time.perf_counter() - start
    stats = await manager.get_stats()
    assert stats["total_events"] == 2 * turns, stats
    await store.close()
    return total, per_turn


async def append_at(store_url: str, size: int, repeat: int) -> float:
    store = open_store(store_url)
    session = await Session.create(store=store)
    for i in range(size):
        await session.add_event(SessionEvent(message=f"event {i}", source=EventSource.USER))
    await store.save(session)

    async def one_append() -> None:
        event = await SessionEvent.create_with_tokens(
            message="one more message", prompt="one more message", source=EventSource.USER
        )
        await session.add_event_and_save(event)

    result = await median_ms(one_append, repeat)
    await store.close()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default="memory://", help="store URL (default memory://)")
    parser.add_argument("--turns", type=int, default=2000)
    args = parser.parse_args()

    print(f"machine: {machine()}; store: {args.store}")
    warm_start = time.perf_counter()
    count_text("warm up", "gpt-4o-mini")  # builds the tokenizer once, outside the timings
    print(f"tokenizer load (once per process): {time.perf_counter() - warm_start:.3f} s")
    total, per_turn = await conversation(args.store, args.turns)
    early = statistics.median(per_turn[50:150]) * 1000
    late = statistics.median(per_turn[-100:]) * 1000
    at_10 = await append_at(args.store, 10, 200)
    at_10k = await append_at(args.store, 10_000, 200)
    print(
        table(
            f"{args.turns}-turn conversation ({2 * args.turns} appends) through SessionManager",
            ["measure", "value"],
            [
                ["total time (s)", total],
                ["turns per second", args.turns / total],
                ["median turn near turn 100 (ms)", early],
                [f"median turn near turn {args.turns} (ms)", late],
                ["late / early ratio (must be < 1.5)", late / early],
                ["add_event_and_save at 10 events (ms)", at_10],
                ["add_event_and_save at 10,000 events (ms)", at_10k],
                ["10,000 / 10 ratio", at_10k / at_10],
            ],
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
