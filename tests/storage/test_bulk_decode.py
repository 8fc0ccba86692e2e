"""Decoding a stored log in one call: the same events as one row at a time, bad rows reported."""

from __future__ import annotations

import gc
import logging
from typing import Any

import pytest

from llm_sessions import EventSource, EventType, Session, SessionEvent, TokenUsage
from llm_sessions._collector import collector_paused
from llm_sessions.models._base import STORED_DATA
from llm_sessions.storage.records import decode_rows
from llm_sessions.storage.sync import event_json


def _events() -> list[SessionEvent[Any]]:
    usage = TokenUsage(prompt_tokens=7, completion_tokens=3, model="gpt-4o-mini")
    return [
        SessionEvent(message="hello", source=EventSource.USER),
        SessionEvent(message={"role": "assistant", "content": ["a", {"b": 1}]}, token_usage=usage),
        SessionEvent(message="found", type="retrieval", metadata={"hits": [1, 2]}),
        SessionEvent(message=None, type=EventType.TOOL_CALL, parent_event_id="p-1", task_id="t"),
    ]


def _one_at_a_time(rows: list[str]) -> list[Any]:
    return [SessionEvent.model_validate_json(row, context=STORED_DATA) for row in rows]


def test_one_call_gives_the_events_of_one_call_per_row() -> None:
    events = _events()
    rows = [event_json(event) for event in events]
    decoded = decode_rows(Session, rows, "here")
    assert [event.model_dump() for event in decoded] == [e.model_dump() for e in events]
    assert decoded == _one_at_a_time(rows)
    assert decoded[2].type == "retrieval" and decoded[3].type is EventType.TOOL_CALL
    assert decoded[1].token_usage.estimated_cost_usd == events[1].token_usage.estimated_cost_usd


@pytest.mark.parametrize("bad", ["", "{not json", '{"id": "x"}', "[]", "{} {}"])
def test_a_bad_row_among_good_ones_is_reported_at_its_position(
    bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [event_json(event) for event in _events()]
    rows.insert(2, bad)
    with caplog.at_level(logging.WARNING, logger="llm_sessions.storage"):
        decoded = decode_rows(Session, rows, "the log")
    assert decoded[2] is None
    good = rows[:2] + rows[3:]
    assert [event for event in decoded if event is not None] == _one_at_a_time(good)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("Skipping unreadable event #2 at the log:")


def test_stored_events_are_not_built_through_init(monkeypatch: pytest.MonkeyPatch) -> None:
    # A custom __init__ called per event would drop the stored-data context: every stored
    # event would be checked in full again, which doubled the time of a load.
    calls: list[int] = []
    original = SessionEvent.__init__

    def counting(self: SessionEvent[Any], **data: Any) -> None:
        calls.append(1)
        original(self, **data)

    rows = [event_json(event) for event in _events()]
    monkeypatch.setattr(SessionEvent, "__init__", counting)
    assert len(decode_rows(Session, rows, "here")) == len(rows)
    assert calls == []
    SessionEvent(message="built directly")
    assert calls == [1]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_during_a_decode_and_left_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(ValueError), collector_paused():
            assert not gc.isenabled()
            raise ValueError("a decode that fails")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
