"""How long a 4,000-token CONVERSATION prompt takes to build from sessions of growing length.

Run: ``.venv/bin/python benchmarks/bench_prompts.py``. Sessions hold turns of a user message, an
assistant reply that calls one or two tools (linked by ``parent_event_id``), the tool results
and a final answer, with texts of realistic length. Each size is timed cold (token-count cache
cleared before every build) and warm (the cache filled by an earlier build), as the median of
several runs with the sizes interleaved. The ratio 10,000 / 100 events should stay under 2: the
builder walks the history newest first and stops when the budget is full.
"""

from __future__ import annotations

import asyncio
import gc
import random
import statistics
import time
from typing import Any

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.prompting.budget import message_cache
from llm_sessions.session_prompt_builder import (
    PromptStrategy,
    build_prompt_from_session,
    truncate_prompt_to_token_limit,
)
from llm_sessions.tokens import count_chat_messages

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


async def main() -> None:
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
