"""How events become messages: tool calls and their replies, summaries, odd messages."""

from __future__ import annotations

from typing import Any

from prompt_factories import (
    a,
    a_calls,
    assert_tool_pairs_whole,
    assistant,
    call,
    s,
    session_of,
    summary,
    system,
    t,
    tool,
    u,
    user,
)

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.prompting.render import derived_call_id
from llm_sessions.session_prompt_builder import PromptStrategy, build_prompt_from_session

CONVERSATION = PromptStrategy.CONVERSATION


async def test_tool_linked_through_metadata_parent_event_id() -> None:
    reply = assistant("Checking.", event_id="a1")
    linked: SessionEvent[Any] = SessionEvent(
        message={"tool_name": "lookup", "result": [1, 2]},
        source=EventSource.SYSTEM,
        type=EventType.TOOL_CALL,
        metadata={"parent_event_id": "a1"},
        id="t1",
    )
    prompt = await build_prompt_from_session(session_of(user("q"), reply, linked), CONVERSATION)
    assert prompt == [
        u("q"),
        a_calls("Checking.", call("call_t1", "lookup")),
        t("call_t1", "[1, 2]"),
    ]


async def test_linked_tool_events_join_their_reply_even_after_later_messages() -> None:
    reply = assistant("Working on it.", event_id="a1")
    session = session_of(
        user("q1"),
        reply,
        user("q2"),
        tool(reply, "slow_job", "done", event_id="t1"),  # finished after the next question
    )
    prompt = await build_prompt_from_session(session, CONVERSATION)
    assert prompt == [
        u("q1"),
        a_calls("Working on it.", call("call_t1", "slow_job")),
        t("call_t1", "done"),
        u("q2"),
    ]


async def test_unlinked_tool_joins_the_reply_just_before_it() -> None:
    session = session_of(
        user("q"),
        assistant("Let me search.", event_id="a1"),
        tool(None, "search", "found it", event_id="t1"),
    )
    prompt = await build_prompt_from_session(session, CONVERSATION)
    assert prompt == [
        u("q"),
        a_calls("Let me search.", call("call_t1", "search")),
        t("call_t1", "found it"),
    ]


async def test_unlinked_tool_after_a_user_message_gets_its_own_call_message() -> None:
    session = session_of(
        assistant("Hello!"),
        user("q"),
        tool(None, "search", "x", event_id="t1"),
        tool(None, "search", "y", event_id="t2"),
        assistant("Found x and y."),
    )
    prompt = await build_prompt_from_session(session, CONVERSATION)
    assert prompt == [
        a("Hello!"),
        u("q"),
        a_calls(None, call("call_t1", "search"), call("call_t2", "search")),
        t("call_t1", "x"),
        t("call_t2", "y"),
        a("Found x and y."),
    ]


async def test_tool_at_the_start_of_a_session() -> None:
    session = session_of(tool(None, "boot", "ok", event_id="t1"), user("q"))
    prompt = await build_prompt_from_session(session, CONVERSATION)
    assert prompt == [a_calls(None, call("call_t1", "boot")), t("call_t1", "ok"), u("q")]


async def test_tool_whose_parent_is_a_user_message_follows_that_message() -> None:
    question = user("q", event_id="u1")
    session = session_of(question, assistant("answer"), tool(question, "log", "ok", event_id="t1"))
    prompt = await build_prompt_from_session(session, CONVERSATION)
    assert prompt == [
        u("q"),
        a_calls(None, call("call_t1", "log")),
        t("call_t1", "ok"),
        a("answer"),
    ]


async def test_tool_with_a_parent_not_in_the_session_is_left_out() -> None:
    stray = tool(None, "lookup", "x", event_id="t1")
    stray.parent_event_id = "missing-event"
    prompt = await build_prompt_from_session(session_of(user("q"), stray), CONVERSATION)
    assert prompt == [u("q")]


async def test_declared_tool_calls_are_matched_by_id_and_by_name() -> None:
    reply = assistant(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                call("call_A", "weather", '{"city": "Rome"}'),
                call("call_B", "time", '{"tz": "CET"}'),
                call("call_C", "unanswered"),
            ],
        },
        event_id="a1",
    )
    session = session_of(
        user("q"),
        reply,
        tool(reply, "time", "12:00", event_id="t1"),  # no id: matched by name
        tool(reply, "weather", "sunny", event_id="t2", call_id="call_A"),
    )
    prompt = await build_prompt_from_session(session, PromptStrategy.TOOL_FOCUSED)
    assert prompt == [
        u("q"),
        a_calls(
            None,
            call("call_B", "time", '{"tz": "CET"}'),
            call("call_A", "weather", '{"city": "Rome"}'),
        ),
        t("call_B", "12:00"),
        t("call_A", "sunny"),
    ]


async def test_declared_calls_without_results_are_left_out() -> None:
    reply = assistant({"content": "Thinking", "tool_calls": [call("call_X", "search")]})
    prompt = await build_prompt_from_session(session_of(user("q"), reply), CONVERSATION)
    assert prompt == [u("q"), a("Thinking")]
    assert_tool_pairs_whole(prompt)


async def test_explicit_tool_call_id_and_duplicates() -> None:
    reply = assistant("Two calls.", event_id="a1")
    session = session_of(
        user("q"),
        reply,
        tool(reply, "f", 1, event_id="t1", call_id="call_same"),
        tool(reply, "f", 2, event_id="t2", call_id="call_same"),
    )
    prompt = await build_prompt_from_session(session, CONVERSATION)
    assert prompt[1]["tool_calls"] == [call("call_same", "f"), call("call_t2", "f")]
    assert [m["tool_call_id"] for m in prompt[2:]] == ["call_same", "call_t2"]
    assert [m["content"] for m in prompt[2:]] == ["1", "2"]


async def test_arguments_and_results_render_as_json() -> None:
    reply = assistant("Calc.", event_id="a1")
    session = session_of(
        user("q"),
        reply,
        tool(reply, "calc", {"sum": 5, "note": "café"}, event_id="t1", arguments={"a": [2, 3]}),
        tool(reply, "raw", "text result", event_id="t2", arguments='{"already": "json"}'),
        tool(reply, "broken", {"partial": 1}, event_id="t3", error="boom"),
    )
    prompt = await build_prompt_from_session(session, CONVERSATION)
    calls = prompt[1]["tool_calls"]
    assert [c["function"]["arguments"] for c in calls] == [
        '{"a":[2,3]}',
        '{"already": "json"}',
        "{}",
    ]
    assert [m["content"] for m in prompt[2:]] == [
        '{"sum": 5, "note": "café"}',
        "text result",
        '{"error": "boom"}',
    ]


async def test_arguments_that_are_not_json_text_are_quoted() -> None:
    reply = assistant("Calls.", event_id="a1")
    session = session_of(
        user("q"),
        reply,
        tool(reply, "f", 1, event_id="t1", arguments="Rome"),
        tool(reply, "f", 2, event_id="t2", arguments=""),
    )
    prompt = await build_prompt_from_session(session, CONVERSATION)
    assert [c["function"]["arguments"] for c in prompt[1]["tool_calls"]] == ['"Rome"', "{}"]


async def test_tool_event_older_than_its_parent_is_left_out() -> None:
    reply = assistant("late reply", event_id="a1")
    early = tool(reply, "f", 1, event_id="t1")
    prompt = await build_prompt_from_session(session_of(user("q"), early, reply), CONVERSATION)
    assert prompt == [u("q"), a("late reply")]


def test_derived_call_ids() -> None:
    assert derived_call_id("0b9f1c2e-1111-4222-8333-444455556666") == (
        "call_0b9f1c2e111142228333444455556666"
    )
    long_id = "x" * 100
    derived = derived_call_id(long_id)
    assert derived.startswith("call_") and len(derived) <= 40
    assert derived != derived_call_id("x" * 99)
    assert derived_call_id("odd id!") != derived_call_id("odd id?")


async def test_summaries_system_messages_and_references() -> None:
    session = session_of(
        system("Be brief."),
        summary("Earlier: the user asked about Rome."),
        user({"role": "user", "content": "dict content"}),
        SessionEvent(message={"doc": "ref-1"}, type=EventType.REFERENCE),
        SessionEvent(message="bridge text", type=EventType.CONTEXT_BRIDGE),
        summary({"summary": "dict summary"}),
        assistant({"unexpected": "shape"}),
        user(["a", 1]),
    )
    prompt = await build_prompt_from_session(session, CONVERSATION)
    assert prompt == [
        s("Be brief."),
        s("Earlier: the user asked about Rome."),
        u("dict content"),
        s("bridge text"),
        s("dict summary"),
        a('{"unexpected":"shape"}'),
        u('["a",1]'),
    ]


async def test_tool_pairs_whole_in_a_busy_session() -> None:
    first = assistant("one", event_id="a1")
    second = assistant({"content": None, "tool_calls": [call("c9", "g")]}, event_id="a2")
    session = session_of(
        user("q"),
        first,
        tool(first, "f", 1),
        tool(None, "f", 2),
        second,
        tool(second, "g", 3, call_id="c9"),
        user("q2"),
        tool(None, "h", 4),
        tool(first, "f", 5),
    )
    for strategy in PromptStrategy:
        assert_tool_pairs_whole(await build_prompt_from_session(session, strategy))
