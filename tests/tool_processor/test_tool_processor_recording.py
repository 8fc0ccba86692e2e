"""What the processor records: the reply, one event per call, the run, token usage."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from openai.types.chat import ChatCompletionMessage

from chat_messages import assistant, call
from llm_sessions.exceptions import SessionNotFound
from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_run import RunStatus
from llm_sessions.models.token_usage import CountMethod
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor
from llm_sessions.storage import InMemorySessionStore, open_store
from llm_sessions.tokens import count_text
from llm_sessions.tools import ToolRegistry


@pytest.fixture
def weather(registry: ToolRegistry) -> ToolRegistry:
    @registry.register
    async def get_weather(location: str) -> dict[str, Any]:
        return {"location": location, "temperature": 21, "condition": "Sunny"}

    @registry.register
    def add(a: int, b: int) -> int:
        return a + b

    return registry


async def test_tool_call_events_are_children_of_the_reply_inside_a_run(
    session: Session[Any], weather: ToolRegistry
) -> None:
    processor = SessionAwareToolProcessor(session.id, registry=weather)
    message = assistant(
        call("get_weather", {"location": "Oslo"}, "call_a"),
        call("add", {"a": 2, "b": 3}, "call_b"),
        content="Checking.",
    )

    results = await processor.process_llm_message(message, None)

    reply, *tools = session.events
    assert reply.type is EventType.MESSAGE and reply.source is EventSource.LLM
    assert reply.message == message
    (run,) = session.runs
    assert run.status is RunStatus.COMPLETED and run.ended_at is not None
    assert reply.task_id == run.id
    assert [t.parent_event_id for t in tools] == [reply.id, reply.id]
    assert [t.task_id for t in tools] == [run.id, run.id]
    assert [t.source for t in tools] == [EventSource.SYSTEM, EventSource.SYSTEM]
    assert run.tool_calls == [t.id for t in tools]
    assert [r.event_id for r in results] == run.tool_calls
    assert run.metadata == {
        "kind": "tool_processing",
        "tool_calls": 2,
        "failed": 0,
        "llm_attempts": 1,
    }
    assert session.active_run is None


async def test_a_tool_call_event_has_the_simple_api_shape_plus_timing(
    session: Session[Any], weather: ToolRegistry
) -> None:
    processor = SessionAwareToolProcessor(session.id, registry=weather)
    (result,) = await processor.process_llm_message(
        assistant(call("add", {"a": 2, "b": 3}, "call_b")), None
    )

    (event,) = [e for e in session.events if e.type is EventType.TOOL_CALL]
    message = event.message
    assert {k: message[k] for k in ("tool", "arguments", "result", "error", "success")} == {
        "tool": "add",
        "arguments": {"a": 2, "b": 3},
        "result": 5,
        "error": None,
        "success": True,
    }
    assert message["tool_call_id"] == "call_b"
    assert message["attempts"] == 1 and message["cached"] is False
    assert message["start_time"] == result.start_time.isoformat()
    assert message["end_time"] == result.end_time.isoformat()
    assert message["duration"] == result.duration >= 0
    assert result.start_time <= result.end_time


async def test_token_usage_counts_the_reply_and_what_results_cost_when_sent_back(
    session: Session[Any], weather: ToolRegistry
) -> None:
    processor = SessionAwareToolProcessor(session.id, registry=weather, model="gpt-4o")
    (result,) = await processor.process_llm_message(
        assistant(call("get_weather", {"location": "Oslo"}), content="Let me check."), None
    )

    reply, tool = session.events
    arguments = json.dumps({"location": "Oslo"})
    expected_reply = count_text(f"Let me check.\nget_weather({arguments})", "gpt-4o").tokens
    assert reply.token_usage is not None and tool.token_usage is not None
    assert (reply.token_usage.prompt_tokens, reply.token_usage.completion_tokens) == (
        0,
        expected_reply,
    )
    assert reply.token_usage.count_method is CountMethod.TOKENIZER
    assert tool.token_usage.prompt_tokens == count_text(result.content(), "gpt-4o").tokens
    assert tool.token_usage.completion_tokens == 0
    assert result.content() == json.dumps(result.result)
    assert session.total_tokens == reply.token_usage.total_tokens + tool.token_usage.total_tokens


async def test_the_providers_usage_wins_over_counting(
    session: Session[Any], weather: ToolRegistry
) -> None:
    processor = SessionAwareToolProcessor(session.id, registry=weather)
    await processor.process_llm_message(
        assistant(call("add", {"a": 1, "b": 1})),
        None,
        usage={"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
    )

    usage = session.events[0].token_usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (120, 30, 150)
    assert usage.count_method is CountMethod.REPORTED


async def test_an_error_result_costs_the_error_text(
    session: Session[Any], registry: ToolRegistry
) -> None:
    processor = SessionAwareToolProcessor(session.id, registry=registry)
    (result,) = await processor.process_llm_message(assistant(call("missing")), None)

    tool = session.events[1]
    assert result.content() == json.dumps({"error": result.error})
    assert tool.token_usage is not None
    assert tool.token_usage.prompt_tokens == count_text(result.content(), "gpt-4o-mini").tokens


async def test_a_message_without_tool_calls_is_recorded_and_gives_no_results(
    session: Session[Any], weather: ToolRegistry
) -> None:
    asked: list[str] = []
    processor = SessionAwareToolProcessor(session.id, registry=weather)

    results = await processor.process_llm_message(
        {"role": "assistant", "content": "It is sunny."}, asked.append
    )

    assert results == []
    assert asked == []  # no retry for a plain answer
    (event,) = session.events
    assert event.message == {"role": "assistant", "content": "It is sunny."}
    assert event.task_id is None
    assert session.runs == []


async def test_openai_chat_completion_message_objects_are_accepted(
    session: Session[Any], weather: ToolRegistry
) -> None:
    message = ChatCompletionMessage.model_validate(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_xyz",
                    "type": "function",
                    "function": {"name": "add", "arguments": '{"a": 40, "b": 2}'},
                }
            ],
        }
    )
    processor = SessionAwareToolProcessor(session.id, registry=weather)

    (result,) = await processor.process_llm_message(message, None)

    assert (result.result, result.tool_call_id) == (42, "call_xyz")
    assert session.events[0].message["tool_calls"][0]["id"] == "call_xyz"
    assert result.to_tool_message() == {"role": "tool", "tool_call_id": "call_xyz", "content": "42"}


async def test_record_reply_records_without_running_tools(
    session: Session[Any], weather: ToolRegistry
) -> None:
    processor = SessionAwareToolProcessor(session.id, registry=weather)

    event = await processor.record_reply(assistant(call("add", {"a": 1, "b": 2})))

    assert session.events == [event]
    assert session.runs == []


async def test_cancelling_marks_the_run_cancelled(
    session: Session[Any], registry: ToolRegistry
) -> None:
    started = asyncio.Event()

    @registry.register
    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    processor = SessionAwareToolProcessor(session.id, registry=registry)
    task = asyncio.create_task(processor.process_llm_message(assistant(call("forever")), None))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert session.runs[0].status is RunStatus.CANCELLED


async def test_create_needs_an_existing_session(store: InMemorySessionStore) -> None:
    with pytest.raises(SessionNotFound):
        await SessionAwareToolProcessor.create("no-such-session")


async def test_processing_for_a_deleted_session_raises_session_not_found(
    store: InMemorySessionStore, registry: ToolRegistry
) -> None:
    session = await Session.create()
    processor = await SessionAwareToolProcessor.create(session.id, registry=registry)
    await store.delete(session.id)

    with pytest.raises(SessionNotFound):
        await processor.process_llm_message(assistant(call("x")), None)


async def test_everything_is_read_back_from_a_fresh_sqlite_store(
    tmp_path: Path, weather: ToolRegistry
) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    async with open_store(url) as writer:
        session = await Session.create(store=writer)
        processor = SessionAwareToolProcessor(
            session.id, registry=weather, store=writer, max_retries=0
        )
        model_reply = assistant(call("get_weather", {"location": "Oslo"}, "call_2"))
        await processor.process_llm_message(
            assistant(call("nope", {}, "call_1")), lambda prompt: model_reply
        )
        await processor.process_llm_message(
            assistant(call("add", {"a": 1, "b": 2}, "call_3")), None
        )

    async with open_store(url) as reader:
        loaded = await reader.get(session.id)

    assert loaded is not None
    kinds = [(e.type.value, e.source.value) for e in loaded.events]
    assert kinds == [
        ("message", "llm"),
        ("tool_call", "system"),
        ("message", "llm"),
        ("tool_call", "system"),
        ("message", "llm"),
        ("tool_call", "system"),
    ]
    first, rejected, second, weather_call, third, add_call = loaded.events
    assert rejected.parent_event_id == first.id and rejected.message["success"] is False
    assert weather_call.parent_event_id == second.id and weather_call.message["success"] is True
    assert add_call.parent_event_id == third.id and add_call.message["result"] == 3
    assert second.metadata["attempt"] == 2
    assert [run.status for run in loaded.runs] == [RunStatus.COMPLETED, RunStatus.COMPLETED]
    assert loaded.runs[0].tool_calls == [rejected.id, weather_call.id]
    assert loaded.runs[1].tool_calls == [add_call.id]
    assert loaded.total_tokens == sum(
        e.token_usage.total_tokens for e in loaded.events if e.token_usage is not None
    )
