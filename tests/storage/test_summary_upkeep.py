"""How summaries are kept: the memory store counts each event once, and roots are found
through parents for sessions created without one."""

from __future__ import annotations

from typing import Any

import pytest

from llm_sessions.models import EventSource, EventType, Session, SessionEvent
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.storage._summaries import SummaryScan, root_ids, summary_of


async def test_the_memory_store_counts_only_the_events_added(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counted: list[str] = []
    original = SummaryScan._count

    def spy(self: SummaryScan, event: SessionEvent[Any]) -> None:
        counted.append(event.id)
        original(self, event)

    monkeypatch.setattr(SummaryScan, "_count", spy)
    store = InMemorySessionStore()
    session = await Session.create(store=store)
    for n in range(20):
        await session.add_event_and_save(SessionEvent(message=n, source=EventSource.USER))

    assert len(counted) == 20
    assert (await store.find_sessions()).items[0].event_count == 20


async def test_a_removal_is_counted_from_the_start_again() -> None:
    store = InMemorySessionStore()
    session = await Session.create(store=store)
    tool = SessionEvent(
        message={"tool": "t", "error": "boom", "success": False}, type=EventType.TOOL_CALL
    )
    for event in (SessionEvent(message="a"), tool, SessionEvent(message="b")):
        await session.add_event_and_save(event)
    await session.remove_events([tool.id])
    await session.add_event_and_save(SessionEvent(message="c"))

    row = (await store.find_sessions()).items[0]

    assert row.event_count == 3
    assert not row.has_errors
    assert row == summary_of(session)


def test_roots_follow_parents_and_stop_at_a_missing_one_or_a_loop() -> None:
    parents = {"a": None, "b": "a", "c": "b", "d": "gone", "e": "f", "f": "e", "g": "k"}

    roots = root_ids(parents, {"k": "r"})

    assert [roots[i] for i in "abc"] == ["a", "a", "a"]
    assert roots["d"] == "gone"
    assert roots["e"] in ("e", "f") and roots["e"] == roots["f"]
    assert roots["g"] == "r"  # k's root is known
