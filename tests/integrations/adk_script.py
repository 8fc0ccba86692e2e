"""A scripted ADK conversation: a model of our own that calls a tool, and the script to run.

Shared by the ADK service's tests, its benchmark and its example; it needs no network.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from google.adk.agents import LlmAgent
from google.adk.events import Event
from google.adk.models import BaseLlm, LlmRequest, LlmResponse
from google.adk.runners import Runner
from google.adk.sessions import BaseSessionService
from google.adk.tools import ToolContext
from google.genai import types

APP = "weather"
TURNS = ["Hi there", "What is the weather in Paris?", "And in Oslo?", "Thanks!"]


def get_weather(city: str, tool_context: ToolContext) -> dict[str, Any]:
    """The weather in ``city``; remembers the city for the user and counts calls for the app."""
    tool_context.state["user:last_city"] = city
    tool_context.state["app:lookups"] = int(tool_context.state.get("app:lookups", 0)) + 1
    tool_context.state["temp:scratch"] = "never stored"
    tool_context.state["asked"] = [*tool_context.state.get("asked", []), city]
    return {"city": city, "forecast": "sunny" if city == "Paris" else "snow"}


class ScriptedLlm(BaseLlm):
    """A model that answers from a script: a weather question calls ``get_weather``, a tool's
    result is read back, anything else gets a greeting. Reports fixed token counts."""

    model: str = "gemini-2.0-flash"

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        last = llm_request.contents[-1].parts[-1] if llm_request.contents else None
        usage = types.GenerateContentResponseUsageMetadata(
            prompt_token_count=100, candidates_token_count=20, total_token_count=120
        )
        if last is not None and last.function_response is not None:
            result = last.function_response.response or {}
            text = f"It is {result.get('forecast')} in {result.get('city')}."
            part = types.Part(text=text)
        elif last is not None and last.text and "weather in" in last.text:
            city = last.text.rsplit(" ", 1)[-1].strip("?")
            part = types.Part(
                function_call=types.FunctionCall(name="get_weather", args={"city": city})
            )
        elif last is not None and last.text and last.text.startswith("And in"):
            city = last.text.rsplit(" ", 1)[-1].strip("?")
            part = types.Part(
                function_call=types.FunctionCall(name="get_weather", args={"city": city})
            )
        else:
            part = types.Part(text="Hello! Ask me about the weather.")
        yield LlmResponse(
            content=types.Content(role="model", parts=[part]),
            usage_metadata=usage,
            model_version=self.model,
        )


def runner(service: BaseSessionService) -> Runner:
    """A runner of the weather agent (scripted model, one tool) on ``service``."""
    agent = LlmAgent(name="forecaster", model=ScriptedLlm(), tools=[get_weather])
    return Runner(agent=agent, app_name=APP, session_service=service)


async def converse(service: BaseSessionService, user_id: str, session_id: str) -> list[Event]:
    """Run every turn of the script in one session; the events the runner yielded."""
    run = runner(service)
    seen: list[Event] = []
    for text in TURNS:
        message = types.Content(role="user", parts=[types.Part(text=text)])
        async for event in run.run_async(
            user_id=user_id, session_id=session_id, new_message=message
        ):
            seen.append(event)
    return seen


def comparable(event: Event) -> dict[str, Any]:
    """What two services must agree on for an event (ids and times are random or clocked)."""
    dump = event.model_dump(mode="json", exclude_none=True)
    for key in ("id", "timestamp", "invocation_id"):
        dump.pop(key, None)
    for part in dump.get("content", {}).get("parts", []):
        for name in ("function_call", "function_response"):
            part.get(name, {}).pop("id", None)
    return dump
