"""The Pydantic AI message history on SQLite, Redis and PostgreSQL: a real ``Agent`` with a
``FunctionModel`` (no network) calls a tool over two runs; the stored history reads back exactly
as the runs returned it, resumes the conversation, and its tokens are the runs' usage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

from llm_sessions.exceptions import InvalidInputError, InvalidSessionId
from llm_sessions.integrations.pydantic_ai import MESSAGE_KIND_KEY, PydanticAIHistory
from llm_sessions.models import EventSource, EventType

if TYPE_CHECKING:
    from store_cases import StoreCase


def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Calls the weather tool for the question, then answers with what it returned and how
    many messages it was shown. Each reply reports 50 tokens in and 5 out."""
    usage = RequestUsage(input_tokens=50, output_tokens=5)
    last = messages[-1].parts[-1]
    if isinstance(last, ToolReturnPart):
        return ModelResponse([TextPart(f"{last.content} ({len(messages)} seen)")], usage=usage)
    city = str(last.content).split()[-1].rstrip("?") if isinstance(last, UserPromptPart) else ""
    return ModelResponse([ToolCallPart("weather", {"city": city})], usage=usage)


def _agent() -> Agent[None, str]:
    agent = Agent(FunctionModel(respond, model_name="gpt-4o"))

    @agent.tool_plain
    def weather(city: str) -> str:
        """The temperature in a city."""
        return {"Paris": "21C", "Rome": "25C"}[city]

    return agent


async def test_two_runs_round_trip_exactly_and_resume(framework_case: StoreCase) -> None:
    agent = _agent()
    history = PydanticAIHistory("pa-1", store=framework_case.open())
    first = await agent.run("Weather in Paris?", message_history=await history.messages())
    await history.add(first.new_messages())

    resumed = PydanticAIHistory("pa-1", store=framework_case.open())
    assert await resumed.messages() == first.all_messages()
    second = await agent.run("And Rome?", message_history=await resumed.messages())
    await resumed.add(second.new_messages())
    assert second.output == "25C (7 seen)"  # the 4 messages of the first run, and 3 new

    reader = PydanticAIHistory("pa-1", store=framework_case.open())
    assert await reader.messages() == second.all_messages()
    assert await reader.messages(limit=2) == second.all_messages()[-2:]

    stored = await framework_case.open().get("pa-1")
    assert stored is not None
    kinds = [(e.source, e.type, e.metadata[MESSAGE_KIND_KEY]) for e in stored.events[:4]]
    assert kinds == [
        (EventSource.USER, EventType.MESSAGE, "request"),
        (EventSource.LLM, EventType.TOOL_CALL, "response"),
        (EventSource.SYSTEM, EventType.TOOL_CALL, "request"),
        (EventSource.LLM, EventType.MESSAGE, "response"),
    ]
    runs = first.usage.total_tokens + second.usage.total_tokens
    assert stored.total_tokens == runs == 220
    assert {u.model for u in stored.token_summary.usage_by_model.values()} >= {"gpt-4o"}
    assert first.usage.cost is not None and second.usage.cost is not None
    assert stored.total_cost == pytest.approx(float(first.usage.cost + second.usage.cost))


async def test_clear_empties_the_history(framework_case: StoreCase) -> None:
    history = PydanticAIHistory("pa-2", store=framework_case.url)
    result = await _agent().run("Weather in Paris?")
    await history.add(result.new_messages())
    await history.clear()
    assert await history.messages() == []
    await history.aclose()


@pytest.mark.parametrize(
    "bad",
    [
        ModelRequest([ToolReturnPart("weather", {1, 2}, tool_call_id="c1")]),
        ModelRequest([ToolReturnPart("weather", object(), tool_call_id="c1")]),
        {"kind": "request", "parts": []},
    ],
    ids=["not-read-back-equal", "not-json", "not-a-message"],
)
async def test_a_message_we_cannot_store_is_refused_and_nothing_is_stored(
    framework_case: StoreCase, bad: Any
) -> None:
    history = PydanticAIHistory("pa-3", store=framework_case.open())
    fine = ModelRequest([UserPromptPart("hello")])
    with pytest.raises(InvalidInputError, match=r"messages\[1\]"):
        await history.add([fine, bad])
    assert await history.messages() == []
    assert await history.store.get("pa-3") is None


async def test_bad_limits_and_ids_are_refused() -> None:
    history = PydanticAIHistory("pa-4", store="memory://")
    for limit in (-1, 1.5, True):
        with pytest.raises(InvalidInputError, match="limit"):
            await history.messages(limit=limit)  # type: ignore[arg-type]
    with pytest.raises(InvalidSessionId, match="session_id"):
        PydanticAIHistory("", store="memory://")
    await history.aclose()
