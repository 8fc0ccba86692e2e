"""A 10,000-message conversation with infinite context: total time and segments.

    python benchmarks/bench_infinite.py [--store sqlite:///bench.db] [--messages 10000]

Drives InfiniteConversationManager.process_message with alternating user and assistant messages,
a summariser callback that answers instantly (so the time is the library's, not a model's), and
the default thresholds (3,000 tokens, 20 turns per segment). Then rebuilds the whole history and
the chain from a new manager, and reports the time of each step.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table

from llm_sessions import EventSource, Session
from llm_sessions.infinite_conversation import InfiniteConversationManager
from llm_sessions.storage import open_store
from llm_sessions.tokens import count_text

USER = "Question {i}: how does step {i} of the migration affect the billing service?"
ASSISTANT = (
    "Step {i} moves the invoices table to the new cluster; billing reads from a replica until "
    "the cut-over, so there is no downtime, but reports lag by up to a minute."
)


async def summarise(messages: list[dict[str, Any]], model: str) -> str:
    """An instant stand-in for the summarising model."""
    return f"Summary of {len(messages[-1]['content'])} characters of conversation."


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default="memory://")
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    count_text("warm up", "gpt-4o-mini")
    print(f"machine: {machine()}; store: {args.store}")

    store = open_store(args.store)
    manager = InfiniteConversationManager(store=store)
    root = await Session.create(store=store)
    session_id = root.id
    start = time.perf_counter()
    for i in range(args.messages):
        source = EventSource.USER if i % 2 == 0 else EventSource.LLM
        text = (USER if source is EventSource.USER else ASSISTANT).format(i=i // 2)
        session_id = await manager.process_message(session_id, text, source, summarise)
    total = time.perf_counter() - start

    # A new manager on a new store object: everything is read back from storage.
    fresh_store = store if args.store.startswith("memory") else open_store(args.store)
    reader = InfiniteConversationManager(store=fresh_store)
    start = time.perf_counter()
    chain = await reader.get_session_chain(root.id)
    chain_time = time.perf_counter() - start
    start = time.perf_counter()
    history = await reader.get_full_conversation_history(session_id)
    history_time = time.perf_counter() - start
    start = time.perf_counter()
    context = await reader.build_context_for_llm(root.id)
    context_time = time.perf_counter() - start
    assert len(history) == args.messages, len(history)
    print(
        table(
            f"{args.messages:,}-message infinite conversation",
            ["measure", "value"],
            [
                ["total time (s)", total],
                ["messages per second", args.messages / total],
                ["segments", len(chain)],
                ["chain from the root id, new manager (ms)", chain_time * 1000],
                ["full history, new manager (ms)", history_time * 1000],
                ["context for the next call from the root id (ms)", context_time * 1000],
                ["context messages", len(context)],
            ],
        )
    )
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
