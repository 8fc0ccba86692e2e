"""InfiniteConversationManager: segmentation, summaries, and reading a chain back from storage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from llm_sessions import EventSource, EventType, Session
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.infinite_conversation import (
    InfiniteConversationManager,
    SummarizationStrategy,
)
from llm_sessions.storage import EventLogStore, InMemorySessionStore, SessionStoreProvider
from llm_sessions.tokens import count_text

Messages = list[dict[str, str]]


class Recorder:
    """An ``llm_callback`` that records each request and replies with a numbered summary."""

    def __init__(self) -> None:
        self.requests: list[tuple[Messages, str]] = []

    async def __call__(self, messages: Messages, model: str) -> str:
        self.requests.append((messages, model))
        return f"summary {len(self.requests)}"


def _ids(sessions: list[Session[Any]]) -> list[str]:
    return [session.id for session in sessions]


async def _exchange(
    manager: InfiniteConversationManager,
    session_id: str,
    turn: int,
    callback: Any,
) -> str:
    session_id = await manager.process_message(
        session_id, f"Question {turn}?", EventSource.USER, callback
    )
    return await manager.process_message(session_id, f"Answer {turn}.", EventSource.LLM, callback)


def _texts(turns: range) -> list[str]:
    return [text for t in turns for text in (f"Question {t}?", f"Answer {t}.")]


async def _conversation(
    manager: InfiniteConversationManager, turns: int, callback: Any
) -> tuple[str, str]:
    root = await Session.create()
    current = root.id
    for turn in range(1, turns + 1):
        current = await _exchange(manager, current, turn, callback)
    return root.id, current


async def test_each_strategy_sends_a_distinct_instruction() -> None:
    instructions: dict[SummarizationStrategy, str] = {}
    for strategy in SummarizationStrategy:
        recorder = Recorder()
        manager = InfiniteConversationManager(
            max_turns_per_segment=1, summarization_strategy=strategy, summary_model="gpt-4o"
        )
        await _conversation(manager, turns=2, callback=recorder)
        assert len(recorder.requests) == 1
        messages, model = recorder.requests[0]
        assert model == "gpt-4o"
        assert messages[0]["role"] == "system"
        assert "Question 1?" in messages[-1]["content"]
        assert "Answer 1." in messages[-1]["content"]
        instructions[strategy] = messages[0]["content"]
    assert len(set(instructions.values())) == len(SummarizationStrategy) == 4


async def test_the_strategy_may_be_given_by_value() -> None:
    manager = InfiniteConversationManager(summarization_strategy="key_points")  # type: ignore[arg-type]
    assert manager.summarization_strategy is SummarizationStrategy.KEY_POINTS


async def test_process_message_returns_the_current_segment(store: InMemorySessionStore) -> None:
    recorder = Recorder()
    manager = InfiniteConversationManager(max_turns_per_segment=1)
    root = await Session.create()
    assert await _exchange(manager, root.id, 1, recorder) == root.id
    second = await manager.process_message(root.id, "Question 2?", EventSource.USER, recorder)
    assert second != root.id
    segment = await store.get(second)
    assert segment is not None
    assert segment.parent_id == root.id
    assert [e.type for e in segment.events] == [EventType.SUMMARY, EventType.MESSAGE]
    assert segment.events[0].message == "summary 1"
    assert segment.events[1].message == "Question 2?"
    # Any id of the conversation leads to its newest segment.
    assert await manager.process_message(root.id, "Answer 2.", EventSource.LLM, recorder) == second
    assert [e.message for e in root.events] == ["Question 1?", "Answer 1."]


async def test_segmentation_by_token_threshold() -> None:
    threshold = (
        count_text("Question 1?", "gpt-4o-mini").tokens
        + count_text("Answer 1.", "gpt-4o-mini").tokens
    )
    for limit, segments in ((threshold, 2), (threshold + 1, 1)):
        manager = InfiniteConversationManager(token_threshold=limit, max_turns_per_segment=100)
        root_id = (await Session.create()).id
        current = await _exchange(manager, root_id, 1, Recorder())
        current = await manager.process_message(
            current, "Question 2?", EventSource.USER, Recorder()
        )
        assert len(await manager.get_session_chain(current)) == segments, limit


async def test_segmentation_by_turns_counts_user_messages() -> None:
    recorder = Recorder()
    manager = InfiniteConversationManager(token_threshold=10**6, max_turns_per_segment=3)
    _, current = await _conversation(manager, turns=7, callback=recorder)
    chain = _ids(await manager.get_session_chain(current))
    assert len(chain) == 3  # turns 1-3, 4-6, 7
    assert len(recorder.requests) == 2


async def test_model_replies_alone_never_fill_a_segment() -> None:
    recorder = Recorder()
    manager = InfiniteConversationManager(token_threshold=10**6, max_turns_per_segment=2)
    root = await Session.create()
    await manager.process_message(root.id, "Question 1?", EventSource.USER, recorder)
    for index in range(6):
        await manager.process_message(root.id, f"part {index}", EventSource.LLM, recorder)
    assert _ids(await manager.get_session_chain(root.id)) == [root.id]
    assert recorder.requests == []


async def test_build_context_gives_summary_then_recent_messages() -> None:
    manager = InfiniteConversationManager(max_turns_per_segment=2)
    _, current = await _conversation(manager, turns=4, callback=Recorder())
    # Segment 2 holds the summary and turns 3-4.
    context = await manager.build_context_for_llm(current, max_messages=3)
    assert context[0]["role"] == "system" and "summary 1" in context[0]["content"]
    assert context[1:] == [
        {"role": "assistant", "content": "Answer 3."},
        {"role": "user", "content": "Question 4?"},
        {"role": "assistant", "content": "Answer 4."},
    ]
    everything = await manager.build_context_for_llm(current, max_messages=10)
    assert [m["content"] for m in everything[1:]] == _texts(range(3, 5))
    no_summary = await manager.build_context_for_llm(current, include_summaries=False)
    assert [m["role"] for m in no_summary] == ["user", "assistant", "user", "assistant"]
    only_summary = await manager.build_context_for_llm(current, max_messages=0)
    assert [m["role"] for m in only_summary] == ["system"]


async def test_build_context_from_an_old_segment_id_uses_the_newest_segment() -> None:
    manager = InfiniteConversationManager(max_turns_per_segment=1)
    root_id, current = await _conversation(manager, turns=3, callback=Recorder())
    from_root = await manager.build_context_for_llm(root_id)
    assert from_root == await manager.build_context_for_llm(current)
    assert "summary 2" in from_root[0]["content"]


async def test_build_context_rejects_a_negative_max_messages() -> None:
    manager = InfiniteConversationManager()
    root = await Session.create()
    with pytest.raises(InvalidInputError, match="max_messages"):
        await manager.build_context_for_llm(root.id, max_messages=-1)


async def test_chain_and_history_from_any_segment() -> None:
    manager = InfiniteConversationManager(max_turns_per_segment=2)
    root_id, current = await _conversation(manager, turns=5, callback=Recorder())
    segments = await manager.get_session_chain(current)
    chain = _ids(segments)
    assert len(chain) == 3 and chain[0] == root_id and chain[-1] == current
    expected = _texts(range(1, 6))
    for session_id in chain:
        assert _ids(await manager.get_session_chain(session_id)) == chain
        history = await manager.get_full_conversation_history(session_id)
        assert [content for _, _, content in history] == expected
        assert [role for role, _, _ in history] == ["user", "assistant"] * 5
        assert [source for _, source, _ in history] == [EventSource.USER, EventSource.LLM] * 5
    messages = [[e for e in s.events if e.type is EventType.MESSAGE] for s in segments]
    assert [len(found) for found in messages] == [4, 4, 2]
    timestamps = [e.timestamp for found in messages for e in found]
    assert timestamps == sorted(timestamps)


async def test_a_new_manager_reads_the_chain_from_the_store() -> None:
    writer = InfiniteConversationManager(max_turns_per_segment=2)
    _, current = await _conversation(writer, turns=5, callback=Recorder())
    chain = _ids(await writer.get_session_chain(current))
    reader = InfiniteConversationManager()
    for session_id in chain:
        assert _ids(await reader.get_session_chain(session_id)) == chain
        history = await reader.get_full_conversation_history(session_id)
        assert [content for _, _, content in history] == _texts(range(1, 6))


async def test_a_new_manager_on_a_fresh_store_object_resumes_the_conversation(
    json_store: EventLogStore, reopen: Callable[[], EventLogStore]
) -> None:
    SessionStoreProvider.set_store(json_store)
    recorder = Recorder()
    writer = InfiniteConversationManager(max_turns_per_segment=2)
    root_id, current = await _conversation(writer, turns=5, callback=recorder)
    chain = _ids(await writer.get_session_chain(current))

    SessionStoreProvider.set_store(reopen())  # as if in a new process
    reader = InfiniteConversationManager(max_turns_per_segment=2)
    assert _ids(await reader.get_session_chain(root_id)) == chain
    history = await reader.get_full_conversation_history(chain[1])
    assert [content for _, _, content in history] == _texts(range(1, 6))
    # Continuing from the root id lands in the newest segment, then starts a new one when full.
    assert await _exchange(reader, root_id, 6, recorder) == chain[-1]
    newest = await reader.process_message(root_id, "Question 7?", EventSource.USER, recorder)
    assert newest not in chain
    assert _ids(await reader.get_session_chain(chain[0])) == [*chain, newest]
    assert "summary 2" in recorder.requests[-1][0][-1]["content"]  # the rolling summary


async def test_explicit_store_is_used() -> None:
    other = InMemorySessionStore()
    manager = InfiniteConversationManager(max_turns_per_segment=1, store=other)
    root = await Session.create(store=other)
    current = await _exchange(manager, root.id, 1, Recorder())
    current = await manager.process_message(current, "Question 2?", EventSource.USER, Recorder())
    assert await other.count() == 2
    assert await SessionStoreProvider.get_store().list_sessions() == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "callback_error",
    [RuntimeError("model unavailable"), TimeoutError("slow")],
    ids=["runtime", "timeout"],
)
async def test_a_failing_callback_propagates_and_leaves_no_half_made_segment(
    callback_error: Exception, store: InMemorySessionStore
) -> None:
    manager = InfiniteConversationManager(max_turns_per_segment=1)

    async def failing(messages: Messages, model: str) -> str:
        raise callback_error

    root = await Session.create()
    await _exchange(manager, root.id, 1, failing)
    before_count = await store.count()
    before_events = [e.id for e in root.events]
    before_state, before_children = dict(root.state), list(root.child_ids)

    with pytest.raises(type(callback_error)):
        await manager.process_message(root.id, "Question 2?", EventSource.USER, failing)

    assert await store.count() == before_count
    assert [e.id for e in root.events] == before_events
    assert (root.state, root.child_ids) == (before_state, before_children)
    assert _ids(await manager.get_session_chain(root.id)) == [root.id]
    assert _ids(await InfiniteConversationManager().get_session_chain(root.id)) == [root.id]

    # A later call with a working model succeeds normally.
    recorder = Recorder()
    new_id = await manager.process_message(root.id, "Question 2?", EventSource.USER, recorder)
    assert _ids(await manager.get_session_chain(root.id)) == [root.id, new_id]


async def test_an_empty_summary_is_refused_and_leaves_nothing(store: InMemorySessionStore) -> None:
    async def empty(messages: Messages, model: str) -> str:
        return "   "

    manager = InfiniteConversationManager(max_turns_per_segment=1)
    root = await Session.create()
    await _exchange(manager, root.id, 1, empty)
    with pytest.raises(InvalidInputError):
        await manager.process_message(root.id, "Question 2?", EventSource.USER, empty)
    assert await store.count() == 1
    assert len(root.events) == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_turns_per_segment": -1}, "max_turns_per_segment"),
        ({"token_threshold": 1.5}, "token_threshold"),
    ],
)
def test_nonsense_limits_are_rejected(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        InfiniteConversationManager(**kwargs)


async def test_a_missing_session_raises_session_not_found() -> None:
    manager = InfiniteConversationManager()
    with pytest.raises(ValueError, match="nope"):
        await manager.process_message("nope", "hi", EventSource.USER, Recorder())
    with pytest.raises(ValueError, match="nope"):
        await manager.get_session_chain("nope")
