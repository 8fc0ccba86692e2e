"""``ai_responds_stream`` records an OpenAI stream as it arrives: chat-completions chunks and
Responses events, as the ``openai`` package's types, with text, tool calls and usage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseOutputItemAddedEvent,
    ResponseTextDeltaEvent,
)

from llm_sessions import SessionManager
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import SessionEvent


def chat_chunk(delta: dict[str, Any] | None = None, usage: Any = None) -> ChatCompletionChunk:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": None}]
    return ChatCompletionChunk.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": "gpt-4o",
            "choices": choices,
            "usage": usage,
        }
    )


CHAT_CHUNKS = [
    chat_chunk({"role": "assistant", "content": ""}),
    chat_chunk({"content": "Checking "}),
    chat_chunk({"content": "the weather."}),
    chat_chunk(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": ""},
                }
            ]
        }
    ),
    chat_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
    chat_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Oslo"}'}}]}),
    chat_chunk({}),
    chat_chunk(usage={"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29}),
]


async def as_async(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def the_reply(sm: SessionManager) -> SessionEvent[Any]:
    [event] = [e for e in (await sm.get_session()).events if e.metadata.get("model") == "gpt-4o"]
    return event


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_chat_completions_stream_is_recorded_with_its_tool_calls_and_usage(
    kind: str,
) -> None:
    sm = SessionManager()
    stream = as_async(CHAT_CHUNKS) if kind == "async" else iter(CHAT_CHUNKS)

    await sm.ai_responds_stream(stream, model="gpt-4o")

    event = await the_reply(sm)
    assert event.message == {
        "role": "assistant",
        "content": "Checking the weather.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
            }
        ],
    }
    assert "incomplete" not in event.metadata
    assert event.metadata["provider"] == "openai"
    assert event.token_usage is not None
    assert (event.token_usage.prompt_tokens, event.token_usage.completion_tokens) == (20, 9)
    await sm.tool_used("weather", {"city": "Oslo"}, "sunny", call_id="call_1")
    messages = await sm.get_messages_for_llm()
    assert [m["role"] for m in messages] == ["assistant", "tool"]


def responses_events() -> list[Any]:
    response = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1_700_000_000,
        "model": "gpt-4o",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "status": "in_progress",
    }
    done = {**response, "status": "completed"}
    done["usage"] = {
        "input_tokens": 30,
        "output_tokens": 7,
        "total_tokens": 37,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }
    text = {"item_id": "msg_1", "output_index": 0, "content_index": 0, "logprobs": []}
    call = {"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "add"}
    return [
        ResponseCreatedEvent.model_validate(
            {"type": "response.created", "sequence_number": 0, "response": response}
        ),
        ResponseTextDeltaEvent.model_validate(
            {**text, "type": "response.output_text.delta", "sequence_number": 1, "delta": "Sum"}
        ),
        ResponseTextDeltaEvent.model_validate(
            {**text, "type": "response.output_text.delta", "sequence_number": 2, "delta": "ming"}
        ),
        ResponseOutputItemAddedEvent.model_validate(
            {
                "type": "response.output_item.added",
                "sequence_number": 3,
                "output_index": 1,
                "item": {**call, "arguments": "", "status": "in_progress"},
            }
        ),
        ResponseFunctionCallArgumentsDeltaEvent.model_validate(
            {
                "type": "response.function_call_arguments.delta",
                "sequence_number": 4,
                "item_id": "fc_1",
                "output_index": 1,
                "delta": '{"a":1,"b":2}',
            }
        ),
        ResponseCompletedEvent.model_validate(
            {"type": "response.completed", "sequence_number": 5, "response": done}
        ),
    ]


async def test_a_responses_stream_is_recorded_with_its_tool_calls_and_usage() -> None:
    sm = SessionManager()

    await sm.ai_responds_stream(as_async(responses_events()), model="gpt-4o")

    event = await the_reply(sm)
    assert event.message["content"] == "Summing"
    assert event.message["tool_calls"] == [
        {
            "id": "call_9",
            "type": "function",
            "function": {"name": "add", "arguments": '{"a":1,"b":2}'},
        }
    ]
    assert "incomplete" not in event.metadata
    assert event.token_usage is not None
    assert (event.token_usage.prompt_tokens, event.token_usage.completion_tokens) == (30, 7)


async def test_a_stream_whose_first_item_is_not_text_records_nothing() -> None:
    sm = SessionManager()
    await sm.user_says("Hi")
    bad = {"id": "c", "object": "chat.completion.chunk", "choices": [{"delta": {"content": 7}}]}

    with pytest.raises(InvalidInputError, match=r"stream\[0\]\.choices\[0\]\.delta\.content.*7"):
        await sm.ai_responds_stream([bad], model="gpt-4o")

    assert [e.message for e in (await sm.get_session()).events] == ["Hi"]


async def test_a_stream_that_yields_something_else_is_refused_and_the_reply_kept_as_cut() -> None:
    sm = SessionManager()

    with pytest.raises(InvalidInputError, match=r"stream\[2\].*ChatCompletionChunk"):
        await sm.ai_responds_stream([*CHAT_CHUNKS[:2], 12345], model="gpt-4o")

    event = await the_reply(sm)
    assert event.message["content"] == "Checking "
    assert event.metadata["incomplete"] is True


async def test_something_that_is_not_a_stream_is_refused() -> None:
    sm = SessionManager()
    with pytest.raises(InvalidInputError, match=r"stream.*must be an OpenAI stream"):
        await sm.ai_responds_stream(42, model="gpt-4o")  # type: ignore[arg-type]
    assert (await sm.get_session()).events == []


async def test_a_stream_cut_by_a_bad_item_is_closed() -> None:
    closed: list[bool] = []

    class FakeStream:
        """Like the openai client's ``AsyncStream``: iterable, closed with ``close()``."""

        async def __aiter__(self) -> AsyncIterator[Any]:
            yield CHAT_CHUNKS[1]
            yield "not a chunk"
            yield CHAT_CHUNKS[2]

        async def close(self) -> None:
            closed.append(True)

    sm = SessionManager()
    with pytest.raises(InvalidInputError, match=r"stream\[1\]"):
        await sm.ai_responds_stream(FakeStream(), model="gpt-4o")
    assert closed == [True]
