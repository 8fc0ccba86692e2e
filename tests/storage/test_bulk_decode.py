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


def test_loaded_events_given_every_field_keep_their_fields_set_apart() -> None:
    # Events decoded from complete rows share one set of field names; an edit of one event or
    # usage must not change what the others report as set.
    events = _events()
    events[0].token_usage = TokenUsage(prompt_tokens=1, model="gpt-4o-mini")
    decoded = decode_rows(Session, [event_json(event) for event in events], "here")
    every_event_field, every_usage_field = (
        set(SessionEvent.model_fields),
        set(TokenUsage.model_fields),
    )
    assert all(event.model_fields_set == every_event_field for event in decoded)
    first, second = decoded[0].token_usage, decoded[1].token_usage
    assert first is not None and second is not None
    assert second.model_fields_set == every_usage_field
    first.total_tokens = 0  # re-runs TokenUsage's validator, which drops total_tokens
    assert first.total_tokens == 1 and "total_tokens" not in first.model_fields_set
    assert second.model_fields_set == every_usage_field
    assert decoded[2].model_copy(update={"task_id": "t2"}).task_id == "t2"
    assert decoded[3].model_fields_set == every_event_field


def test_a_row_with_unknown_keys_gives_an_event_with_only_its_fields_set() -> None:
    # Loaded events share the full set when theirs is as long: that holds while neither model
    # keeps keys that are not fields, which this row would show.
    assert SessionEvent.model_config.get("extra", "ignore") == "ignore"
    assert TokenUsage.model_config.get("extra", "ignore") == "ignore"
    row = (
        '{"id": "e-1", "message": "hi", "timestamp": "2026-01-01T00:00:00Z", "a": 1, "b": 2,'
        ' "c": 3, "d": 4, "e": 5, "f": 6, "token_usage": {"prompt_tokens": 1, "x": 1, "y": 2,'
        ' "z": 3, "w": 4, "v": 5}}'
    )
    (event,) = decode_rows(Session, [row], "here")
    assert event.model_fields_set == {"id", "message", "timestamp", "token_usage"}
    assert event.token_usage is not None
    assert event.token_usage.model_fields_set == {"prompt_tokens"}


def test_an_event_decoded_from_a_row_missing_fields_reports_only_the_fields_it_had() -> None:
    row = '{"id": "e-1", "message": "hi", "timestamp": "2026-01-01T00:00:00Z"}'
    (event,) = decode_rows(Session, [row], "here")
    assert event.model_fields_set == {"id", "message", "timestamp"}
    event.metadata["k"] = "v"
    assert event.metadata == {"k": "v"}
