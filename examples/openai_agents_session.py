"""An OpenAI Agents SDK agent whose history lives in an llm_sessions store, with our token and
cost accounting. The model is scripted (offline); ``pip install "llm-sessions[agents]"``.

The model's replies carry the usage each response reported; ``hooks=session.hooks`` records
the model that made each one (here gpt-4.1) instead of pricing them as ``model=``
(default gpt-4o-mini).

    python examples/openai_agents_session.py
"""

# expect: turn 1: It is 21C in Paris.
# expect: turn 2: You're welcome.
# expect: history: 6 items (user, function_call, function_call_output, message, user, message)
# expect: tokens recorded:
# expect: model replies: 3, as reported by gpt-4.1 (120 in, 21 out)

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
    """Calls the weather tool, then answers; no network. Each reply reports 40 in, 7 out."""

    model = "gpt-4.1"

    def __init__(self) -> None:
        call = ResponseFunctionToolCall(
            type="function_call", call_id="call_1", name="weather", arguments='{"city":"Paris"}'
        )
        self.script: list[Any] = [call, reply("It is 21C in Paris."), reply("You're welcome.")]

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        usage = Usage(requests=1, input_tokens=40, output_tokens=7, total_tokens=47)
        return ModelResponse(output=[self.script.pop(0)], usage=usage, response_id=None)

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
        result = await Runner.run(
            agent, text, session=session, run_config=config, hooks=session.hooks
        )
        print(f"turn {number}: {result.final_output}")
    items = await session.get_items()
    kinds = ", ".join(item.get("role") or item["type"] for item in items)
    kinds = kinds.replace("assistant", "message")
    print(f"history: {len(items)} items ({kinds})")
    stored = await session.store.get(session.session_id)
    assert stored is not None
    print(f"tokens recorded: {stored.total_tokens}, cost ${stored.total_cost:.6f}")
    replies = [e.token_usage for e in stored.events if e.metadata.get("model")]
    used = stored.token_summary.usage_by_model["gpt-4.1"]
    print(
        f"model replies: {len(replies)}, as reported by gpt-4.1 "
        f"({used.prompt_tokens} in, {used.completion_tokens} out)"
    )
    await session.close()


if __name__ == "__main__":
    asyncio.run(main())
