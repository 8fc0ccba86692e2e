"""Every strategy on a session without tools and on one with tools: the exact messages."""

from __future__ import annotations

from typing import Any

import pytest
from prompt_factories import (
    a,
    a_calls,
    assistant,
    call,
    s,
    session_of,
    system,
    t,
    tool,
    u,
    user,
)

from llm_sessions.models.session import Session
from llm_sessions.prompts import build_prompt_from_session as alias_build
from llm_sessions.session_prompt_builder import PromptStrategy, build_prompt_from_session


def chat_session() -> Session[Any]:
    return session_of(
        user("Plan a trip to Rome"),
        assistant("Sure, when do you travel?"),
        user("In May"),
        assistant("May is lovely in Rome."),
    )


CHAT_EXPECTED = {
    # MINIMAL sends the latest reply without its text, as the original strategy does.
    PromptStrategy.MINIMAL: [u("Plan a trip to Rome"), a(None)],
    PromptStrategy.TASK_FOCUSED: [
        u("Plan a trip to Rome"),
        u("In May"),
        a("May is lovely in Rome."),
    ],
    PromptStrategy.TOOL_FOCUSED: [u("Plan a trip to Rome"), u("In May")],
    PromptStrategy.CONVERSATION: [
        u("Plan a trip to Rome"),
        a("Sure, when do you travel?"),
        u("In May"),
        a("May is lovely in Rome."),
    ],
}
CHAT_EXPECTED[PromptStrategy.HIERARCHICAL] = CHAT_EXPECTED[PromptStrategy.CONVERSATION]


@pytest.mark.parametrize("strategy", list(PromptStrategy))
async def test_session_without_tools(strategy: PromptStrategy) -> None:
    prompt = await build_prompt_from_session(chat_session(), strategy)
    assert prompt == CHAT_EXPECTED[strategy]


def tool_session() -> Session[Any]:
    checking = assistant("Checking both cities.", event_id="a1")
    return session_of(
        system("You are a travel agent."),
        user("Weather in Rome and Paris?"),
        checking,
        tool(checking, "get_weather", {"temp": 20}, event_id="t1", arguments={"city": "Rome"}),
        tool(
            checking,
            "get_weather",
            None,
            event_id="t2",
            arguments={"city": "Paris"},
            error="timeout",
        ),
        assistant("Rome is 20C; Paris is unavailable."),
        user("Book Rome"),
    )


CALLS_MESSAGE = a_calls(
    "Checking both cities.",
    call("call_t1", "get_weather", '{"city":"Rome"}'),
    call("call_t2", "get_weather", '{"city":"Paris"}'),
)
TOOL_EXPECTED = {
    PromptStrategy.MINIMAL: [
        s("You are a travel agent."),
        u("Weather in Rome and Paris?"),
        a(None),
    ],
    PromptStrategy.TASK_FOCUSED: [
        s("You are a travel agent."),
        u("Weather in Rome and Paris?"),
        a("Rome is 20C; Paris is unavailable."),
        u("Book Rome"),
    ],
    PromptStrategy.TOOL_FOCUSED: [
        s("You are a travel agent."),
        u("Weather in Rome and Paris?"),
        CALLS_MESSAGE,
        t("call_t1", '{"temp": 20}'),
        t("call_t2", '{"error": "timeout"}'),
        u("Book Rome"),
    ],
    PromptStrategy.CONVERSATION: [
        s("You are a travel agent."),
        u("Weather in Rome and Paris?"),
        CALLS_MESSAGE,
        t("call_t1", '{"temp": 20}'),
        t("call_t2", '{"error": "timeout"}'),
        a("Rome is 20C; Paris is unavailable."),
        u("Book Rome"),
    ],
}
TOOL_EXPECTED[PromptStrategy.HIERARCHICAL] = TOOL_EXPECTED[PromptStrategy.CONVERSATION]


@pytest.mark.parametrize("strategy", list(PromptStrategy))
async def test_session_with_tools(strategy: PromptStrategy) -> None:
    prompt = await build_prompt_from_session(tool_session(), strategy)
    assert prompt == TOOL_EXPECTED[strategy]


async def test_minimal_keeps_the_tool_results_of_the_latest_reply() -> None:
    reply = assistant("Let me look.", event_id="a1")
    session = session_of(
        user("Weather in Oslo?"),
        reply,
        tool(reply, "get_weather", "rainy, 8C", event_id="t1"),
    )
    prompt = await build_prompt_from_session(session, PromptStrategy.MINIMAL)
    assert prompt == [
        u("Weather in Oslo?"),
        a_calls(None, call("call_t1", "get_weather")),
        t("call_t1", "rainy, 8C"),
    ]


async def test_minimal_takes_the_tools_just_before_a_final_answer() -> None:
    # Tools run between the question and the answer, with no reply announcing them.
    session = session_of(
        user("Weather in Oslo?"),
        tool(None, "get_weather", "rainy", event_id="t1"),
        assistant("It is rainy in Oslo."),
    )
    prompt = await build_prompt_from_session(session, "minimal")
    assert prompt == [
        u("Weather in Oslo?"),
        a_calls(None, call("call_t1", "get_weather")),
        t("call_t1", "rainy"),
        a(None),
    ]


async def test_task_focused_skips_replies_without_text() -> None:
    reply = assistant({"content": None, "tool_calls": []}, event_id="a2")
    session = session_of(user("Sum 2 and 3"), assistant("It is 5."), reply)
    prompt = await build_prompt_from_session(session, PromptStrategy.TASK_FOCUSED)
    assert prompt == [u("Sum 2 and 3"), a("It is 5.")]


QUERY_EXPECTED = {
    PromptStrategy.MINIMAL: [u("Plan a trip to Rome"), a(None)],
    PromptStrategy.TASK_FOCUSED: CHAT_EXPECTED[PromptStrategy.TASK_FOCUSED],
    PromptStrategy.TOOL_FOCUSED: CHAT_EXPECTED[PromptStrategy.TOOL_FOCUSED],
    PromptStrategy.CONVERSATION: CHAT_EXPECTED[PromptStrategy.CONVERSATION],
    PromptStrategy.HIERARCHICAL: CHAT_EXPECTED[PromptStrategy.CONVERSATION],
}


@pytest.mark.parametrize("strategy", list(PromptStrategy))
async def test_current_query_is_appended_as_the_newest_user_message(
    strategy: PromptStrategy,
) -> None:
    prompt = await build_prompt_from_session(chat_session(), strategy, current_query="Hotels?")
    assert prompt == [*QUERY_EXPECTED[strategy], u("Hotels?")]


async def test_strategy_given_as_its_value() -> None:
    by_value = await build_prompt_from_session(tool_session(), "tool")
    assert by_value == TOOL_EXPECTED[PromptStrategy.TOOL_FOCUSED]


async def test_empty_session_gives_an_empty_prompt() -> None:
    for strategy in PromptStrategy:
        assert await build_prompt_from_session(Session(), strategy) == []
    assert await build_prompt_from_session(Session(), current_query="Hi") == [u("Hi")]


async def test_prompts_module_is_the_same_api() -> None:
    import llm_sessions.prompts as prompts
    import llm_sessions.session_prompt_builder as builder

    assert alias_build is build_prompt_from_session
    assert prompts.PromptStrategy is builder.PromptStrategy
    assert prompts.truncate_prompt_to_token_limit is builder.truncate_prompt_to_token_limit
    assert sorted(prompts.__all__) == sorted(builder.__all__)


def test_strategy_values() -> None:
    assert {m.name: m.value for m in PromptStrategy} == {
        "MINIMAL": "minimal",
        "TASK_FOCUSED": "task",
        "TOOL_FOCUSED": "tool",
        "CONVERSATION": "conversation",
        "HIERARCHICAL": "hierarchical",
    }
    assert PromptStrategy("task") is PromptStrategy.TASK_FOCUSED
