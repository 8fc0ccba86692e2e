"""Behaviours the original packages' users rely on, beyond their import paths."""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock

import pytest

from llm_sessions import SessionManager
from llm_sessions.infinite_conversation import InfiniteConversationManager
from llm_sessions.models import EventSource, EventType, Session
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor, ToolResult
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
