"""Behaviours the original packages' users rely on, beyond their import paths."""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock

import pytest

from llm_sessions import SessionManager
from llm_sessions.infinite_conversation import InfiniteConversationManager
from llm_sessions.models import EventSource, EventType, Session, SessionEvent
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor, ToolResult
from llm_sessions.session_prompt_builder import PromptStrategy, build_prompt_from_session
from llm_sessions.storage import InMemorySessionStore

MODEL = "gpt-4o-mini"


async def summarize(messages: list[dict[str, Any]], model: str) -> str:
    return "a summary"


async def failing_summarizer(messages: list[dict[str, Any]], model: str) -> str:
    raise ConnectionError("summarizer down")


async def test_async_init_links_a_child_into_its_parent(store: InMemorySessionStore) -> None:
    parent = await Session.create()
    child = Session(parent_id=parent.id)
    await child.async_init()
    await store.save(child)
    stored_parent = await store.get(parent.id)
    assert stored_parent is not None
    assert stored_parent.child_ids == [child.id]
    assert [s.id for s in await child.ancestors()] == [parent.id]
    assert [s.id for s in await stored_parent.descendants()] == [child.id]
    await child.async_init()  # a second call adds no duplicate
    assert stored_parent.child_ids == [child.id]


async def test_async_init_without_a_stored_parent_changes_nothing(
    store: InMemorySessionStore,
) -> None:
    orphan = Session(parent_id="not-stored")
    await orphan.async_init()
    assert await store.list_sessions() == []


async def test_count_message_tokens_same_for_text_and_content_dict() -> None:
    session = Session()
    text = "How many tokens is this sentence?"
    assert await session.count_message_tokens(text) == await session.count_message_tokens(
        {"content": text}
    )


async def test_token_threshold_zero_starts_a_segment_at_every_user_message(
    store: InMemorySessionStore,
) -> None:
    sm = SessionManager(infinite_context=True, token_threshold=0)
    ids = []
    for turn in range(4):
        ids.append(await sm.user_says(f"question {turn}"))
        await sm.ai_responds(f"answer {turn}", model=MODEL)
    assert len(set(ids)) == 4
    assert await sm.get_session_chain() == ids


async def test_segmentation_goes_through_should_create_new_segment(
    store: InMemorySessionStore,
) -> None:
    manager = InfiniteConversationManager(token_threshold=10**6, max_turns_per_segment=100)
    root = await Session.create()
    decide = AsyncMock(return_value=True)
    manager._should_create_new_segment = decide  # type: ignore[method-assign]
    first = await manager.process_message(root.id, "hi", EventSource.USER, summarize, MODEL)
    assert first != root.id  # the patched decision wins, even on an empty segment
    decide.assert_awaited_once_with(root)
    decide.return_value = False
    second = await manager.process_message(first, "again", EventSource.USER, summarize, MODEL)
    assert second == first


async def test_a_failing_summarizer_reaches_the_caller(store: InMemorySessionStore) -> None:
    sm = SessionManager(
        infinite_context=True, max_turns_per_segment=1, summarizer=failing_summarizer
    )
    await sm.user_says("question 0")
    with pytest.raises(ConnectionError, match="summarizer down"):
        await sm.user_says("question 1")
    assert len(await sm.get_session_chain()) == 1  # nothing was written


async def test_summarizer_fallback_is_explicit_and_logged(
    store: InMemorySessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    manager = InfiniteConversationManager(max_turns_per_segment=1, summary_fallback=True)
    root = await Session.create()
    await manager.process_message(root.id, "question 0", EventSource.USER, failing_summarizer)
    with caplog.at_level("WARNING", logger="llm_sessions.summaries"):
        segment_id = await manager.process_message(
            root.id, "question 1", EventSource.USER, failing_summarizer
        )
    assert "summarizer down" in caplog.text
    segment = await store.get(segment_id)
    assert segment is not None
    assert segment.events[0].type is EventType.SUMMARY
    assert "question 0" in segment.events[0].message


async def test_process_text_must_return_tool_results(store: InMemorySessionStore) -> None:
    from llm_sessions.exceptions import InvalidInputError

    session = await Session.create()
    processor = SessionAwareToolProcessor(session_id=session.id)
    processor.process_text = lambda text: ["not a result"]  # type: ignore[attr-defined]
    reply = {"role": "assistant", "tool_calls": [{"function": {"name": "x", "arguments": "{}"}}]}
    with pytest.raises(InvalidInputError, match="process_text result"):
        await processor.process_llm_message(reply)


def test_tool_result_positional_form_rejects_ambiguity() -> None:
    assert ToolResult("t", {"a": 1}, 2).result == 2
    with pytest.raises(TypeError, match="both by position and by keyword"):
        ToolResult("t", tool="u")
    with pytest.raises(TypeError, match="at most 3"):
        ToolResult("t", {}, 1, 2)


# -- the infinite conversation manager and the minimal prompt, as the originals' tests use them


async def test_get_session_chain_returns_sessions_root_first(store: InMemorySessionStore) -> None:
    root = Session()
    await store.save(root)
    child = Session(parent_id=root.id)
    await store.save(child)
    grandchild = Session(parent_id=child.id)
    await store.save(grandchild)
    chain = await InfiniteConversationManager().get_session_chain(grandchild.id)
    assert all(isinstance(session, Session) for session in chain)
    assert [session.id for session in chain] == [root.id, child.id, grandchild.id]


async def test_segments_chain_as_sessions(store: InMemorySessionStore) -> None:
    manager = InfiniteConversationManager(token_threshold=0)
    root = await Session.create()
    first = await manager.process_message(root.id, "u1", EventSource.USER, summarize)
    await manager.process_message(first, "a1", EventSource.LLM, summarize)
    second = await manager.process_message(first, "u2", EventSource.USER, summarize)
    chain = await manager.get_session_chain(second)
    assert [session.id for session in chain] == [root.id, second]
    assert [e.message for e in chain[0].events] == ["u1", "a1"]


async def test_context_starts_with_the_ancestors_summaries(store: InMemorySessionStore) -> None:
    parent = Session()
    await parent.add_event(
        SessionEvent(message="prev-sum", source=EventSource.SYSTEM, type=EventType.SUMMARY)
    )
    await store.save(parent)
    child = Session(parent_id=parent.id)
    await child.add_event(
        SessionEvent(message="child-msg", source=EventSource.USER, type=EventType.MESSAGE)
    )
    await store.save(child)
    manager = InfiniteConversationManager()
    context = await manager.build_context_for_llm(child.id, include_summaries=True)
    assert context[0]["role"] == "system" and "prev-sum" in context[0]["content"]
    assert context[1] == {"role": "user", "content": "child-msg"}
    without = await manager.build_context_for_llm(child.id, include_summaries=False)
    assert without == [{"role": "user", "content": "child-msg"}]


async def test_full_history_is_role_source_content_tuples(store: InMemorySessionStore) -> None:
    first = Session()
    await first.add_event(SessionEvent(message="Hello", source=EventSource.USER))
    await first.add_event(SessionEvent(message="Hi there!", source=EventSource.LLM))
    await store.save(first)
    second = Session(parent_id=first.id)
    await second.add_event(SessionEvent(message="How are you?", source=EventSource.USER))
    await second.add_event(SessionEvent(message="I'm good!", source=EventSource.LLM))
    await store.save(second)
    history = await InfiniteConversationManager().get_full_conversation_history(second.id)
    assert history == [
        ("user", EventSource.USER, "Hello"),
        ("assistant", EventSource.LLM, "Hi there!"),
        ("user", EventSource.USER, "How are you?"),
        ("assistant", EventSource.LLM, "I'm good!"),
    ]


async def test_a_failing_llm_callback_propagates_from_process_message(
    store: InMemorySessionStore,
) -> None:
    manager = InfiniteConversationManager(token_threshold=0)
    root = await Session.create()
    await manager.process_message(root.id, "u1", EventSource.USER, failing_summarizer)
    with pytest.raises(ConnectionError, match="summarizer down"):
        await manager.process_message(root.id, "u2", EventSource.USER, failing_summarizer)
    assert [s.id for s in await manager.get_session_chain(root.id)] == [root.id]
    stored = await store.get(root.id)
    assert stored is not None and [e.message for e in stored.events] == ["u1"]


async def test_minimal_prompt_sends_the_reply_with_content_none(
    store: InMemorySessionStore,
) -> None:
    session = await Session.create()
    await session.add_event(SessionEvent(message="Weather?", source=EventSource.USER))
    reply = SessionEvent(message="Let me check.", source=EventSource.LLM)
    await session.add_event(reply)
    await session.add_event(
        SessionEvent(
            message={"tool": "weather", "arguments": {}, "result": "sunny"},
            source=EventSource.SYSTEM,
            type=EventType.TOOL_CALL,
            parent_event_id=reply.id,
        )
    )
    prompt = await build_prompt_from_session(session, PromptStrategy.MINIMAL)
    assert prompt[0] == {"role": "user", "content": "Weather?"}
    assert prompt[1]["role"] == "assistant" and prompt[1]["content"] is None
    assert prompt[2]["role"] == "tool" and prompt[2]["content"] == "sunny"
