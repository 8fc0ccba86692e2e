"""The unified SessionManager and the track_* helpers (seed 003), including infinite mode."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from openai.types.chat import ChatCompletion

from llm_sessions import (
    EventSource,
    EventType,
    Session,
    SessionManager,
    quick_conversation,
    track_conversation,
    track_infinite_conversation,
    track_llm_call,
)
from llm_sessions.models import CountMethod
from llm_sessions.storage import EventLogStore, InMemorySessionStore, SessionStoreProvider
from llm_sessions.tokens import count_text

STATS_KEYS = {
    "unpriced_models",
    "session_id",
    "session_segments",
    "session_chain",
    "total_events",
    "user_messages",
    "ai_messages",
    "tool_calls",
    "total_tokens",
    "estimated_cost",
    "created_at",
    "last_update",
    "infinite_context",
    "events_by_type",
}


async def _load(store: InMemorySessionStore, session_id: str) -> Session[Any]:
    session = await store.get(session_id)
    assert session is not None, session_id
    return session


# -- recording ------------------------------------------------------------------------------


async def test_user_says_records_a_user_message(store: InMemorySessionStore) -> None:
    sm = SessionManager()
    await sm.user_says("Hello, world!", channel="web", attempt=2)
    (event,) = (await _load(store, sm.session_id)).events
    assert (event.source, event.type) == (EventSource.USER, EventType.MESSAGE)
    assert event.message == "Hello, world!"
    assert event.metadata == {"channel": "web", "attempt": 2}
    assert event.token_usage is not None
    assert event.token_usage.prompt_tokens == 4
    assert event.token_usage.model == "gpt-4o-mini"


async def test_ai_responds_records_model_and_provider(store: InMemorySessionStore) -> None:
    sm = SessionManager()
    await sm.user_says("Hello")
    await sm.ai_responds("Hi there, friend", model="gpt-4o", provider="openai", latency_ms=12)
    reply = (await _load(store, sm.session_id)).events[-1]
    assert (reply.source, reply.type) == (EventSource.LLM, EventType.MESSAGE)
    assert reply.message == "Hi there, friend"
    assert reply.metadata["model"] == "gpt-4o"
    assert reply.metadata["provider"] == "openai"
    assert reply.metadata["latency_ms"] == 12
    assert reply.token_usage is not None
    assert reply.token_usage.model == "gpt-4o"
    assert reply.token_usage.prompt_tokens == 0
    assert reply.token_usage.completion_tokens == count_text("Hi there, friend", "gpt-4o").tokens


async def test_ai_responds_defaults_to_unknown_model_and_provider(
    store: InMemorySessionStore,
) -> None:
    sm = SessionManager()
    await sm.ai_responds("Hi")
    reply = (await _load(store, sm.session_id)).events[-1]
    assert (reply.metadata["model"], reply.metadata["provider"]) == ("unknown", "unknown")


async def test_tool_used_is_a_child_of_the_latest_reply(store: InMemorySessionStore) -> None:
    sm = SessionManager()
    await sm.user_says("Weather in Paris and Rome?")
    await sm.ai_responds("Checking Paris", model="gpt-4o-mini")
    await sm.ai_responds("Checking Rome too", model="gpt-4o-mini")
    await sm.tool_used("weather", {"city": "Rome"}, {"temp": 21}, request_id="r1")
    await sm.tool_used("weather", {"city": "Atlantis"}, None, error="no such city")
    events = (await _load(store, sm.session_id)).events
    latest_reply = events[2]
    ok, failed = events[3], events[4]
    assert (ok.source, ok.type) == (EventSource.SYSTEM, EventType.TOOL_CALL)
    assert ok.message == {
        "tool": "weather",
        "arguments": {"city": "Rome"},
        "result": {"temp": 21},
        "error": None,
        "success": True,
    }
    assert ok.metadata == {"request_id": "r1"}
    assert ok.parent_event_id == latest_reply.id
    assert failed.parent_event_id == latest_reply.id
    assert failed.message["success"] is False and failed.message["error"] == "no such city"


async def test_a_tool_used_before_any_reply_has_no_parent(store: InMemorySessionStore) -> None:
    sm = SessionManager()
    await sm.user_says("hi")
    await sm.tool_used("lookup", {}, "result")
    assert (await _load(store, sm.session_id)).events[-1].parent_event_id is None


async def test_a_resumed_manager_links_tools_to_the_stored_latest_reply(
    store: InMemorySessionStore,
) -> None:
    first = SessionManager()
    await first.user_says("hi")
    await first.ai_responds("calling a tool", model="gpt-4o-mini")
    resumed = SessionManager(session_id=first.session_id)
    await resumed.tool_used("lookup", {"q": 1}, "found")
    events = (await _load(store, first.session_id)).events
    assert events[-1].parent_event_id == events[1].id


async def test_session_id_is_stable_before_and_after_the_first_call(
    store: InMemorySessionStore,
) -> None:
    sm = SessionManager()
    before = sm.session_id
    assert sm.session_id == before
    assert await store.get(before) is None  # nothing is created until first use
    returned = await sm.user_says("hi")
    assert returned == before == sm.session_id
    assert await sm.ai_responds("hello") == before
    assert await sm.tool_used("t", {}, 1) == before
    assert await store.list_sessions() == [before]


async def test_an_existing_session_id_is_used_as_is(store: InMemorySessionStore) -> None:
    session = await Session.create()
    sm = SessionManager(session_id=session.id)
    assert await sm.user_says("hi") == session.id
    assert len(session.events) == 1
    assert await store.count() == 1


async def test_get_conversation_returns_role_content_timestamp() -> None:
    sm = SessionManager()
    await sm.user_says("Hello")
    await sm.ai_responds("Hi!", model="gpt-4o-mini")
    await sm.tool_used("t", {}, "r")
    await sm.user_says({"structured": True})
    conversation = await sm.get_conversation()
    assert [(t["role"], t["content"]) for t in conversation] == [
        ("user", "Hello"),
        ("assistant", "Hi!"),
        ("user", {"structured": True}),
    ]
    for turn in conversation:
        assert set(turn) == {"role", "content", "timestamp"}
        assert datetime.fromisoformat(turn["timestamp"]).tzinfo is not None


async def test_get_stats_keys_and_exact_values(store: InMemorySessionStore) -> None:
    sm = SessionManager()
    await sm.user_says("Hello")
    await sm.ai_responds("Hi!", model="gpt-4o-mini")
    await sm.tool_used("t", {"a": 1}, "r")
    await sm.user_says("More?")
    await sm.ai_responds("Sure.", model="gpt-4o")
    stats = await sm.get_stats()
    session = await _load(store, sm.session_id)
    assert set(stats) == STATS_KEYS
    assert stats["session_id"] == sm.session_id
    assert stats["session_segments"] == 1
    assert stats["session_chain"] == [sm.session_id]
    assert stats["total_events"] == 5
    assert (stats["user_messages"], stats["ai_messages"], stats["tool_calls"]) == (2, 2, 1)
    assert stats["total_tokens"] == session.total_tokens > 0
    assert stats["estimated_cost"] == pytest.approx(session.total_cost)
    assert stats["estimated_cost"] > 0
    assert stats["unpriced_models"] == []
    assert stats["created_at"] == session.metadata.created_at.isoformat()
    assert stats["last_update"] == session.events[-1].timestamp.isoformat()
    assert stats["infinite_context"] is False


async def test_reported_usage_wins_over_counting(store: InMemorySessionStore) -> None:
    sm = SessionManager()
    await sm.user_says("hi")
    await sm.ai_responds(
        "a reply much longer than seven tokens, counted locally it would be more",
        model="gpt-4o-mini",
        usage={"prompt_tokens": 50, "completion_tokens": 7},
    )
    reply = (await _load(store, sm.session_id)).events[-1]
    assert reply.token_usage is not None
    assert (reply.token_usage.prompt_tokens, reply.token_usage.completion_tokens) == (50, 7)
    assert reply.token_usage.count_method is CountMethod.REPORTED
    assert "usage" not in reply.metadata


async def test_an_explicit_store_is_used_instead_of_the_default(
    store: InMemorySessionStore,
) -> None:
    other = InMemorySessionStore()
    sm = SessionManager(store=other)
    await sm.user_says("hi")
    assert await other.count() == 1
    assert await store.count() == 0


# -- helpers --------------------------------------------------------------------------------


async def test_track_conversation(store: InMemorySessionStore) -> None:
    session_id = await track_conversation("Hi", "Hello!", model="gpt-4o", provider="openai")
    session = await _load(store, session_id)
    assert [(e.source, e.message) for e in session.events] == [
        (EventSource.USER, "Hi"),
        (EventSource.LLM, "Hello!"),
    ]
    assert session.events[1].metadata["model"] == "gpt-4o"
    assert session.events[1].metadata["provider"] == "openai"


def _sync_llm(text: str) -> str:
    return f"echo: {text}"


async def _async_llm(text: str) -> str:
    return f"echo: {text}"


def _object_llm(text: str) -> Any:
    return SimpleNamespace(content=f"echo: {text}")


@pytest.mark.parametrize("llm", [_sync_llm, _async_llm, _object_llm], ids=["sync", "async", "obj"])
async def test_track_llm_call_reads_the_reply(llm: Any, store: InMemorySessionStore) -> None:
    text, session_id = await track_llm_call("ping", llm, model="gpt-4o-mini", provider="test")
    assert text == "echo: ping"
    session = await _load(store, session_id)
    assert [e.message for e in session.events] == ["ping", "echo: ping"]
    reply = session.events[1]
    assert reply.metadata["provider"] == "test"
    assert reply.token_usage is not None
    assert reply.token_usage.count_method is CountMethod.TOKENIZER


async def test_track_llm_call_with_an_openai_style_dict(store: InMemorySessionStore) -> None:
    def openai_like(text: str) -> dict[str, Any]:
        return {
            "choices": [{"message": {"role": "assistant", "content": f"dict: {text}"}}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
        }

    text, session_id = await track_llm_call("ping", openai_like, model="gpt-4o-mini")
    assert text == "dict: ping"
    reply = (await _load(store, session_id)).events[1]
    assert reply.message == "dict: ping"
    assert reply.token_usage is not None
    assert (reply.token_usage.prompt_tokens, reply.token_usage.completion_tokens) == (11, 3)
    assert reply.token_usage.count_method is CountMethod.REPORTED


async def test_track_llm_call_with_an_openai_chat_completion(store: InMemorySessionStore) -> None:
    completion = ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "from the SDK"},
                }
            ],
            "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
        }
    )

    async def call(text: str) -> ChatCompletion:
        return completion

    text, session_id = await track_llm_call("ping", call, model="gpt-4o-mini")
    assert text == "from the SDK"
    reply = (await _load(store, session_id)).events[1]
    assert reply.token_usage is not None
    assert (reply.token_usage.prompt_tokens, reply.token_usage.completion_tokens) == (9, 4)


async def test_track_llm_call_uses_a_given_session_manager(store: InMemorySessionStore) -> None:
    sm = SessionManager()
    await sm.user_says("first")
    _, session_id = await track_llm_call("second", _sync_llm, session_manager=sm)
    assert session_id == sm.session_id
    assert [t["content"] for t in await sm.get_conversation()] == [
        "first",
        "second",
        "echo: second",
    ]
    assert await store.count() == 1


async def test_quick_conversation_returns_stats(store: InMemorySessionStore) -> None:
    stats = await quick_conversation("Hi", "Hello!")
    assert set(stats) == STATS_KEYS
    assert (stats["user_messages"], stats["ai_messages"], stats["total_events"]) == (1, 1, 2)
    assert stats["infinite_context"] is False
    assert await store.get(stats["session_id"]) is not None


async def test_track_infinite_conversation(store: InMemorySessionStore) -> None:
    session_id = await track_infinite_conversation("Hi", "Hello!", model="gpt-4o-mini")
    stats = await SessionManager(session_id, infinite_context=True).get_stats()
    assert stats["infinite_context"] is True
    assert stats["session_chain"] == [session_id]
    assert (stats["user_messages"], stats["ai_messages"]) == (1, 1)


# -- infinite mode --------------------------------------------------------------------------


async def _scripted(sm: SessionManager, turns: int, tools_on: set[int]) -> list[str]:
    """Run ``turns`` exchanges; returns every message text in order."""
    said: list[str] = []
    for turn in range(1, turns + 1):
        question = f"Question {turn}: what about topic {turn}?"
        answer = f"Answer {turn}: topic {turn} is explained."
        await sm.user_says(question)
        await sm.ai_responds(answer, model="gpt-4o-mini")
        said += [question, answer]
        if turn in tools_on:
            await sm.tool_used("search", {"q": f"topic {turn}"}, {"hits": turn})
    return said


async def test_infinite_mode_splits_by_turns_into_linked_segments(
    store: InMemorySessionStore,
) -> None:
    sm = SessionManager(infinite_context=True, token_threshold=10**6, max_turns_per_segment=2)
    root_id = sm.session_id
    said = await _scripted(sm, turns=5, tools_on={1, 3, 5})

    chain = await sm.get_session_chain()
    assert len(chain) == 3 and chain[0] == root_id and chain[-1] == sm.session_id
    segments = [await _load(store, sid) for sid in chain]
    assert segments[0].parent_id is None
    for previous, segment in itertools.pairwise(segments):
        assert segment.parent_id == previous.id
        assert segment.id in previous.child_ids
        assert segment.events[0].type is EventType.SUMMARY
        assert segment.events[0].source is EventSource.SYSTEM
    assert [e.type for e in segments[0].events].count(EventType.SUMMARY) == 0

    stats = await sm.get_stats()
    assert stats["session_segments"] == 3
    assert stats["session_chain"] == chain
    assert (stats["user_messages"], stats["ai_messages"], stats["tool_calls"]) == (5, 5, 3)
    assert stats["total_events"] == 10 + 3 + 2
    assert stats["total_tokens"] == sum(s.total_tokens for s in segments)
    assert stats["infinite_context"] is True
    assert stats["created_at"] == segments[0].metadata.created_at.isoformat()

    assert [t["content"] for t in await sm.get_conversation()] == said
    current_only = await sm.get_conversation(include_all_segments=False)
    assert [t["content"] for t in current_only] == said[-2:]
    current_stats = await sm.get_stats(include_all_segments=False)
    assert (current_stats["user_messages"], current_stats["session_segments"]) == (1, 1)


async def test_infinite_mode_splits_by_tokens() -> None:
    question, answer = "Tell me about the history of Rome.", "Rome was founded in 753 BC."
    threshold = (
        count_text(question, "gpt-4o-mini").tokens + count_text(answer, "gpt-4o-mini").tokens
    )
    at_threshold = SessionManager(infinite_context=True, token_threshold=threshold)
    below = SessionManager(infinite_context=True, token_threshold=threshold + 1)
    for sm in (at_threshold, below):
        await sm.user_says(question)
        await sm.ai_responds(answer, model="gpt-4o-mini")
        await sm.user_says("And then?")
    assert len(await at_threshold.get_session_chain()) == 2
    assert len(await below.get_session_chain()) == 1


async def test_ai_replies_and_tools_never_start_a_segment() -> None:
    sm = SessionManager(infinite_context=True, token_threshold=1, max_turns_per_segment=1)
    await sm.user_says("one")
    for index in range(3):
        await sm.ai_responds(f"reply {index}", model="gpt-4o-mini")
        await sm.tool_used("t", {}, index)
    assert len(await sm.get_session_chain()) == 1
    await sm.user_says("two")
    assert len(await sm.get_session_chain()) == 2


async def test_get_messages_for_llm_starts_with_the_summary(store: InMemorySessionStore) -> None:
    sm = SessionManager(infinite_context=True, max_turns_per_segment=2)
    await _scripted(sm, turns=3, tools_on=set())
    segment = await _load(store, sm.session_id)
    summary = segment.events[0]
    assert summary.type is EventType.SUMMARY

    messages = await sm.get_messages_for_llm()
    assert messages[0]["role"] == "system"
    assert summary.message in messages[0]["content"]
    assert messages[-1] == {"role": "assistant", "content": "Answer 3: topic 3 is explained."}
    assert {m["role"] for m in messages} <= {"system", "user", "assistant", "tool"}


@pytest.mark.parametrize("start", [0, 1, 2])
async def test_a_new_manager_resumes_the_whole_chain_from_any_segment(start: int) -> None:
    sm = SessionManager(infinite_context=True, max_turns_per_segment=2)
    said = await _scripted(sm, turns=5, tools_on={2})
    chain = await sm.get_session_chain()
    stats = await sm.get_stats()

    resumed = SessionManager(session_id=chain[start], infinite_context=True)
    assert await resumed.get_session_chain() == chain
    assert [t["content"] for t in await resumed.get_conversation()] == said
    assert resumed.session_id == chain[-1]
    resumed_stats = await resumed.get_stats()
    for key in ("user_messages", "ai_messages", "tool_calls", "total_events", "total_tokens"):
        assert resumed_stats[key] == stats[key], key
    assert await resumed.user_says("Question 6?") == chain[-1]  # the tip has room for it


async def test_a_plain_manager_on_a_segment_sees_only_that_segment() -> None:
    sm = SessionManager(infinite_context=True, max_turns_per_segment=2)
    said = await _scripted(sm, turns=3, tools_on=set())
    chain = await sm.get_session_chain()
    plain = SessionManager(session_id=chain[0])
    assert [t["content"] for t in await plain.get_conversation()] == said[:4]
    assert await plain.get_session_chain() == [chain[0]]


async def test_a_custom_summarizer_writes_the_summary(store: InMemorySessionStore) -> None:
    calls: list[tuple[list[dict[str, str]], str]] = []

    async def summarizer(messages: list[dict[str, str]], model: str) -> str:
        calls.append((messages, model))
        return f"SUMMARY #{len(calls)}: the user asked about topics"

    sm = SessionManager(infinite_context=True, max_turns_per_segment=1, summarizer=summarizer)
    await _scripted(sm, turns=3, tools_on=set())

    assert len(calls) == 2
    first_request = "\n".join(m["content"] for m in calls[0][0])
    assert "Question 1: what about topic 1?" in first_request
    assert "Answer 1: topic 1 is explained." in first_request
    second_request = "\n".join(m["content"] for m in calls[1][0])
    assert "SUMMARY #1" in second_request  # the summary is rolling
    chain = await sm.get_session_chain()
    summaries = [(await _load(store, sid)).events[0].message for sid in chain[1:]]
    assert summaries == [
        "SUMMARY #1: the user asked about topics",
        "SUMMARY #2: the user asked about topics",
    ]


@pytest.mark.parametrize("fallback", [False, True])
async def test_summary_fallback_is_passed_through(
    store: InMemorySessionStore, caplog: pytest.LogCaptureFixture, fallback: bool
) -> None:
    async def summarizer(messages: list[dict[str, str]], model: str) -> str:
        raise ConnectionError("summarizer down")

    sm = SessionManager(
        infinite_context=True,
        max_turns_per_segment=1,
        summarizer=summarizer,
        summary_fallback=fallback,
    )
    await sm.user_says("Question 0: what about topic 0?")
    if not fallback:
        with pytest.raises(ConnectionError, match="summarizer down"):
            await sm.user_says("Question 1: what about topic 1?")
        assert len(await sm.get_session_chain()) == 1
        return
    with caplog.at_level("WARNING", logger="llm_sessions.summaries"):
        await sm.user_says("Question 1: what about topic 1?")
    assert "summarizer down" in caplog.text
    chain = await sm.get_session_chain()
    assert len(chain) == 2
    segment = await _load(store, chain[1])
    assert segment.events[0].type is EventType.SUMMARY
    assert "topic 0" in segment.events[0].message  # the extractive summary
    assert segment.events[-1].message == "Question 1: what about topic 1?"


async def test_summary_fallback_survives_a_delete(store: InMemorySessionStore) -> None:
    async def summarizer(messages: list[dict[str, str]], model: str) -> str:
        raise ConnectionError("summarizer down")

    sm = SessionManager(
        infinite_context=True, max_turns_per_segment=1, summarizer=summarizer, summary_fallback=True
    )
    await sm.user_says("Question 0: what about topic 0?")
    assert await sm.delete() == 1
    await sm.user_says("Question 1: what about topic 1?")
    await sm.user_says("Question 2: what about topic 2?")  # a new segment: the fallback summary
    chain = await sm.get_session_chain()
    assert len(chain) == 2
    assert (await _load(store, chain[1])).events[0].type is EventType.SUMMARY


async def test_a_summarizer_may_return_an_openai_style_reply(store: InMemorySessionStore) -> None:
    async def summarizer(messages: list[dict[str, str]], model: str) -> dict[str, Any]:
        return {"choices": [{"message": {"role": "assistant", "content": "dict summary"}}]}

    sm = SessionManager(infinite_context=True, max_turns_per_segment=1, summarizer=summarizer)
    await _scripted(sm, turns=2, tools_on=set())
    assert (await _load(store, sm.session_id)).events[0].message == "dict summary"


async def test_a_failing_summarizer_propagates_and_leaves_no_new_segment(
    store: InMemorySessionStore,
) -> None:
    async def summarizer(messages: list[dict[str, str]], model: str) -> str:
        raise RuntimeError("summary model is down")

    sm = SessionManager(infinite_context=True, max_turns_per_segment=1, summarizer=summarizer)
    await sm.user_says("Question 1?")
    await sm.ai_responds("Answer 1.", model="gpt-4o-mini")
    count = await store.count()
    chain = await sm.get_session_chain()
    stats = await sm.get_stats()
    root = await _load(store, sm.session_id)
    child_ids = list(root.child_ids)
    state = dict(root.state)

    with pytest.raises(RuntimeError, match="summary model is down"):
        await sm.user_says("Question 2?")

    assert await store.count() == count
    assert await sm.get_session_chain() == chain
    assert await sm.get_stats() == stats
    assert root.child_ids == child_ids and root.state == state
    resumed = SessionManager(session_id=chain[0], infinite_context=True)
    assert await resumed.get_session_chain() == chain


async def test_infinite_mode_resumes_from_storage_alone(
    json_store: EventLogStore, reopen: Callable[[], EventLogStore]
) -> None:
    SessionStoreProvider.set_store(json_store)
    sm = SessionManager(infinite_context=True, max_turns_per_segment=2)
    said = await _scripted(sm, turns=5, tools_on={1, 4})
    chain = await sm.get_session_chain()
    stats = await sm.get_stats()
    assert len(chain) == 3

    SessionStoreProvider.set_store(reopen())  # a new process with the same database
    resumed = SessionManager(session_id=chain[1], infinite_context=True, max_turns_per_segment=2)
    assert await resumed.get_session_chain() == chain
    assert [t["content"] for t in await resumed.get_conversation()] == said
    resumed_stats = await resumed.get_stats()
    for key in ("user_messages", "ai_messages", "tool_calls", "total_events", "total_tokens"):
        assert resumed_stats[key] == stats[key], key
    await resumed.user_says("Question 6?")
    await resumed.ai_responds("Answer 6.", model="gpt-4o-mini")
    await resumed.user_says("Question 7?")  # the tip is full: a new segment
    new_chain = await resumed.get_session_chain()
    assert new_chain[:3] == chain and len(new_chain) == 4

    again = SessionManager(session_id=chain[0], infinite_context=True)
    SessionStoreProvider.set_store(reopen())
    assert await again.get_session_chain() == new_chain
    contents = [t["content"] for t in await again.get_conversation()]
    assert contents == [*said, "Question 6?", "Answer 6.", "Question 7?"]


async def test_a_plain_session_manager_reloads_its_events_from_storage(
    json_store: EventLogStore, reopen: Callable[[], EventLogStore]
) -> None:
    SessionStoreProvider.set_store(json_store)
    sm = SessionManager()
    await sm.user_says("Hello")
    await sm.ai_responds(
        "Hi!", model="gpt-4o-mini", usage={"prompt_tokens": 5, "completion_tokens": 2}
    )
    await sm.tool_used("t", {"a": 1}, {"ok": True})
    SessionStoreProvider.set_store(reopen())
    resumed = SessionManager(session_id=sm.session_id)
    stats = await resumed.get_stats()
    assert (stats["user_messages"], stats["ai_messages"], stats["tool_calls"]) == (1, 1, 1)
    session = await SessionStoreProvider.get_store().get(sm.session_id)
    assert session is not None
    assert session.events[2].parent_event_id == session.events[1].id
    assert session.events[1].token_usage is not None
    assert session.events[1].token_usage.total_tokens == 7
