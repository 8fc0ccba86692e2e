"""A Pydantic AI agent whose message history lives in an llm_sessions store (SQLite here), with
each run's usage recorded as tokens and cost. The model is a ``FunctionModel`` (offline);
``pip install "llm-sessions[pydantic-ai]"``.

Each run reads the history, and its ``new_messages()`` are added back: a new history object
on the same store (or another process) resumes the conversation exactly.

    python examples/pydantic_ai_history.py
"""

# expect: run 1: Paris is 21C. (3 messages seen)
# expect: run 2: Rome is 25C. (7 messages seen)
# expect: stored: 8 messages (request, response, request, response, ...), read back exactly: True
# expect: tokens: 220 (the runs' usage: 220), cost $0.000700 (Pydantic AI's: $0.000700)

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

from llm_sessions.integrations.pydantic_ai import PydanticAIHistory


def scripted(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Calls the weather tool for the city asked about, then answers with what it returned.
    Each reply reports 50 tokens in and 5 out, as a provider would."""
    usage = RequestUsage(input_tokens=50, output_tokens=5)
    last = messages[-1].parts[-1]
    if isinstance(last, ToolReturnPart):
        text = f"{last.content} ({len(messages)} messages seen)"
        return ModelResponse([TextPart(text)], usage=usage)
    city = str(last.content).split()[-1].rstrip("?") if isinstance(last, UserPromptPart) else ""
    return ModelResponse([ToolCallPart("weather", {"city": city})], usage=usage)


agent = Agent(FunctionModel(scripted, model_name="gpt-4o"))


@agent.tool_plain
def weather(city: str) -> str:
    """The temperature in a city."""
    return f"{city} is {({'Paris': '21C', 'Rome': '25C'})[city]}."


async def main() -> None:
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'agent.db'}"
    history = PydanticAIHistory("ada", store=url)
    cost, runs = 0.0, 0
    for run, question in enumerate(["Weather in Paris?", "And Rome?"], start=1):
        result = await agent.run(question, message_history=await history.messages())
        await history.add(result.new_messages())
        cost += float(result.usage.cost or 0)
        runs += result.usage.total_tokens
        print(f"run {run}: {result.output}")
    await history.aclose()

    resumed = PydanticAIHistory("ada", store=url)
    messages = await resumed.messages()
    exact = messages == result.all_messages()
    kinds = ", ".join(m.kind for m in messages[:4])
    print(f"stored: {len(messages)} messages ({kinds}, ...), read back exactly: {exact}")
    session = await resumed.store.get("ada")
    assert session is not None
    print(f"tokens: {session.total_tokens} (the runs' usage: {runs}), ", end="")
    print(f"cost ${session.total_cost:.6f} (Pydantic AI's: ${cost:.6f})")
    await resumed.aclose()


if __name__ == "__main__":
    asyncio.run(main())
