"""``llm_sessions.integrations.openai.chat`` with the real openai client and a local server."""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest
from fake_openai_server import FakeOpenAI

from llm_sessions.exceptions import InvalidInputError, ToolProcessingError
from llm_sessions.integrations.openai import chat
from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_run import RunStatus
from llm_sessions.models.token_usage import CountMethod
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tools import ToolRegistry


def completion(message: dict[str, Any], usage: tuple[int, int]) -> dict[str, Any]:
    prompt, completion_tokens = usage
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                "message": {"role": "assistant", **message},
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        },
    }


def tool_call_reply(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {
        "content": None,
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ],
    }


@dataclass
class WeatherTools:
    """A registry with one weather tool, and the locations it was called for."""

    registry: ToolRegistry = field(default_factory=ToolRegistry)
    executed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        @self.registry.register
        async def get_weather(location: str) -> dict[str, Any]:
            """Get the current weather for a city."""
            self.executed.append(location)
            return {"location": location, "temperature": 18, "condition": "Cloudy"}

    async def __call__(self, session: Session[Any]) -> SessionAwareToolProcessor:
        return await SessionAwareToolProcessor.create(session.id, registry=self.registry)


@pytest.fixture
def weather_processor(store: InMemorySessionStore) -> WeatherTools:
    return WeatherTools()


async def test_chat_runs_the_tools_and_returns_the_final_answer(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI, weather_processor: WeatherTools
) -> None:
    session = await Session.create()
    processor = await weather_processor(session)
    fake_openai.reply(
        completion(tool_call_reply("get_weather", {"location": "Paris"}, "call_1"), (50, 20))
    )
    fake_openai.reply(completion({"content": "It is 18 °C and cloudy in Paris."}, (90, 12)))

    answer = await chat(
        client,
        session.id,
        model="gpt-4o-mini",
        user_message="What's the weather in Paris?",
        processor=processor,
        temperature=0,
    )

    assert answer == "It is 18 °C and cloudy in Paris."
    assert weather_processor.executed == ["Paris"]
    first, second = fake_openai.requests
    assert first["model"] == "gpt-4o-mini" and first["temperature"] == 0
    assert first["messages"] == [{"role": "user", "content": "What's the weather in Paris?"}]
    assert first["tools"] == weather_processor.registry.to_openai_tools()
    assistant_turn, tool_turn = second["messages"][1:]
    assert assistant_turn["role"] == "assistant"
    assert assistant_turn["tool_calls"][0]["id"] == "call_1"
    assert tool_turn["role"] == "tool" and tool_turn["tool_call_id"] == "call_1"
    assert json.loads(tool_turn["content"])["temperature"] == 18

    user, tool_reply, tool_call, final = session.events
    assert user.source is EventSource.USER
    assert tool_call.type is EventType.TOOL_CALL and tool_call.parent_event_id == tool_reply.id
    assert final.message["content"] == answer
    usages = [e.token_usage for e in (tool_reply, final)]
    assert [(u.prompt_tokens, u.completion_tokens) for u in usages if u] == [(50, 20), (90, 12)]
    assert all(u is not None and u.count_method is CountMethod.REPORTED for u in usages)
    assert session.runs[0].status is RunStatus.COMPLETED


async def test_tool_errors_go_back_to_the_model_as_tool_results(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI, weather_processor: WeatherTools
) -> None:
    session = await Session.create()
    processor = await weather_processor(session)
    fake_openai.reply(completion(tool_call_reply("get_forecast", {"city": "Oslo"}, "c1"), (30, 9)))
    fake_openai.reply(
        completion(tool_call_reply("get_weather", {"location": "Oslo"}, "c2"), (60, 9))
    )
    fake_openai.reply(completion({"content": "18 °C in Oslo."}, (90, 5)))

    answer = await chat(
        client, session.id, model="gpt-4o-mini", user_message="Oslo?", processor=processor
    )

    assert answer == "18 °C in Oslo."
    error_turn = fake_openai.requests[1]["messages"][-1]
    assert error_turn["tool_call_id"] == "c1"
    assert "no tool with this name" in json.loads(error_turn["content"])["error"]
    assert weather_processor.executed == ["Oslo"]


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(500, openai.InternalServerError), (429, openai.RateLimitError)],
)
async def test_api_errors_propagate_and_the_failed_call_is_recorded(
    fake_openai: FakeOpenAI,
    client: openai.AsyncOpenAI,
    weather_processor: WeatherTools,
    status: int,
    error_type: type[Exception],
) -> None:
    session = await Session.create()
    processor = await weather_processor(session)
    fake_openai.reply({"error": {"message": "try later", "type": "server_error"}}, status=status)

    with pytest.raises(error_type):
        await chat(client, session.id, model="gpt-4o-mini", user_message="Hi", processor=processor)

    (run,) = session.runs
    assert run.status is RunStatus.FAILED
    assert run.metadata["kind"] == "llm_call"
    assert run.metadata["status_code"] == status
    assert run.metadata["error_type"] == error_type.__name__
    assert "try later" in run.metadata["failure_reason"]
    assert [e.source for e in session.events] == [EventSource.USER]


async def test_a_model_that_keeps_calling_tools_is_stopped(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI, weather_processor: WeatherTools
) -> None:
    session = await Session.create()
    processor = await weather_processor(session)
    for index in range(2):
        reply = tool_call_reply("get_weather", {"location": f"City {index}"}, f"c{index}")
        fake_openai.reply(completion(reply, (10, 5)))

    with pytest.raises(ToolProcessingError, match="after 1 tool rounds"):
        await chat(client, session.id, model="gpt-4o-mini", processor=processor, max_tool_rounds=1)

    assert weather_processor.executed == ["City 0"]  # the last reply is recorded, not run
    assert [e.type for e in session.events] == [
        EventType.MESSAGE,
        EventType.TOOL_CALL,
        EventType.MESSAGE,
    ]


async def test_no_tools_are_sent_when_there_are_none(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI, store: InMemorySessionStore
) -> None:
    session = await Session.create()
    processor = SessionAwareToolProcessor(session.id, registry=ToolRegistry())
    fake_openai.reply(completion({"content": "Hello!"}, (5, 2)))

    answer = await chat(
        client, session.id, model="gpt-4o-mini", user_message="Hi", processor=processor
    )

    assert answer == "Hello!"
    assert "tools" not in fake_openai.requests[0]


async def test_arguments_chat_sets_itself_are_rejected(
    client: openai.AsyncOpenAI, store: InMemorySessionStore
) -> None:
    session = await Session.create()
    with pytest.raises(InvalidInputError, match="messages"):
        await chat(client, session.id, model="gpt-4o-mini", messages=[])
    other = SessionAwareToolProcessor("another-session")
    with pytest.raises(InvalidInputError, match="processor"):
        await chat(client, session.id, model="gpt-4o-mini", processor=other)
    assert session.events == []


def test_a_missing_openai_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)
    monkeypatch.delitem(sys.modules, "llm_sessions.integrations.openai")

    with pytest.raises(ImportError, match=r'pip install "llm-sessions\[openai\]"'):
        importlib.import_module("llm_sessions.integrations.openai")
