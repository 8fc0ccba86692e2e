"""Asking the model again when no tool call of its reply can run."""

from __future__ import annotations

from typing import Any

import pytest

from chat_messages import assistant, call
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_run import RunStatus
from llm_sessions.session_aware_tool_processor import (
    DEFAULT_LLM_RETRY_PROMPT,
    SessionAwareToolProcessor,
    ToolErrorType,
)
from llm_sessions.tools import ToolRegistry


class ScriptedModel:
    """An ``llm_callback`` that answers each retry prompt with the next scripted reply."""

    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []

    async def __call__(self, prompt: str) -> Any:
        self.prompts.append(prompt)
        return self.replies.pop(0)


@pytest.fixture
def weather_registry(registry: ToolRegistry) -> tuple[ToolRegistry, list[str]]:
    executed: list[str] = []

    @registry.register
    async def get_weather(location: str) -> dict[str, Any]:
        executed.append(location)
        return {"location": location, "temperature": 18}

    return registry, executed


def replies(session: Session[Any]) -> list[Any]:
    return [e for e in session.events if e.source is EventSource.LLM]


def tool_events(session: Session[Any]) -> list[Any]:
    return [e for e in session.events if e.type is EventType.TOOL_CALL]


async def test_an_unknown_tool_makes_the_model_try_again(
    session: Session[Any], weather_registry: tuple[ToolRegistry, list[str]]
) -> None:
    registry, executed = weather_registry
    model = ScriptedModel(assistant(call("get_weather", {"location": "Lima"}, "call_2")))
    processor = SessionAwareToolProcessor(session.id, registry=registry)

    (result,) = await processor.process_llm_message(
        assistant(call("weather_lookup", {"location": "Lima"}, "call_1")), model
    )

    assert result.result == {"location": "Lima", "temperature": 18}
    assert result.tool_call_id == "call_2"
    assert executed == ["Lima"]
    first, second = replies(session)
    assert (first.metadata["attempt"], second.metadata["attempt"]) == (1, 2)
    rejected, accepted = tool_events(session)
    assert rejected.parent_event_id == first.id
    assert rejected.message["success"] is False
    assert rejected.message["error_type"] == "tool_not_found"
    assert "no tool with this name" in rejected.message["error"]
    assert accepted.parent_event_id == second.id
    assert accepted.message["success"] is True
    (run,) = session.runs
    assert run.tool_calls == [rejected.id, accepted.id]
    assert run.status is RunStatus.COMPLETED
    assert run.metadata["llm_attempts"] == 2
    # the default prompt tells the model what was wrong
    assert model.prompts[0].startswith("None of the tool calls in your last reply")
    assert "- weather_lookup: no tool with this name is registered" in model.prompts[0]


async def test_arguments_that_are_not_json_make_the_model_try_again(
    session: Session[Any], weather_registry: tuple[ToolRegistry, list[str]]
) -> None:
    registry, executed = weather_registry
    model = ScriptedModel(assistant(call("get_weather", {"location": "Quito"})))
    processor = SessionAwareToolProcessor(
        session.id, registry=registry, llm_retry_prompt="Please provide a valid tool call."
    )

    (result,) = await processor.process_llm_message(
        assistant(call("get_weather", '{"location": "Quito"')), model
    )

    assert result.succeeded
    assert executed == ["Quito"]
    assert model.prompts == ["Please provide a valid tool call."]
    rejected = tool_events(session)[0]
    assert rejected.message["error_type"] == "invalid_json"
    assert rejected.message["raw_arguments"] == '{"location": "Quito"'
    assert rejected.message["arguments"] == {}


async def test_arguments_that_miss_the_schema_make_the_model_try_again(
    session: Session[Any], weather_registry: tuple[ToolRegistry, list[str]]
) -> None:
    registry, executed = weather_registry
    model = ScriptedModel(assistant(call("get_weather", {"location": "Cusco"})))
    processor = SessionAwareToolProcessor(session.id, registry=registry)

    await processor.process_llm_message(assistant(call("get_weather", {"city": "Cusco"})), model)

    rejected = tool_events(session)[0]
    assert rejected.message["error_type"] == "invalid_arguments"
    assert "missing required argument 'location'" in rejected.message["error"]
    assert rejected.message["arguments"] == {"city": "Cusco"}
    assert executed == ["Cusco"]


async def test_after_max_llm_retries_the_error_results_are_returned(
    session: Session[Any], weather_registry: tuple[ToolRegistry, list[str]]
) -> None:
    registry, executed = weather_registry
    bad = assistant(call("nope"))
    model = ScriptedModel(bad, bad)
    processor = SessionAwareToolProcessor(session.id, registry=registry, max_llm_retries=2)

    (result,) = await processor.process_llm_message(bad, model)

    assert result.error_type is ToolErrorType.TOOL_NOT_FOUND
    assert len(model.prompts) == 2
    assert [e.metadata["attempt"] for e in replies(session)] == [1, 2, 3]
    assert len(tool_events(session)) == 3
    (run,) = session.runs
    assert run.status is RunStatus.FAILED
    assert len(run.tool_calls) == 3
    assert executed == []


async def test_no_retry_without_a_callback(
    session: Session[Any], weather_registry: tuple[ToolRegistry, list[str]]
) -> None:
    registry, _ = weather_registry
    processor = SessionAwareToolProcessor(session.id, registry=registry)

    (result,) = await processor.process_llm_message(assistant(call("nope")), None)

    assert result.error_type is ToolErrorType.TOOL_NOT_FOUND
    assert len(replies(session)) == 1


async def test_no_retry_when_some_calls_are_valid(
    session: Session[Any], weather_registry: tuple[ToolRegistry, list[str]]
) -> None:
    registry, executed = weather_registry
    model = ScriptedModel()
    processor = SessionAwareToolProcessor(session.id, registry=registry)

    valid, invalid = await processor.process_llm_message(
        assistant(call("get_weather", {"location": "Bogotá"}), call("nope")), model
    )

    assert valid.succeeded and executed == ["Bogotá"]
    assert invalid.error_type is ToolErrorType.TOOL_NOT_FOUND
    assert invalid.attempts == 0
    assert model.prompts == []
    assert session.runs[0].status is RunStatus.FAILED


async def test_a_retry_reply_without_tool_calls_ends_the_exchange(
    session: Session[Any], weather_registry: tuple[ToolRegistry, list[str]]
) -> None:
    registry, _ = weather_registry
    model = ScriptedModel({"role": "assistant", "content": "I cannot look that up."})
    processor = SessionAwareToolProcessor(session.id, registry=registry)

    results = await processor.process_llm_message(assistant(call("nope")), model)

    assert results == []
    assert replies(session)[-1].message["content"] == "I cannot look that up."
    assert len(model.prompts) == 1


async def test_a_sync_callback_and_a_whole_completion_are_accepted(
    session: Session[Any], weather_registry: tuple[ToolRegistry, list[str]]
) -> None:
    registry, executed = weather_registry
    completion = {
        "choices": [{"message": assistant(call("get_weather", {"location": "Cali"}))}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 9},
    }
    processor = SessionAwareToolProcessor(session.id, registry=registry)

    await processor.process_llm_message(assistant(call("nope")), lambda prompt: completion)

    assert executed == ["Cali"]
    usage = replies(session)[-1].token_usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (40, 9)


async def test_a_failing_callback_marks_the_run_failed_and_propagates(
    session: Session[Any], weather_registry: tuple[ToolRegistry, list[str]]
) -> None:
    registry, _ = weather_registry

    async def unreachable_model(prompt: str) -> Any:
        raise ConnectionError("model unreachable")

    processor = SessionAwareToolProcessor(session.id, registry=registry)
    with pytest.raises(ConnectionError, match="model unreachable"):
        await processor.process_llm_message(assistant(call("nope")), unreachable_model)

    (run,) = session.runs
    assert run.status is RunStatus.FAILED
    assert run.metadata["failure_reason"] == "ConnectionError: model unreachable"
    assert len(tool_events(session)) == 1  # the rejected call is on record


async def test_a_callback_reply_of_the_wrong_shape_is_invalid_input(
    session: Session[Any], weather_registry: tuple[ToolRegistry, list[str]]
) -> None:
    registry, _ = weather_registry
    processor = SessionAwareToolProcessor(session.id, registry=registry)

    with pytest.raises(InvalidInputError, match="llm_callback reply"):
        await processor.process_llm_message(assistant(call("nope")), lambda prompt: 42)

    assert session.runs[0].status is RunStatus.FAILED


def test_the_default_retry_prompt_lists_the_errors() -> None:
    assert "{errors}" in DEFAULT_LLM_RETRY_PROMPT
