"""A Google ADK agent whose sessions live in an llm_sessions store, with our token and cost
accounting. The model is scripted (offline); ``pip install "llm-sessions[adk]"``.

``app:`` and ``user:`` state is shared by the app's and the user's sessions, ``temp:`` state
is never stored, and each ADK event is kept whole and also recorded as an event of ours, so
the CLI (``llm-sessions show``) and the inspector show the conversation with its tokens.

    python examples/adk_session_service.py
"""

# expect: turn 1: It is sunny in Paris.
# expect: turn 2: You are welcome.
# expect: state: {'visits': 1, 'app:lookups': 1, 'user:city': 'Paris'}
# expect: another session of ann sees: user:city=Paris
# expect: listed for ann: ['trip', 'weekend']
# expect: stored: 6 events (user, llm, system, llm, user, llm), 2 tool calls or results
# expect: tokens recorded: 297

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from google.adk.agents import LlmAgent
from google.adk.models import BaseLlm, LlmRequest, LlmResponse
from google.adk.runners import Runner
from google.adk.tools import ToolContext
from google.genai import types

from llm_sessions.integrations.adk import LLMSessionsSessionService
from llm_sessions.models import EventType


def weather(city: str, tool_context: ToolContext) -> dict[str, Any]:
    """The forecast for a city; remembers the city for the user."""
    tool_context.state["user:city"] = city
    tool_context.state["app:lookups"] = tool_context.state.get("app:lookups", 0) + 1
    tool_context.state["temp:raw"] = "kept for this turn only"
    return {"forecast": "sunny"}


class Scripted(BaseLlm):
    """Calls the weather tool, reads its result back, then says goodbye; no network."""

    model: str = "gemini-2.0-flash"

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        last = llm_request.contents[-1].parts[-1]
        if last.function_response is not None:
            part = types.Part(text="It is sunny in Paris.")
        elif last.text and "weather" in last.text:
            call = types.FunctionCall(name="weather", args={"city": "Paris"})
            part = types.Part(function_call=call)
        else:
            part = types.Part(text="You are welcome.")
        usage = types.GenerateContentResponseUsageMetadata(
            prompt_token_count=80, candidates_token_count=10
        )
        yield LlmResponse(content=types.Content(role="model", parts=[part]), usage_metadata=usage)


async def main() -> None:
    folder = Path(tempfile.mkdtemp())
    service = LLMSessionsSessionService(store=f"sqlite:///{folder / 'adk.db'}")
    agent = LlmAgent(name="forecaster", model=Scripted(), tools=[weather])
    runner = Runner(agent=agent, app_name="travel", session_service=service)
    await service.create_session(
        app_name="travel", user_id="ann", session_id="trip", state={"visits": 1}
    )
    for number, text in enumerate(["What is the weather in Paris?", "Thanks!"], start=1):
        message = types.Content(role="user", parts=[types.Part(text=text)])
        async for event in runner.run_async(user_id="ann", session_id="trip", new_message=message):
            if event.is_final_response() and event.content and event.content.parts:
                print(f"turn {number}: {event.content.parts[0].text}")
    trip = await service.get_session(app_name="travel", user_id="ann", session_id="trip")
    assert trip is not None
    print(f"state: {trip.state}")
    other = await service.create_session(app_name="travel", user_id="ann", session_id="weekend")
    print(f"another session of ann sees: user:city={other.state['user:city']}")
    listed = await service.list_sessions(app_name="travel", user_id="ann")
    print(f"listed for ann: {sorted(session.id for session in listed.sessions)}")
    stored = await service.store.get("trip")
    assert stored is not None
    sources = ", ".join(event.source.value for event in stored.events)
    calls = sum(event.type == EventType.TOOL_CALL for event in stored.events)
    print(f"stored: {len(stored.events)} events ({sources}), {calls} tool calls or results")
    print(f"tokens recorded: {stored.total_tokens}")
    await service.close()


if __name__ == "__main__":
    asyncio.run(main())
