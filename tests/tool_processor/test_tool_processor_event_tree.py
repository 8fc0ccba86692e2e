"""The event tree: replies with their tool calls beneath them, as text and as nested data."""

from __future__ import annotations

import json
import re
from typing import Any

from chat_messages import assistant, call
from llm_sessions.event_tree import (
    ToolCallStatus,
    build_event_tree,
    event_tree_data,
    render_event_tree,
)
from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor
from llm_sessions.tools import ToolRegistry


async def conversation(session: Session[Any], registry: ToolRegistry) -> None:
    """A user question; a reply naming an unknown tool; a retry with a success, an error and a
    call that succeeds on its second attempt; a cached repeat; a summary; a final answer."""
    flaky_calls = 0

    @registry.register
    async def weather(location: str) -> dict[str, Any]:
        return {"location": location, "temperature": 21}

    @registry.register
    def divide(a: float, b: float) -> float:
        return a / b

    @registry.register
    async def search(query: str) -> list[str]:
        nonlocal flaky_calls
        flaky_calls += 1
        if flaky_calls == 1:
            raise ConnectionError("reset by peer")
        return [f"result for {query}"]

    await session.add_event_and_save(
        SessionEvent(message="Weather in Tokyo, 1/0, and news?", source=EventSource.USER)
    )
    processor = SessionAwareToolProcessor(
        session.id, registry=registry, retry_delay=0, max_retries=1
    )
    retry = assistant(
        call("weather", {"location": "Tokyo"}),
        call("divide", {"a": 1, "b": 0}),
        call("search", {"query": "news"}),
    )
    await processor.process_llm_message(assistant(call("forecast")), lambda prompt: retry)
    await processor.process_llm_message(assistant(call("weather", {"location": "Tokyo"})), None)
    await session.add_event_and_save(
        SessionEvent(
            message="The user asked about Tokyo; it is 21 degrees.",
            source=EventSource.SYSTEM,
            type=EventType.SUMMARY,
        )
    )
    await processor.process_llm_message({"role": "assistant", "content": "21 °C in Tokyo."})


def without_timings(text: str) -> str:
    return re.sub(r" \d+(\.\d)? ms", " <t>", text)


async def test_the_tree_text_shows_success_error_retry_and_cache(
    session: Session[Any], registry: ToolRegistry
) -> None:
    await conversation(session, registry)
    ids = [event.id[:8] for event in session.events]

    text = render_event_tree(session)

    assert without_timings(text).splitlines() == [
        f"• user_message    [{ids[0]}] Weather in Tokyo, 1/0, and news?",
        f"• llm_message     [{ids[1]}] → forecast",
        f"  • tool_call     [{ids[2]}] forecast ❌ error <t>: "
        "no tool with this name is registered (registered: default.w…",
        f"• llm_message     [{ids[3]}] → weather, divide, search (attempt 2)",
        f"  • tool_call     [{ids[4]}] weather ✅ success <t>",
        f"  • tool_call     [{ids[5]}] divide ❌ error <t>: "
        "ZeroDivisionError: float division by zero",
        f"  • tool_call     [{ids[6]}] search ✅ success <t> (2 attempts)",
        f"• llm_message     [{ids[7]}] → weather",
        f"  • tool_call     [{ids[8]}] weather ⚡ cached <t>",
        f"• summary         [{ids[9]}] The user asked about Tokyo; it is 21 degrees.",
        f"• llm_message     [{ids[10]}] 21 °C in Tokyo.",
    ]


async def test_ascii_only_leaves_out_bullets_and_emoji(
    session: Session[Any], registry: ToolRegistry
) -> None:
    await conversation(session, registry)

    text = render_event_tree(session, ascii_only=True)

    assert text.isascii() is False  # the user's own text keeps its characters ("°")
    lines = text.splitlines()
    assert lines[3].startswith("* llm_message ") and "-> weather, divide, search" in lines[3]
    assert lines[4].startswith("  * tool_call ") and " weather success " in lines[4]
    assert all(mark not in text for mark in ("•", "✅", "❌", "⚡", "→"))


async def test_the_tree_as_nested_data(session: Session[Any], registry: ToolRegistry) -> None:
    await conversation(session, registry)

    data = event_tree_data(session)

    assert [node["kind"] for node in data] == [
        "user_message",
        "llm_message",
        "llm_message",
        "llm_message",
        "summary",
        "llm_message",
    ]
    retry = data[2]
    assert [(c["tool"], c["status"], c["attempts"]) for c in retry["children"]] == [
        ("weather", "success", 1),
        ("divide", "error", 1),  # a division by zero would only happen again
        ("search", "success", 2),
    ]
    assert retry["children"][1]["error"] == "ZeroDivisionError: float division by zero"
    assert all(c["duration"] >= 0 and c["tokens"] > 0 for c in retry["children"])
    assert data[3]["children"][0]["status"] == "cached"
    json.dumps(data)  # ready for JSON output as is


async def test_nodes_expose_status_and_children(
    session: Session[Any], registry: ToolRegistry
) -> None:
    await conversation(session, registry)

    roots = build_event_tree(session)

    assert [child.status for child in roots[2].children] == [
        ToolCallStatus.SUCCESS,
        ToolCallStatus.ERROR,
        ToolCallStatus.SUCCESS,
    ]
    assert roots[0].status is None and roots[0].children == []


def test_events_of_any_shape_and_broken_links_still_appear() -> None:
    reply = SessionEvent(message="Checking.", source=EventSource.LLM)
    # the seed's older form: a tool call linked through metadata, named by "tool_name"
    seed_style = SessionEvent(
        message={"tool_name": "get_weather", "result": {"temperature": 72}},
        source=EventSource.SYSTEM,
        type=EventType.TOOL_CALL,
        metadata={"parent_event_id": reply.id},
    )
    orphan = SessionEvent(
        message={"tool": "lost", "error": "boom", "success": False},
        source=EventSource.SYSTEM,
        type=EventType.TOOL_CALL,
        parent_event_id="not-in-this-session",
    )
    first = SessionEvent(message="a", parent_event_id="b-event", id="a-event")
    second = SessionEvent(message="b", parent_event_id="a-event", id="b-event")
    bridge = SessionEvent(
        message={"previous_session": "s1"}, source=EventSource.SYSTEM, type=EventType.REFERENCE
    )

    lines = render_event_tree([reply, seed_style, orphan, first, second, bridge]).splitlines()

    assert lines[0].startswith("• llm_message ")
    assert lines[1].startswith("  • tool_call ") and "get_weather ✅ success" in lines[1]
    assert lines[2].startswith("• tool_call ") and "lost ❌ error: boom" in lines[2]
    assert len(lines) == 6  # the a/b cycle is broken, each event appears once
    assert lines[-1] == f'• reference       [{bridge.id[:8]}] {{"previous_session": "s1"}}'


def test_an_empty_session_renders_as_an_empty_string() -> None:
    assert render_event_tree([]) == ""
    assert event_tree_data([]) == []


def test_a_deep_chain_does_not_hit_the_recursion_limit() -> None:
    events = [SessionEvent(message="root", id="e0")]
    for index in range(1, 3000):
        events.append(
            SessionEvent(message=str(index), id=f"e{index}", parent_event_id=f"e{index - 1}")
        )

    assert len(render_event_tree(events).splitlines()) == 3000
    assert event_tree_data(events)[0]["children"][0]["label"] == "1"
