"""The system prompt index: the current prompt and the history without prompt events, kept
up to date as events are added, equal to a scan of the whole list."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from llm_sessions.api.system_prompt import SYSTEM_PROMPT_KEY, SystemPromptIndex
from llm_sessions.models import EventSource, SessionEvent


def make(kind: bool, n: int) -> SessionEvent[Any]:
    if kind:
        return SessionEvent(
            message=f"prompt {n}", source=EventSource.SYSTEM, metadata={SYSTEM_PROMPT_KEY: True}
        )
    return SessionEvent(message=f"user {n}", source=EventSource.USER)


def scanned(events: list[SessionEvent[Any]]) -> tuple[str | None, list[SessionEvent[Any]]]:
    prompts = [e.message for e in events if e.metadata.get(SYSTEM_PROMPT_KEY)]
    history = [e for e in events if not e.metadata.get(SYSTEM_PROMPT_KEY)]
    return (prompts[-1] if prompts else None), history


@given(st.lists(st.lists(st.booleans(), max_size=8), max_size=6), st.integers(0, 5))
def test_index_matches_a_full_scan_as_events_come_and_go(
    batches: list[list[bool]], drop_at: int
) -> None:
    index = SystemPromptIndex()
    events: list[SessionEvent[Any]] = []
    for batch in batches:
        events.extend(make(kind, len(events)) for kind in batch)
        if events and drop_at < len(events) and len(events) % 3 == 0:
            del events[drop_at]  # an event removed before the end: a fresh scan
        prompt, history = scanned(events)
        assert index.current(events) == prompt
        view = index.history(events)
        assert list(view) == history
        assert len(view) == len(history)
        assert [view[i] for i in range(-len(history), 0)] == history
        assert list(view[1:-1]) == history[1:-1]


def test_index_of_another_list_starts_afresh() -> None:
    index = SystemPromptIndex()
    first = [make(True, 0), make(False, 1)]
    assert index.current(first) == "prompt 0"
    assert index.current([make(False, 0), make(False, 1)]) is None
