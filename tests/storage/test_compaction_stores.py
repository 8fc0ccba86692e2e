"""Staged compaction on every store: the compaction event is stored with the span it names,
the span stays readable, and a fresh store object gives the same valid prompt under budget."""

from __future__ import annotations

from typing import Any

from store_cases import StoreCase

from llm_sessions import Compaction, EventType, SessionManager
from llm_sessions.exceptions import TokenLimitExceeded
from llm_sessions.prompting import is_compaction_event
from llm_sessions.tokens import count_chat_messages

MODEL = "gpt-4o-mini"
POLICY = Compaction(
    trim_tool_results_after_turns=1, summarize_at_tokens=700, keep_recent_tokens=300
)


async def summarize(messages: list[dict[str, str]], model: str) -> str:
    return "what happened so far"


def assert_valid(prompt: list[dict[str, Any]]) -> None:
    """No tool message without the assistant call before it, no call without its result."""
    pending: list[str] = []
    for message in prompt:
        if message["role"] == "tool":
            assert pending and message["tool_call_id"] == pending.pop(0), message
            continue
        assert not pending, f"calls {pending} not answered"
        pending = [call["id"] for call in message.get("tool_calls") or []]
    assert not pending


async def record(sm: SessionManager, turns: int) -> None:
    for number in range(turns):
        call_id = f"call_{number}"
        await sm.user_says(f"look up item {number}")
        declared = {
            "id": call_id,
            "type": "function",
            "function": {"name": "lookup", "arguments": "{}"},
        }
        await sm.ai_responds({"role": "assistant", "content": None, "tool_calls": [declared]})
        await sm.tool_used("lookup", {}, "item data " * 120, call_id=call_id)
        await sm.ai_responds(f"item {number} is fine", model=MODEL)
        prompt = await sm.get_messages_for_llm(max_tokens=1200)
        assert_valid(prompt)
        assert count_chat_messages(prompt, MODEL).tokens <= 1200


async def test_compaction_on_every_store(store_case: StoreCase) -> None:
    store = store_case.open()
    sm = SessionManager(store=store, compaction=POLICY, summarizer=summarize)
    await record(sm, 8)
    prompt = await sm.get_messages_for_llm()
    assert prompt[0] == {"role": "system", "content": "what happened so far"}
    assert_valid(prompt)

    reader = store_case.reader(store)
    stored = await reader.get(sm.session_id)
    assert stored is not None
    compactions = [e for e in stored.events if is_compaction_event(e)]
    assert compactions and compactions[-1].type is EventType.SUMMARY
    named = set(compactions[-1].metadata["compaction"]["event_ids"])
    assert named <= {e.id for e in stored.events}  # the span stays in the store
    again = SessionManager(sm.session_id, store=reader, compaction=POLICY, summarizer=summarize)
    assert await again.get_messages_for_llm() == prompt


async def test_every_budget_gives_a_valid_prompt_under_it_on_every_store(
    store_case: StoreCase,
) -> None:
    writer = SessionManager(store=store_case.open(), compaction=POLICY, summarizer=summarize)
    await record(writer, 6)
    store = store_case.reader(writer.store)
    sm = SessionManager(writer.session_id, store=store, compaction=POLICY, summarizer=summarize)
    sent = 0
    for budget in range(40, 2400, 37):
        try:
            prompt = await sm.get_messages_for_llm(max_tokens=budget)
        except TokenLimitExceeded:
            continue  # refused whole: too small for the newest turn
        assert_valid(prompt)
        assert count_chat_messages(prompt, MODEL).tokens <= budget
        sent += 1
    assert sent >= 50
