"""``bench_content.py`` compaction: the prompt of a long agent session, with and without it.

An agent runs ``--agent-turns`` turns: a user message, a reply calling a tool, the tool's result
(about 400 tokens) and a final answer; before each turn's final answer it asks
``get_messages_for_llm(max_tokens=--budget)``. Two managers record the same turns in their own
in-memory store (the figure is the prompt build, not a store): one without compaction, one with
``Compaction(trim_tool_results_after_turns=3, summarize_at_tokens=--summarize-at,
keep_recent_tokens=--keep)`` and a summarizer that answers at once (so the figure is this
library's own cost, not a model's). The table shows the mean and median time of a prompt build
over the turns, the summaries made, the largest prompt sent, and the history the prompt stands
for (prompt tokens without a budget cut, at the end).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from _common import table

from llm_sessions import Compaction, SessionManager
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tokens import count_chat_messages

MODEL = "gpt-4o-mini"
TARGET_FACTOR = 2.0
RESULT = "row 17: temperature 21.4 C, humidity 48 %, wind 12 km/h from the north-west. " * 20
SUMMARY = "The user asked about the weather in many cities; each answer came from a lookup. " * 8


async def summarizer(messages: list[dict[str, str]], model: str) -> str:
    return SUMMARY


async def turn(sm: SessionManager, number: int) -> None:
    call_id = f"call_{number}"
    await sm.user_says(f"What is the weather in city number {number} today, and should I go?")
    await sm.ai_responds(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "weather", "arguments": f'{{"city": {number}}}'},
                }
            ],
        },
        model=MODEL,
    )
    await sm.tool_used("weather", {"city": number}, RESULT, call_id=call_id)


async def agent(compaction: Compaction | None, args: argparse.Namespace) -> dict[str, Any]:
    sm = SessionManager(
        store=InMemorySessionStore(),
        model=MODEL,
        system_prompt="You are a weather assistant.",
        compaction=compaction,
        summarizer=summarizer,
    )
    times: list[float] = []
    largest = 0
    for number in range(args.agent_turns):
        await turn(sm, number)
        start = time.perf_counter()
        prompt = await sm.get_messages_for_llm(max_tokens=args.budget)
        times.append(time.perf_counter() - start)
        largest = max(largest, count_chat_messages(prompt, MODEL).tokens)
        await sm.ai_responds(f"In city {number} it is mild: a good day to go out.", model=MODEL)
    session = await sm.get_session()
    summaries = sum(1 for e in session.events if "compaction" in e.metadata)
    # The history the next prompt stands for: stage 1 and the summaries, no budget cut.
    trim = None if compaction is None else Compaction(trim_tool_results_after_turns=3)
    reader = SessionManager(sm.session_id, store=sm.store, model=MODEL, compaction=trim)
    history = count_chat_messages(await reader.get_messages_for_llm(), MODEL).tokens
    return {
        "mean_ms": statistics.fmean(times) * 1000,
        "median_ms": statistics.median(times) * 1000,
        "summaries": summaries,
        "largest": largest,
        "history": history,
    }


async def run(args: argparse.Namespace) -> str:
    """The section's table and verdict."""
    policy = Compaction(
        trim_tool_results_after_turns=3,
        summarize_at_tokens=args.summarize_at,
        keep_recent_tokens=args.keep,
    )
    plain = await agent(None, args)
    compacted = await agent(policy, args)
    rows = [
        [name, r["mean_ms"], r["median_ms"], r["summaries"], r["largest"], r["history"]]
        for name, r in (("plain", plain), ("compaction", compacted))
    ]
    title = f"Compaction: {args.agent_turns} agent turns, budget {args.budget} tokens, memory store"
    header = ["variant", "mean ms", "median ms", "summaries", "largest prompt", "history"]
    ratio = compacted["mean_ms"] / plain["mean_ms"]
    under = max(plain["largest"], compacted["largest"]) <= args.budget
    within = "yes" if under and ratio <= TARGET_FACTOR else "NO"
    verdict = (
        f"compaction / plain (mean build): {ratio:.2f}x; every prompt under budget: {under}; "
        f"within: {within}"
    )
    target = (
        f"target: every prompt <= the budget, and a build with compaction <= {TARGET_FACTOR:g} x "
        "a build without it"
    )
    return "\n".join([table(title, header, rows), verdict, target])
