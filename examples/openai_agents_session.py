"""An OpenAI Agents SDK agent whose history lives in an llm_sessions store, with our token and
cost accounting. The model is scripted (offline); ``pip install "llm-sessions[agents]"``.

    python examples/openai_agents_session.py
"""

# expect: turn 1: It is 21C in Paris.
# expect: turn 2: You're welcome.
# expect: history: 6 items (user, function_call, function_call_output, message, user, message)
# expect: tokens recorded:

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from agents import Agent, ModelResponse, RunConfig, Runner, Usage, function_tool
from agents.models.interface import Model
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

from llm_sessions.integrations.openai_agents import LLMSessionsSession


def reply(text: str) -> ResponseOutputMessage:
    content = [ResponseOutputText(type="output_text", text=text, annotations=[])]
    return ResponseOutputMessage(
        type="message", id="msg", role="assistant", status="completed", content=content
    )


class ScriptedModel(Model):
    """Calls the weather tool, then answers; no network."""

    def __init__(self) -> None:
        call = ResponseFunctionToolCall(
            type="function_call", call_id="call_1", name="weather", arguments='{"city":"Paris"}'
        )
        self.script: list[Any] = [call, reply("It is 21C in Paris."), reply("You're welcome.")]

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return ModelResponse(output=[self.script.pop(0)], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("this example does not stream")


@function_tool
def weather(city: str) -> str:
    """The temperature in a city."""
    return "21C"


async def main() -> None:
    folder = Path(tempfile.mkdtemp())
    session = LLMSessionsSession("user_123", store=f"sqlite:///{folder / 'agents.db'}")
    agent = Agent(name="forecaster", model=ScriptedModel(), tools=[weather])
    config = RunConfig(tracing_disabled=True)
    for number, text in enumerate(["Weather in Paris?", "Thanks!"], start=1):
        result = await Runner.run(agent, text, session=session, run_config=config)
        print(f"turn {number}: {result.final_output}")
    items = await session.get_items()
    kinds = ", ".join(item.get("role") or item["type"] for item in items)
    kinds = kinds.replace("assistant", "message")
    print(f"history: {len(items)} items ({kinds})")
    stored = await session.store.get(session.session_id)
    assert stored is not None
    print(f"tokens recorded: {stored.total_tokens}, cost ${stored.total_cost:.6f}")
    await session.close()


if __name__ == "__main__":
    asyncio.run(main())
