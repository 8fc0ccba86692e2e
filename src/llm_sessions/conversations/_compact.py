"""Stage 2 of compaction: summarise the oldest span of a history into a compaction event.

The span is made of whole prompt groups (a reply with its tool calls and results is one), so
no summary separates a tool call from its result. The summarizer is asked first; only when it
answers is the event recorded, so a failing summarizer leaves the session as it was.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..exceptions import InvalidInputError
from ..models._event_source import EventSource
from ..models._event_type import EventType
from ..models._session import Session
from ..models._session_event import SessionEvent
from ..prompting._appended_index import AppendedIndex
from ..prompting._budget import message_cache
from ..prompting._compaction import (
    COMPACTION_KEY,
    Compaction,
    compacted_history,
    is_compaction_event,
    trimmed_tool_results,
)
from ..prompting._groups import EventGroup, walk_groups
from ..prompting._render import ChatRole
from ..replies import response_text
from ._summaries import LLMCallback, extractive_summary

__all__ = ["CompactionReport", "compact_history", "compaction_view"]

_INSTRUCTION = (
    "Summarise the earlier part of the conversation below so that an assistant reading only "
    "your summary can continue it: the user's goals, decisions, facts and numbers found, tool "
    "results that still matter, and what is still open."
)


@dataclass(frozen=True, slots=True)
class CompactionReport:
    """What one compaction did.

    ``trimmed_tool_results`` and ``tokens_saved`` are stage 1's (stubs in the prompt),
    ``summarized_events`` and ``event_id`` stage 2's (None: no summary was recorded);
    ``tokens_before`` and ``tokens_after`` are the history's prompt tokens, system prompt left
    out.
    """

    trimmed_tool_results: int
    tokens_saved: int
    summarized_events: int
    kept_events: int
    tokens_before: int
    tokens_after: int
    event_id: str | None

    def as_dict(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return asdict(self)


def compaction_view(
    history: Sequence[SessionEvent[Any]],
    policy: Compaction | None,
    model: str,
    found: AppendedIndex | None = None,
) -> Sequence[SessionEvent[Any]]:
    """``history`` as the prompt sees it: after the newest compaction event (``found``: an
    index of them kept over ``history``), stage 1 applied when ``policy`` asks for it."""
    visible = compacted_history(history, found)
    after = None if policy is None else policy.trim_tool_results_after_turns
    return trimmed_tool_results(visible, after, model)


def _group_tokens(group: EventGroup, model: str) -> int:
    return sum(message_cache.tokens(message, model) for message in group.render())


def _group_ids(group: EventGroup) -> list[str]:
    anchor = [] if group.anchor is None else [group.anchor.id]
    return [*anchor, *(tool.id for tool in group.tools)]


def _stage_one(history: Sequence[SessionEvent[Any]], view: Sequence[SessionEvent[Any]]) -> int:
    """How many tool results ``view`` shows as stubs."""
    plain = compacted_history(history)
    return sum(1 for index, event in enumerate(view) if event is not plain[index])


async def compact_history(
    session: Session[Any],
    history: Sequence[SessionEvent[Any]],
    policy: Compaction,
    summarizer: LLMCallback | None,
    model: str,
    *,
    force: bool = False,
    measure_stage_one: bool = True,
) -> CompactionReport:
    """Compact ``history`` (``session``'s events without its system prompt): when its prompt
    is over ``policy.summarize_at_tokens`` (or ``force``), summarise the oldest span, leaving
    ``policy.keep_recent_tokens`` of the newest groups, and record the summary in ``session``.

    Without ``summarizer`` the summary is extractive. The summarizer's error propagates and
    nothing is recorded; an empty summary is an ``InvalidInputError``. Without
    ``measure_stage_one`` the report's stage 1 figures are 0 (they cost a walk of the
    history without stubs).
    """
    view = compaction_view(history, policy, model)
    groups = [(group, _group_tokens(group, model)) for group in walk_groups(view)]
    before = sum(tokens for _, tokens in groups)
    trimmed = saved = 0
    if measure_stage_one:
        trimmed = _stage_one(history, view)
        untrimmed = walk_groups(compacted_history(history))
        saved = sum(_group_tokens(group, model) for group in untrimmed) - before
    threshold = policy.summarize_at_tokens
    over = threshold is not None and before > threshold
    kept, span, previous = _split(groups, policy.keep_recent_tokens)
    if not (over or force) or not span:
        return CompactionReport(trimmed, saved, 0, 0, before, before, None)
    text = await _summary(previous, span, summarizer, model)
    span_ids = [event_id for group in span for event_id in _group_ids(group)]
    kept_ids = [event_id for group in kept for event_id in _group_ids(group)]
    event = await SessionEvent.create_with_tokens(
        message=text,
        prompt=text,
        model=model,
        source=EventSource.SYSTEM,
        type=EventType.SUMMARY,
        metadata={
            COMPACTION_KEY: {
                "event_ids": span_ids,
                "kept_event_ids": kept_ids,
                "previous": None if previous is None else previous.id,
                "strategy": "extractive" if summarizer is None else "summarizer",
            }
        },
    )
    await session.add_event_and_save(event)
    after_view = compaction_view([*history, event], policy, model)
    after = sum(_group_tokens(group, model) for group in walk_groups(after_view))
    return CompactionReport(trimmed, saved, len(span_ids), len(kept_ids), before, after, event.id)


def _split(
    groups: list[tuple[EventGroup, int]], keep_tokens: int
) -> tuple[list[EventGroup], list[EventGroup], SessionEvent[Any] | None]:
    """(kept groups, span groups, the previous compaction event), oldest first. The newest
    turn (from the newest user message on) is always kept, then older groups while they fit
    in ``keep_tokens``; the previous compaction's summary is neither (it is folded in)."""
    kept: list[EventGroup] = []
    span: list[EventGroup] = []
    previous: SessionEvent[Any] | None = None
    used = 0
    in_newest_turn = True
    for group, tokens in groups:
        if group.anchor is not None and is_compaction_event(group.anchor):
            previous = group.anchor
        elif in_newest_turn or not (span or used + tokens > keep_tokens):
            kept.append(group)
            used += tokens
        else:
            span.append(group)
        if group.role is ChatRole.USER:
            in_newest_turn = False
    kept.reverse()
    span.reverse()
    return kept, span, previous


async def _summary(
    previous: SessionEvent[Any] | None,
    span: list[EventGroup],
    summarizer: LLMCallback | None,
    model: str,
) -> str:
    earlier = None if previous is None else str(previous.message)
    if summarizer is None:
        events = [group.anchor for group in span if group.anchor is not None]
        return extractive_summary(earlier, events, model)
    lines = [_line(message) for group in span for message in group.render()]
    body = "Conversation:\n" + "\n".join(lines)
    if earlier:
        body = f"Summary of the conversation before this part:\n{earlier}\n\n{body}"
    request = [{"role": "system", "content": _INSTRUCTION}, {"role": "user", "content": body}]
    reply = await summarizer(request, model)
    text = response_text(reply).strip()
    if not text:
        raise InvalidInputError("summarizer reply", reply, "an empty summary cannot stand in")
    return text


def _line(message: dict[str, Any]) -> str:
    role = str(message.get("role", "")).capitalize()
    content = message.get("content")
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    calls = message.get("tool_calls")
    if calls:
        named = ", ".join(str(call["function"]["name"]) for call in calls)
        text = f"{text or ''} [calls {named}]".strip()
    if role == "Tool":
        return f"Tool result ({message.get('tool_call_id')}): {text}"
    return f"{role}: {text}"
