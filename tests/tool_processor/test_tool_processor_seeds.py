"""The seeds' tool processor examples, renamed and run against our API.

Seed 000 replaces the processor's ``process_text``, as its text shows; the others register their
tools in a registry of the test's own and hand it to the processor.
"""

from __future__ import annotations

import json
from typing import Any

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor, ToolResult
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tools import ToolRegistry, register_tool


async def test_seed_000_session_aware_tool_processor(store: InMemorySessionStore) -> None:
    # Seed 000's example, renamed and awaited: the processor's process_text is replaced.
    session = await Session.create()
    await session.add_event(
        SessionEvent(message="What's the weather in New York?", source=EventSource.USER)
    )
    await store.save(session)
    processor = SessionAwareToolProcessor(session_id=session.id)
    received: list[str] = []

    async def process_text(text: str) -> list[ToolResult]:
        received.append(text)
        data = json.loads(text)
        results = []
        for call in data.get("tool_calls", []):
            fn = call.get("function", {})
            if fn.get("name") == "get_weather":
                args = json.loads(fn.get("arguments", "{}"))
                result = {"temperature": 72, "condition": "Sunny", "location": args["location"]}
                results.append(ToolResult("get_weather", args, result))
        return results

    processor.process_text = process_text  # type: ignore[attr-defined]
    assistant_msg = {
        "role": "assistant",
        "content": "I'll check the weather for you",
        "tool_calls": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "arguments": json.dumps({"location": "New York"}),
                },
            }
        ],
    }

    async def llm_callback(prompt: str) -> dict[str, Any]:
        return assistant_msg

    results = await processor.process_llm_message(assistant_msg, llm_callback)
    assert len(received) == 1
    assert json.loads(received[0])["content"] == "I'll check the weather for you"
    assert [r.result for r in results] == [
        {"temperature": 72, "condition": "Sunny", "location": "New York"}
    ]
    updated = await store.get(session.id)
    assert updated is not None
    assert len(updated.events) == 3
    tool_event = updated.events[2]
    assert tool_event.type is EventType.TOOL_CALL
    assert tool_event.message["result"]["location"] == "New York"
    assert tool_event.parent_event_id == updated.events[1].id


async def test_seed_001_tool_processing_with_registry(
    store: InMemorySessionStore, registry: ToolRegistry
) -> None:
    session = await Session.create()

    @register_tool(
        name="weather", namespace="default", description="Get weather info", registry=registry
    )
    class WeatherTool:
        async def execute(self, location: str) -> dict[str, Any]:
            return {"location": location, "temperature": 22.5, "condition": "Sunny"}

    processor = await SessionAwareToolProcessor.create(session_id=session.id, registry=registry)
    llm_response = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"function": {"name": "weather", "arguments": '{"location": "London"}'}},
        ],
    }

    async def llm_callback(prompt: str) -> dict[str, Any]:
        return llm_response

    results = await processor.process_llm_message(llm_response, llm_callback)

    assert [r.result for r in results] == [
        {"location": "London", "temperature": 22.5, "condition": "Sunny"}
    ]
    assert [e.type for e in session.events] == [EventType.MESSAGE, EventType.TOOL_CALL]


async def test_seed_002_session_aware_tool_processing(
    store: InMemorySessionStore, registry: ToolRegistry
) -> None:
    session = await Session.create()

    @register_tool(registry=registry)
    def get_weather(location: str) -> dict[str, Any]:
        return {"location": location, "forecast": "clear"}

    processor = SessionAwareToolProcessor(
        session_id=session.id,
        registry=registry,
        max_llm_retries=2,
        llm_retry_prompt="Please provide a valid tool call.",
    )
    prompts: list[str] = []

    async def llm_call_fn(retry_prompt: str) -> dict[str, Any]:
        prompts.append(retry_prompt)
        return llm_response

    llm_response = {
        "tool_calls": [
            {
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"location": "New York"}'},
            }
        ]
    }
    results = await processor.process_llm_message(llm_response, llm_call_fn)

    # "Wraps tool execution in a session run"
    (run,) = session.runs
    assert run.status.value == "completed"
    # "Records the original LLM response" and "Creates child events for each tool call"
    reply, tool_call = session.events
    assert reply.message == llm_response
    assert tool_call.parent_event_id == reply.id
    assert tool_call.task_id == run.id
    # "Properly marks success and failure states"; no retry was needed
    assert tool_call.message["success"] is True
    assert results[0].result == {"location": "New York", "forecast": "clear"}
    assert prompts == []
