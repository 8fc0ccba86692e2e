"""What a retention policy takes out of one session, and the stub that says so.

``keep_last_events`` keeps the newest prompt groups (a reply with its tool calls and results
is one) until at least that many events are kept, and removes everything older;
``trim_tool_results_after`` removes the tool events older than that. Either way a prompt
never sees half a tool call: a reply whose tool events went is sent without those calls.
The session's opening system messages and its newest system prompt are never removed.

The stub is a compaction SUMMARY event (``strategy: "retention"``), so a conversation's
prompt shows it first, as a short system note naming how many events and tokens went; its
``metadata["retention"]`` has the counts and the ids. A later trim replaces the stub with
one that adds up both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..models._event_source import EventSource
from ..models._event_text import search_text
from ..models._event_type import EventType
from ..models._session_event import SessionEvent
from ..storage._retention import Retention
from ..storage._retention_run import TRIM_PLANNERS, TrimPlan
from ..tokens import count_text
from ._builder import load_tokenizer
from ._compaction import COMPACTION_KEY, compacted_history, is_compaction_event
from ._groups import walk_groups

__all__ = ["RETENTION_KEY", "is_retention_stub", "plan_trim", "stub_text"]

RETENTION_KEY = "retention"
"""Metadata key of a retention stub: ``events``, ``tool_events``, ``tokens`` (all trims so
far) and ``event_ids`` (the newest ``_MAX_IDS`` of the ids removed)."""
_MAX_IDS = 1000
SYSTEM_PROMPT_KEY = "system_prompt"
"""Marks ``SessionManager``'s system prompt events (its ``SYSTEM_PROMPT_KEY``)."""
_MODEL = "gpt-4o-mini"


def is_retention_stub(event: SessionEvent[Any]) -> bool:
    """Whether ``event`` is the stub a retention trim left."""
    return event.type is EventType.SUMMARY and isinstance(event.metadata.get(RETENTION_KEY), dict)


def stub_text(events: int, tokens: int, tool_events: int) -> str:
    """The note a prompt shows for what retention removed."""
    tools = f"; {tool_events} of them tool calls or results" if tool_events else ""
    return (
        f"[The retention policy removed {events} earlier events of this conversation "
        f"({tokens} tokens{tools}).]"
    )


async def plan_trim(
    events: Sequence[SessionEvent[Any]], policy: Retention, now: datetime
) -> TrimPlan:
    """What ``policy`` removes from ``events`` (a session's, oldest first) at ``now``.

    Args:
        events: The session's events.
        policy: ``keep_last_events`` and ``trim_tool_results_after`` are used.
        now: The time ``trim_tool_results_after`` counts back from.

    Returns:
        The plan: the events to remove, the new stub and the earlier stubs it replaces, or
        an empty plan when nothing goes.
    """
    stubs = [event for event in events if is_retention_stub(event)]
    kept_always = _system_prompts(events)
    rest = [e for e in events if not is_retention_stub(e) and e.id not in kept_always]
    gone: set[str] = set()
    if policy.keep_last_events is not None:
        gone |= _older_than_newest(rest, policy.keep_last_events)
    tools_after = policy.span("trim_tool_results_after")
    if tools_after is not None:
        before = now - tools_after
        gone |= {e.id for e in rest if e.type is EventType.TOOL_CALL and e.timestamp < before}
    if not gone:
        return TrimPlan([], None)
    await load_tokenizer(_MODEL)  # the first time off the event loop (a server's, say)
    removed = [event for event in rest if event.id in gone]
    kept = [event for event in rest if event.id not in gone]
    tools = sum(1 for event in removed if event.type is EventType.TOOL_CALL)
    tokens = sum(count_text(search_text(event), _MODEL).tokens for event in removed)
    stub = _stub(removed, kept, stubs, tools, tokens, max(e.timestamp for e in events))
    return TrimPlan(removed, stub, tools, tokens, replaced=[stub.id for stub in stubs])


def _system_prompts(events: Sequence[SessionEvent[Any]]) -> set[str]:
    """Ids of what trimming never removes: the session's opening system messages and its
    newest system prompt event (``SessionManager``'s)."""
    kept = set()
    for event in events:
        if event.type is not EventType.MESSAGE or event.source is not EventSource.SYSTEM:
            break
        kept.add(event.id)
    for event in reversed(events):
        if event.metadata.get(SYSTEM_PROMPT_KEY) is True:
            kept.add(event.id)
            break
    return kept


def _older_than_newest(events: Sequence[SessionEvent[Any]], keep: int) -> set[str]:
    """Ids of the events before the newest whole groups that hold at least ``keep`` events."""
    cut = len(events)
    older: set[str] = set()
    for group in walk_groups(events):
        if len(events) - cut >= keep and group.position[0] < cut:
            older.update(tool.id for tool in group.tools)  # a tool event after the cut
            if group.anchor is not None:
                older.add(group.anchor.id)
        else:
            cut = min(cut, group.position[0])
    if len(events) - cut < keep:
        return set()
    return older | {event.id for event in events[:cut]}


def _counts(stubs: Sequence[SessionEvent[Any]]) -> tuple[int, int, int]:
    """(events, tool events, tokens) the earlier stubs say went."""
    totals = [0, 0, 0]
    for stub in stubs:
        record = stub.metadata[RETENTION_KEY]
        for n, key in enumerate(("events", "tool_events", "tokens")):
            value = record.get(key)
            totals[n] += value if isinstance(value, int) else 0
    return totals[0], totals[1], totals[2]


def _stub(
    removed: Sequence[SessionEvent[Any]],
    kept: Sequence[SessionEvent[Any]],
    stubs: Sequence[SessionEvent[Any]],
    tools: int,
    tokens: int,
    at: datetime,
) -> SessionEvent[Any]:
    earlier_events, earlier_tools, earlier_tokens = _counts(stubs)
    earlier_ids = [
        event_id
        for stub in stubs
        for event_id in _ids(stub.metadata[RETENTION_KEY].get("event_ids"))
    ]
    events = len(removed) + earlier_events
    tools, tokens = tools + earlier_tools, tokens + earlier_tokens
    # A compaction that stays keeps standing in for its span: the stub keeps its view.
    compacted = any(is_compaction_event(event) for event in kept)
    kept_ids = [event.id for event in compacted_history(kept)] if compacted else []
    text = stub_text(events, tokens, tools)
    # Named by what it stands for: two passes that trim the same events write one stub.
    named = sorted([*(event.id for event in removed), *(stub.id for stub in stubs)])
    digest = hashlib.sha256("\n".join(named).encode()).hexdigest()[:32]
    return SessionEvent(
        id=f"retention-{digest}",
        message=text,
        source=EventSource.SYSTEM,
        type=EventType.SUMMARY,
        timestamp=at,  # not activity: the session's updated time stays
        metadata={
            COMPACTION_KEY: {
                "event_ids": [],
                "kept_event_ids": kept_ids,
                "previous": None,
                "strategy": RETENTION_KEY,
            },
            RETENTION_KEY: {
                "events": events,
                "tool_events": tools,
                "tokens": tokens,
                "event_ids": [*earlier_ids, *(event.id for event in removed)][-_MAX_IDS:],
            },
        },
    )


def _ids(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _register() -> None:
    if plan_trim not in TRIM_PLANNERS:
        TRIM_PLANNERS.append(plan_trim)


_register()
