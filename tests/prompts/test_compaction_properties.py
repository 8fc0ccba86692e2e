"""Properties of compacted prompts over random agent histories, policies and budgets: every
prompt is under budget, and no tool call is ever without its result or a result without it."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prompt_factories import assert_tool_pairs_whole

from llm_sessions import Compaction, SessionManager
from llm_sessions.exceptions import TokenLimitExceeded
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tokens import count_chat_messages

MODEL = "gpt-4o-mini"
SETTINGS = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])

sizes = st.integers(0, 120)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("user"), sizes),
        st.tuples(st.just("reply"), sizes),
        st.tuples(st.just("tools"), st.lists(sizes, min_size=1, max_size=3)),
    ),
    min_size=1,
    max_size=30,
)
policies = st.builds(
    lambda trim, at, keep: Compaction(
        trim_tool_results_after_turns=trim,
        summarize_at_tokens=at,
        keep_recent_tokens=min(keep, at - 1) if at is not None else keep,
    ),
    st.one_of(st.none(), st.integers(0, 4)),
    st.one_of(st.none(), st.integers(50, 3000)),
    st.integers(0, 1500),
)
budgets = st.one_of(st.none(), st.integers(20, 4000))


async def summarize(messages: list[dict[str, str]], model: str) -> str:
    return "summary " * 10


async def record(sm: SessionManager, steps: list[tuple[str, Any]]) -> None:
    for number, (kind, value) in enumerate(steps):
        if kind == "user":
            await sm.user_says("word " * value or "hi")
        elif kind == "reply":
            await sm.ai_responds("word " * value, model=MODEL)
        else:
            calls = [
                {
                    "id": f"call_{number}_{i}",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": "{}"},
                }
                for i in range(len(value))
            ]
            await sm.ai_responds({"role": "assistant", "content": None, "tool_calls": calls})
            for call, size in zip(calls, value, strict=True):
                await sm.tool_used("lookup", {}, "data " * size, call_id=call["id"])


@SETTINGS
@given(steps, policies, st.lists(budgets, min_size=1, max_size=3))
def test_every_compacted_prompt_is_valid_and_under_budget(
    history: list[tuple[str, Any]], policy: Compaction, limits: list[int | None]
) -> None:
    async def run() -> None:
        sm = SessionManager(
            store=InMemorySessionStore(),
            compaction=policy,
            summarizer=summarize,
            system_prompt="system",
        )
        await record(sm, history)
        for limit in limits:
            try:
                prompt = await sm.get_messages_for_llm(max_tokens=limit)
            except TokenLimitExceeded:
                continue
            assert_tool_pairs_whole(prompt)
            if limit is not None:
                assert count_chat_messages(prompt, MODEL).tokens <= limit

    asyncio.run(run())
