"""Segmented conversations on every store: no runaway segmentation, and a chain that survives
the deletion of one of its segments (read back through new store objects)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions import SessionManager
from llm_sessions.exceptions import SessionNotFound
from llm_sessions.infinite_conversation import InfiniteConversationManager
from llm_sessions.models import EventSource
from llm_sessions.storage import SessionStore
from llm_sessions.tokens import count_text

if TYPE_CHECKING:
    from store_cases import StoreCase

MODEL = "gpt-4o-mini"


class Summarizer:
    """Counts its calls; replies with a summary of ``words`` words."""

    def __init__(self, words: int) -> None:
        self.words = words
        self.calls = 0

    async def __call__(self, messages: list[dict[str, Any]], model: str) -> str:
        self.calls += 1
        return " ".join(f"fact{n}" for n in range(self.words))


def reader(case: StoreCase, writer: SessionStore, segment_id: str) -> SessionManager:
    return SessionManager(
        segment_id, infinite_context=True, max_turns_per_segment=2, store=case.reader(writer)
    )


async def _chat(manager: SessionManager, turns: int) -> None:
    for turn in range(turns):
        await manager.user_says(f"question {turn}")
        await manager.ai_responds(f"answer {turn}", model=MODEL)


async def _chain(case: StoreCase, turns: int, per_segment: int) -> tuple[SessionStore, list[str]]:
    store = case.open()
    writer = SessionManager(infinite_context=True, max_turns_per_segment=per_segment, store=store)
    await _chat(writer, turns)
    return store, await writer.get_session_chain()


async def test_a_long_summary_does_not_make_every_message_a_segment(
    store_case: StoreCase,
) -> None:
    per_turn = count_text("question 0", MODEL).tokens + count_text("answer 0", MODEL).tokens
    store = store_case.open()
    summarizer = Summarizer(words=200)  # far over the threshold, and not cut below
    manager = InfiniteConversationManager(
        token_threshold=3 * per_turn,  # a segment's own messages fill it after 3 turns
        max_turns_per_segment=100,
        store=store,
        max_summary_tokens=10_000,
    )
    current = await SessionManager(store=store).user_says("question 0")
    await manager.process_message(current, "answer 0", EventSource.LLM, summarizer, MODEL)
    for turn in range(1, 8):
        current = await manager.process_message(
            current, f"question {turn}", EventSource.USER, summarizer, MODEL
        )
        await manager.process_message(current, f"answer {turn}", EventSource.LLM, summarizer)
    other = InfiniteConversationManager(store=store_case.reader(store))
    assert len(await other.get_session_chain(current)) == 3  # turns 0-2, 3-5, 6-7
    assert summarizer.calls == 2


async def test_an_over_long_summary_is_cut_to_fit_with_a_warning(
    store_case: StoreCase, caplog: pytest.LogCaptureFixture
) -> None:
    store = store_case.open()
    manager = InfiniteConversationManager(token_threshold=100, max_turns_per_segment=1, store=store)
    root = await SessionManager(store=store).user_says("first question")
    with caplog.at_level("WARNING", logger="llm_sessions.infinite_conversation"):
        second = await manager.process_message(
            root, "second question", EventSource.USER, Summarizer(words=500), model=MODEL
        )
    assert "over max_summary_tokens=50; cut to fit" in caplog.text
    segment = await store_case.reader(store).get(second)
    assert segment is not None
    summary = segment.events[0].message
    assert summary.startswith("fact0 fact1")
    assert count_text(summary, MODEL).tokens <= 50


async def test_deleting_a_middle_segment_leaves_the_conversation_readable(
    store_case: StoreCase,
) -> None:
    store, chain = await _chain(store_case, turns=7, per_segment=2)
    assert len(chain) == 4  # turns 0-1, 2-3, 4-5, 6
    assert await store_case.reader(store).delete(chain[1])

    for segment_id in (chain[0], chain[2], chain[3]):
        manager = reader(store_case, store, segment_id)
        assert await manager.get_session_chain() == [chain[0], chain[2], chain[3]]
        texts = [m["content"] for m in await manager.get_conversation()]
        assert texts[:2] == ["question 0", "answer 0"]
        assert "question 2" not in texts
        assert "question 4" in texts
        assert texts[-1] == "answer 6"

    # A manager given the first segment continues at the newest one.
    resumed = reader(store_case, store, chain[0])
    assert await resumed.user_says("question 7") == chain[3]
    assert (await resumed.get_stats())["session_segments"] == 3


async def test_deleting_the_first_or_the_newest_segment(store_case: StoreCase) -> None:
    store, chain = await _chain(store_case, turns=5, per_segment=2)
    assert len(chain) == 3  # turns 0-1, 2-3, 4
    await store_case.reader(store).delete(chain[0])
    assert await reader(store_case, store, chain[1]).get_session_chain() == chain[1:]

    await store_case.reader(store).delete(chain[2])
    manager = reader(store_case, store, chain[1])
    assert await manager.get_session_chain() == [chain[1]]
    newest = await manager.user_says("question 5")  # chain[1] holds 2 turns: a new segment
    assert newest not in chain
    again = reader(store_case, store, chain[1])
    assert await again.get_session_chain() == [chain[1], newest]


async def test_the_deleted_segment_itself_is_not_found(store_case: StoreCase) -> None:
    store, chain = await _chain(store_case, turns=3, per_segment=1)
    await store_case.reader(store).delete(chain[1])
    strict = SessionManager(
        chain[1], infinite_context=True, store=store_case.reader(store), create=False
    )
    with pytest.raises(SessionNotFound):
        await strict.user_says("hello")
