"""Three slow tools called in one LLM reply: does the reply take as long as the slowest tool?

    python benchmarks/bench_tools.py                         # in-memory store
    python benchmarks/bench_tools.py --store sqlite:///bench.db --repeat 10

Registers three tools that sleep 0.20, 0.25 and 0.30 s (async tools with ``asyncio.sleep``, then
sync tools with ``time.sleep``, which run in worker threads) and sends one assistant message
calling all three through ``SessionAwareToolProcessor.process_llm_message``. For each repetition
it prints the wall time of the whole call (recording the reply, running the tools, recording
three TOOL_CALL events and the run), the slowest tool's own duration, and the sum of the three
(what running them one after another would take). Concurrent execution means wall ≈ slowest,
far below the sum; ``overhead`` is wall - slowest. Caching is off so every call runs the tools.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table

from llm_sessions.models.session import Session
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor
from llm_sessions.storage import open_store
from llm_sessions.tokens import count_text_async
from llm_sessions.tools import ToolRegistry

DELAYS = {"weather": 0.20, "calculator": 0.25, "search": 0.30}


def async_registry() -> ToolRegistry:
    registry = ToolRegistry()
    for name, delay in DELAYS.items():

        async def tool(query: str, _delay: float = delay) -> dict[str, Any]:
            await asyncio.sleep(_delay)
            return {"query": query, "slept": _delay}

        registry.register(tool, name=name)
    return registry


def sync_registry() -> ToolRegistry:
    registry = ToolRegistry()
    for name, delay in DELAYS.items():

        def tool(query: str, _delay: float = delay) -> dict[str, Any]:
            time.sleep(_delay)
            return {"query": query, "slept": _delay}

        registry.register(tool, name=name)
    return registry


def message(repetition: int) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{name}_{repetition}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps({"query": f"q{repetition}"})},
            }
            for name in DELAYS
        ],
    }


async def measure(
    registry: ToolRegistry, store_url: str, repeat: int
) -> list[tuple[int, float, float, float, float]]:
    rows = []
    async with open_store(store_url) as store:
        session = await Session.create(store=store)
        processor = SessionAwareToolProcessor(
            session.id, registry=registry, store=store, enable_caching=False
        )
        await count_text_async("load the tokenizer before timing", processor.model)
        for repetition in range(1, repeat + 1):
            start = time.perf_counter()
            results = await processor.process_llm_message(message(repetition), None)
            wall = time.perf_counter() - start
            assert all(result.succeeded for result in results), results
            slowest = max(result.duration for result in results)
            total = sum(result.duration for result in results)
            rows.append(
                (repetition, wall * 1000, slowest * 1000, total * 1000, (wall - slowest) * 1000)
            )
    return rows


def report(title: str, rows: list[tuple[int, float, float, float, float]]) -> None:
    header = ["rep", "wall ms", "slowest ms", "sum ms", "overhead ms"]
    print(table(title, header, rows))
    walls = [row[1] for row in rows]
    sums = [row[3] for row in rows]
    sequential = sum(DELAYS.values()) * 1000
    print(
        f"median wall {statistics.median(walls):.1f} ms vs median sum "
        f"{statistics.median(sums):.1f} ms (one after another: ~{sequential:.0f} ms)"
    )
    print()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="memory://", help="store URL (default memory://)")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions (default 5)")
    args = parser.parse_args()
    print(f"{machine()}; store {args.store}; tools sleep {', '.join(map(str, DELAYS.values()))} s")
    print()
    report("async tools (asyncio.sleep)", await measure(async_registry(), args.store, args.repeat))
    report(
        "sync tools (time.sleep, worker threads)",
        await measure(sync_registry(), args.store, args.repeat),
    )


if __name__ == "__main__":
    asyncio.run(main())
