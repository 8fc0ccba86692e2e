"""Staged compaction of a prompt's history: the policy and the views it makes.

Stage 1 (``trimmed_tool_results``) shows each tool result older than the policy's number of
turns as a short stub naming the tool, the call id and the tokens saved; the stored event is
not changed, the prompt gets a copy. Stage 2 (``_summarize``) records a SUMMARY event that
stands for the oldest span of the history; ``compacted_history`` is the history as the prompt
sees it afterwards: the newest compaction summary first, then what it did not summarise.

Both are views over the events: nothing older than what a prompt reads is looked at, except
the walk back to the newest compaction event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidInputError
from ..models._event_source import EventSource
from ..models._event_text import as_text
from ..models._event_type import EventType
from ..models._session_event import SessionEvent
from ..tokens import count_text
from ._appended_index import AppendedIndex
from ._event_view import EventView
from ._render import derived_call_id

__all__ = [
    "COMPACTION_KEY",
    "Compaction",
    "compacted_history",
    "is_compaction_event",
    "tool_result_stub",
    "trimmed_tool_results",
]

COMPACTION_KEY = "compaction"
"""Metadata key of a compaction SUMMARY event: ``event_ids`` (the span it summarises),
``kept_event_ids`` (the history it left in the prompt) and ``previous`` (the compaction
event it follows, or None)."""


def _check_count(name: str, value: object, *, minimum: int, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        allowed = f"an integer >= {minimum}" + (" or None" if optional else "")
        raise InvalidInputError(name, value, f"must be {allowed}")


@dataclass(frozen=True, slots=True)
class Compaction:
    """How a conversation's prompt is compacted, cheapest stage first.

    Args:
        trim_tool_results_after_turns: Tool results older than this many turns (user
            messages) are sent as a stub; None: never. 0 stubs every tool result before the
            newest user message's turn too.
        summarize_at_tokens: Once the prompt passes this many tokens, the oldest part of the
            history is summarised by the summarizer into a compaction event; None: never.
        keep_recent_tokens: How much of the newest history a summary leaves as it is.

    Raises:
        InvalidInputError: A value is not a whole number in range, or ``keep_recent_tokens``
            is not below ``summarize_at_tokens``.
    """

    trim_tool_results_after_turns: int | None = None
    summarize_at_tokens: int | None = None
    keep_recent_tokens: int = 20_000

    def __post_init__(self) -> None:
        _check_count(
            "trim_tool_results_after_turns",
            self.trim_tool_results_after_turns,
            minimum=0,
            optional=True,
        )
        _check_count("summarize_at_tokens", self.summarize_at_tokens, minimum=1, optional=True)
        _check_count("keep_recent_tokens", self.keep_recent_tokens, minimum=0, optional=False)
        limit = self.summarize_at_tokens
        if limit is not None and self.keep_recent_tokens >= limit:
            raise InvalidInputError(
                "keep_recent_tokens",
                self.keep_recent_tokens,
                f"must be below summarize_at_tokens ({limit})",
            )


def is_compaction_event(event: SessionEvent[Any]) -> bool:
    """Whether ``event`` is a summary recorded by stage 2 compaction."""
    return event.type is EventType.SUMMARY and COMPACTION_KEY in event.metadata


def compacted_history(
    events: Sequence[SessionEvent[Any]], found: AppendedIndex | None = None
) -> Sequence[SessionEvent[Any]]:
    """``events`` as a prompt sees them after the newest compaction: its summary, the events
    it kept, then everything after it. Without a compaction event, ``events`` themselves.
    ``found``, an ``AppendedIndex`` of ``is_compaction_event`` kept over these events from one
    prompt to the next, spares reading the history back to its newest compaction.

    Events another writer added while the summary was being made land between the span and
    the compaction event, named by neither: they are kept too."""
    if found is not None:
        positions = found.positions(events)
        if not positions:
            return events
        index = positions[-1]
    else:
        for index in range(len(events) - 1, -1, -1):
            if is_compaction_event(events[index]):
                break
        else:
            return events
    summary = events[index]
    record = summary.metadata[COMPACTION_KEY]
    kept_ids = set(record.get("kept_event_ids") or ())
    span_ids = set(record.get("event_ids") or ())
    kept: list[SessionEvent[Any]] = []
    known_seen = False
    for before in range(index - 1, -1, -1):
        if known_seen and not kept_ids:
            break
        event = events[before]
        if event.id in kept_ids:
            kept_ids.discard(event.id)
            kept.append(event)
            known_seen = True
        elif event.id in span_ids:
            known_seen = True
        elif not known_seen and not is_compaction_event(event):
            kept.append(event)
    kept.reverse()
    later = [event for event in events[index + 1 :] if not is_compaction_event(event)]
    return [summary, *kept, *later]


def trimmed_tool_results(
    events: Sequence[SessionEvent[Any]], after_turns: int | None, model: str
) -> Sequence[SessionEvent[Any]]:
    """``events`` with each tool result older than ``after_turns`` turns shown as a stub (a
    view; the events themselves are not changed)."""
    if after_turns is None:
        return events
    cutoff = _turn_start(events, after_turns + 1)
    return events if cutoff <= 0 else _Trimmed(events, cutoff, model)


def _turn_start(events: Sequence[SessionEvent[Any]], turns: int) -> int:
    """The index where the newest ``turns`` turns begin (0 when there are not that many)."""
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.type is EventType.MESSAGE and event.source is EventSource.USER:
            seen += 1
            if seen == turns:
                return index
    return 0


class _Trimmed(EventView):
    """A view of ``events`` whose tool events before ``cutoff`` are stubs."""

    def __init__(self, events: Sequence[SessionEvent[Any]], cutoff: int, model: str) -> None:
        self._events = events
        self._cutoff = cutoff
        self._model = model

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, index: Any) -> Any:
        # The prompt walk reads every event by a plain index: skip the general path.
        if type(index) is int and index >= 0:
            return self._event_at(index)
        return super().__getitem__(index)

    def _event_at(self, index: int) -> SessionEvent[Any]:
        event = self._events[index]
        if index >= self._cutoff or event.type is not EventType.TOOL_CALL:
            return event
        return tool_result_stub(event, self._model)


_STUBS: dict[tuple[str, str], tuple[Any, SessionEvent[Any]]] = {}
_MAX_STUBS = 8192


def tool_result_stub(event: SessionEvent[Any], model: str) -> SessionEvent[Any]:
    """A copy of tool event ``event`` whose result is a stub naming the tool, the call id and
    the tokens the stub saves (the event itself is returned when the stub would not be
    shorter)."""
    # Prompts are built again and again from the same history: a stub is made once per
    # event (and made again if the event's message is replaced).
    key = (event.id, model)
    cached = _STUBS.get(key)
    if cached is not None and cached[0] is event.message:
        return cached[1]
    stub = _make_stub(event, model)
    if len(_STUBS) >= _MAX_STUBS:
        _STUBS.clear()
    _STUBS[key] = (event.message, stub)
    return stub


def _make_stub(event: SessionEvent[Any], model: str) -> SessionEvent[Any]:
    message = event.message
    data: Mapping[str, Any] = message if isinstance(message, Mapping) else {"result": message}
    original = data.get("result") if data.get("error") is None else {"error": data["error"]}
    tokens = count_text(as_text(original), model).tokens
    name = _first_text(data, event.metadata, ("tool", "tool_name", "name")) or "unknown_tool"
    call_id = _first_text(data, event.metadata, ("tool_call_id",)) or derived_call_id(event.id)
    stub = f"[tool result trimmed: {name}, call {call_id}, {{saved}} tokens saved]"
    saved = tokens - count_text(stub.format(saved=tokens), model).tokens
    if saved <= 0:
        return event
    trimmed = {key: value for key, value in data.items() if key != "error"}
    trimmed["result"] = stub.format(saved=saved)
    return event.model_copy(update={"message": trimmed})


def _first_text(
    data: Mapping[str, Any], metadata: Mapping[str, Any], keys: Sequence[str]
) -> str | None:
    for source in (data, metadata):
        for key in keys:
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None
