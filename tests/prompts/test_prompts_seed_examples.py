"""The seeds' prompt-builder examples, renamed to ``llm_sessions`` and in their async form."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.session_prompt_builder import PromptStrategy, build_prompt_from_session
from llm_sessions.storage import InMemorySessionStore, SessionStoreProvider
from llm_sessions.tokens import count_chat_messages


@pytest.fixture(autouse=True)
def _forget_default_store() -> Iterator[None]:
    yield
    SessionStoreProvider.reset()


async def test_seed_000_prompt_builder_example(capsys: pytest.CaptureFixture[str]) -> None:
    # Setup
    store = InMemorySessionStore()
    SessionStoreProvider.set_store(store)
    session = await Session.create()
    # Add a conversation with tool usage
    await session.add_event(
        SessionEvent(message="What's the weather in New York?", source=EventSource.USER)
    )
    assistant_msg = SessionEvent(message="I'll check the weather for you.", source=EventSource.LLM)
    await session.add_event(assistant_msg)
    # Add a tool call as a child of the assistant message
    tool_event = SessionEvent(
        message={
            "tool_name": "get_weather",
            "result": {"temperature": 72, "condition": "Sunny", "location": "New York"},
        },
        source=EventSource.SYSTEM,
        type=EventType.TOOL_CALL,
        metadata={"parent_event_id": assistant_msg.id},
    )
    await session.add_event(tool_event)
    # Save the session
    await store.save(session)
    # Build prompts with different strategies
    minimal_prompt = await build_prompt_from_session(session, PromptStrategy.MINIMAL)
    conversation_prompt = await build_prompt_from_session(session, PromptStrategy.CONVERSATION)
    tool_prompt = await build_prompt_from_session(session, PromptStrategy.TOOL_FOCUSED)
    # Print one of the prompts
    print(json.dumps(tool_prompt, indent=2))

    printed = json.loads(capsys.readouterr().out)
    assert printed == tool_prompt
    call_id = f"call_{tool_event.id.replace('-', '')}"
    weather = {"temperature": 72, "condition": "Sunny", "location": "New York"}
    assert tool_prompt == [
        {"role": "user", "content": "What's the weather in New York?"},
        {
            "role": "assistant",
            "content": "I'll check the weather for you.",
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": json.dumps(weather)},
    ]
    assert json.loads(tool_prompt[-1]["content"]) == weather
    assert tool_prompt == conversation_prompt
    # The minimal strategy sends the reply without its text, as the original's does.
    assert minimal_prompt == [tool_prompt[0], {**tool_prompt[1], "content": None}, tool_prompt[2]]


async def test_seed_001_hierarchical_example() -> None:
    SessionStoreProvider.set_store(InMemorySessionStore())
    parent = await Session.create()
    child1 = await Session.create(parent_id=parent.id)
    child2 = await Session.create(parent_id=parent.id)
    ancestors = await child1.ancestors()
    descendants = await parent.descendants()
    assert [p.id for p in ancestors] == [parent.id]
    assert {d.id for d in descendants} == {child1.id, child2.id}

    await parent.add_event_and_save(
        SessionEvent(message="We are comparing cloud providers.", type=EventType.SUMMARY)
    )
    await child1.add_event_and_save(SessionEvent(message="Pricing?", source=EventSource.USER))
    prompt = await build_prompt_from_session(
        child1, strategy=PromptStrategy.HIERARCHICAL, include_parent_context=True
    )
    assert prompt[0]["role"] == "system"
    assert "We are comparing cloud providers." in prompt[0]["content"]
    assert prompt[1:] == [{"role": "user", "content": "Pricing?"}]


async def test_seed_002_token_aware_example() -> None:
    from llm_sessions.prompts import build_prompt_from_session as build
    from llm_sessions.prompts import truncate_prompt_to_token_limit

    SessionStoreProvider.set_store(InMemorySessionStore())
    session = await Session.create()
    for n in range(300):
        await session.add_event(SessionEvent(message=f"question {n} " * 5, source=EventSource.USER))
        await session.add_event(SessionEvent(message=f"answer {n} " * 10, source=EventSource.LLM))
    conversation_prompt = await build(session, PromptStrategy.CONVERSATION)
    truncated_prompt = await truncate_prompt_to_token_limit(
        conversation_prompt, max_tokens=4000, model="gpt-4-turbo"
    )
    assert count_chat_messages(conversation_prompt, "gpt-4-turbo").tokens > 4000
    assert count_chat_messages(truncated_prompt, "gpt-4-turbo").tokens <= 4000
    assert truncated_prompt == conversation_prompt[-len(truncated_prompt) :]
