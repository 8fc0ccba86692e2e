"""The Agents SDK session given a compaction policy: old tool outputs come back as stubs."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("agents")

from llm_sessions import Compaction
from llm_sessions.integrations.openai_agents import LLMSessionsSession
from llm_sessions.storage import InMemorySessionStore

OUTPUT = "weather data " * 150


def turn(number: int) -> list[dict[str, Any]]:
    call_id = f"call_{number}"
    return [
        {"role": "user", "content": f"question {number}"},
        {"type": "function_call", "call_id": call_id, "name": "weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": call_id, "output": OUTPUT},
        {"role": "assistant", "content": f"answer {number}"},
    ]


async def test_get_items_sends_old_tool_outputs_as_stubs() -> None:
    store = InMemorySessionStore()
    policy = Compaction(trim_tool_results_after_turns=1)
    session = LLMSessionsSession("agent", store=store, compaction=policy)
    for number in range(3):
        await session.add_items(turn(number))
    items = await session.get_items()
    outputs = {i["call_id"]: i["output"] for i in items if i.get("type") == "function_call_output"}
    assert outputs["call_0"].startswith("[tool result trimmed: weather, call call_0, ")
    assert outputs["call_0"].endswith(" tokens saved]")
    assert outputs["call_1"] == OUTPUT and outputs["call_2"] == OUTPUT
    calls = [i["call_id"] for i in items if i.get("type") == "function_call"]
    assert calls == ["call_0", "call_1", "call_2"]  # every output keeps its call
    # The stored items are unchanged: a session without a policy reads them whole.
    plain = LLMSessionsSession("agent", store=store)
    assert [i.get("output") for i in await plain.get_items()].count(OUTPUT) == 3
    # The newest items through a limit are judged by their own turns.
    assert (await session.get_items(limit=4))[2]["output"] == OUTPUT


def test_the_session_refuses_a_policy_that_is_not_one() -> None:
    with pytest.raises(ValueError, match="compaction"):
        LLMSessionsSession("agent", store=InMemorySessionStore(), compaction=3)  # type: ignore[arg-type]
