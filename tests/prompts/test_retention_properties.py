"""Properties of sessions a retention policy trimmed, over random agent histories, policies and
budgets: every prompt keeps each tool call with its result, the stub is in the prompt and
counted, and at least ``keep_last_events`` of the newest events stay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from prompt_factories import assert_tool_pairs_whole
from test_compaction_properties import MODEL, budgets, record, steps

from llm_sessions import Compaction, Retention, SessionManager
from llm_sessions.exceptions import TokenLimitExceeded
from llm_sessions.prompting import build_prompt_from_session, is_retention_stub
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tokens import count_chat_messages

SETTINGS = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
policies = st.builds(
    lambda keep, tools: Retention(
        keep_last_events=keep, trim_tool_results_after=timedelta(minutes=1) if tools else None
    ),
    st.integers(1, 12),
    st.booleans(),
).filter(lambda policy: policy.trims)


async def _trimmed(
    history: list[tuple[str, Any]], policy: Retention, compacted: bool = False
) -> tuple[Any, Any]:
    store = InMemorySessionStore()
    compaction = Compaction(keep_recent_tokens=60) if compacted else None
    sm = SessionManager(store=store, system_prompt="system", compaction=compaction)
    await record(sm, history)
    if compacted:  # a compaction summary the trim may keep or remove
        await sm.compact(force=True)
    held = await store.get(sm.session_id)
    assert held is not None
    before = list(held.events)  # the memory store hands out the object it keeps
    later = datetime.now(UTC) + timedelta(hours=1)  # every tool event is over a minute old
    await store.apply_retention(policy, now=later)
    after = await store.get(sm.session_id)
    assert after is not None
    return sm, (before, after)


@SETTINGS
@given(steps, policies, st.lists(budgets, min_size=1, max_size=4), st.booleans())
def test_every_prompt_of_a_trimmed_session_is_valid(
    history: list[tuple[str, Any]], policy: Retention, limits: list[int | None], compacted: bool
) -> None:
    async def run() -> None:
        sm, (before, after) = await _trimmed(history, policy, compacted)
        stubs = [event for event in after.events if is_retention_stub(event)]
        kept = [event for event in after.events if not is_retention_stub(event)]
        assert len(stubs) <= 1
        event(f"trimmed={bool(stubs)}, compacted={compacted}")
        assert before[0].metadata.get("system_prompt") is True
        assert after.events[0].id == before[0].id  # the system prompt stays
        if policy.keep_last_events is not None and policy.trim_tool_results_after is None:
            newest = [e.id for e in kept[1:]]
            assert len(newest) >= min(policy.keep_last_events, len(before) - 1)
            assert newest == [e.id for e in before[len(before) - len(newest) :]]
        if policy.trim_tool_results_after is not None:
            assert all(event.type != "tool_call" for event in kept)
        for limit in limits:
            for prompt in await _prompts(sm, after, limit):
                assert_tool_pairs_whole(prompt)
                if limit is not None:
                    assert count_chat_messages(prompt, MODEL).tokens <= limit
        if stubs:
            whole = await sm.get_messages_for_llm()
            assert {"role": "system", "content": stubs[0].message} in whole

    asyncio.run(run())


async def _prompts(sm: SessionManager, session: Any, limit: int | None) -> list[list[Any]]:
    made = []
    for build in (
        lambda: sm.get_messages_for_llm(max_tokens=limit),
        lambda: build_prompt_from_session(session, "conversation", max_tokens=limit),
    ):
        try:
            made.append(await build())
        except TokenLimitExceeded:
            continue
    return made


def test_the_system_prompt_marker_is_the_managers() -> None:
    from llm_sessions.api._system_prompt import SYSTEM_PROMPT_KEY
    from llm_sessions.prompting._retention_trim import SYSTEM_PROMPT_KEY as KEPT_KEY

    assert KEPT_KEY == SYSTEM_PROMPT_KEY
