"""What each prompt strategy offers a prompt, as a ``PromptPlan`` for the budget to fill."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from typing import Any

from ..models._event_source import EventSource
from ..models._event_type import EventType
from ..models._session_event import SessionEvent
from ._budget import Candidate, PromptPlan
from ._groups import EventGroup, message_group, walk_groups
from ._render import ChatRole

__all__ = ["PromptStrategy", "plan_for"]

#: At most this many system messages at the start of a session (a system prompt, a rolling
#: summary) are given priority over the rest of the history.
LEADING_SYSTEM_LIMIT = 3


class PromptStrategy(StrEnum):
    """How much of a session a prompt carries, and what it favours."""

    MINIMAL = "minimal"
    """The task (first user message), the latest assistant reply and its tool results; the
    reply's own text is left out (``content`` None), as the original minimal strategy sends it."""
    TASK_FOCUSED = "task"
    """The task and the latest user message first, then the latest reply's text."""
    TOOL_FOCUSED = "tool"
    """Every tool call with its result, plus the task and the latest user message."""
    CONVERSATION = "conversation"
    """The history in order, newest kept first."""
    HIERARCHICAL = "hierarchical"
    """CONVERSATION; with ``include_parent_context`` also the parent sessions' context."""


def plan_for(
    strategy: PromptStrategy, events: Sequence[SessionEvent[Any]], query: str | None
) -> PromptPlan:
    """The plan ``strategy`` makes for a session's events and an optional new user query."""
    return _PLANNERS[strategy](events, query)


def _plan_minimal(events: Sequence[SessionEvent[Any]], query: str | None) -> PromptPlan:
    task = _user_candidate(events, _first_user_index(events))
    required = _query_candidate(query, events) or task
    extra = [task] if task is not None and required is not task else []
    return PromptPlan(required, [*_leading_system(events), *extra], _latest_reply(events))


def _plan_task(events: Sequence[SessionEvent[Any]], query: str | None) -> PromptPlan:
    required, users = _user_anchors(events, query)
    return PromptPlan(required, [*_leading_system(events), *users], _latest_reply_text(events))


def _plan_tool(events: Sequence[SessionEvent[Any]], query: str | None) -> PromptPlan:
    required, users = _user_anchors(events, query)
    tool_groups = (_candidate(group) for group in walk_groups(events) if group.tools)
    return PromptPlan(required, [*_leading_system(events), *users], tool_groups)


def _plan_conversation(events: Sequence[SessionEvent[Any]], query: str | None) -> PromptPlan:
    last_user = _user_candidate(events, _last_user_index(events))
    required = _query_candidate(query, events) or last_user
    history = (_candidate(group) for group in walk_groups(events))
    return PromptPlan(required, _leading_system(events), history)


_PLANNERS: dict[PromptStrategy, Callable[[Sequence[SessionEvent[Any]], str | None], PromptPlan]] = {
    PromptStrategy.MINIMAL: _plan_minimal,
    PromptStrategy.TASK_FOCUSED: _plan_task,
    PromptStrategy.TOOL_FOCUSED: _plan_tool,
    PromptStrategy.CONVERSATION: _plan_conversation,
    PromptStrategy.HIERARCHICAL: _plan_conversation,
}


def _user_anchors(
    events: Sequence[SessionEvent[Any]], query: str | None
) -> tuple[Candidate | None, list[Candidate]]:
    """(the newest user message, [the task, the latest session user message]) without repeats."""
    task = _user_candidate(events, _first_user_index(events))
    latest = _user_candidate(events, _last_user_index(events))
    required = _query_candidate(query, events) or latest
    others: list[Candidate] = []
    seen = {required.position} if required is not None else set()
    for candidate in (task, latest):
        if candidate is not None and candidate.position not in seen:
            seen.add(candidate.position)
            others.append(candidate)
    return required, others


def _latest_reply(events: Sequence[SessionEvent[Any]]) -> Iterator[Candidate]:
    """The newest assistant reply (its text left out) with its tool calls; if it has none,
    the tools-only messages just before it (the results it answered from)."""
    walk = walk_groups(events)
    for group in walk:
        if group.is_reply:
            reply = _candidate(group)
            if group.anchor is not None and group.rendered is None:
                reply.messages[0] = {**reply.messages[0], "content": None}
            yield reply
            if group.tools:
                return
            break
    for group in walk:
        if group.anchor is not None:
            return
        yield _candidate(group)


def _latest_reply_text(events: Sequence[SessionEvent[Any]]) -> Iterator[Candidate]:
    """The text of the newest assistant reply that has text, without tool detail."""
    for group in walk_groups(events):
        if group.anchor is not None and group.is_reply:
            messages = group.render_text_only()
            if messages:
                yield Candidate(group.position, messages)
                return


def _leading_system(events: Sequence[SessionEvent[Any]]) -> list[Candidate]:
    found: list[Candidate] = []
    for index in range(min(len(events), LEADING_SYSTEM_LIMIT)):
        group = message_group(events, index)
        if group is None or group.role is not ChatRole.SYSTEM:
            break
        found.append(_candidate(group))
    return found


def _candidate(group: EventGroup) -> Candidate:
    return Candidate(group.position, group.render())


def _user_candidate(events: Sequence[SessionEvent[Any]], index: int | None) -> Candidate | None:
    group = None if index is None else message_group(events, index)
    return None if group is None else _candidate(group)


def _query_candidate(query: str | None, events: Sequence[SessionEvent[Any]]) -> Candidate | None:
    if query is None:
        return None
    return Candidate((len(events), 0), [{"role": ChatRole.USER.value, "content": query}])


def _is_user_message(event: SessionEvent[Any]) -> bool:
    return event.type is EventType.MESSAGE and event.source is EventSource.USER


def _first_user_index(events: Sequence[SessionEvent[Any]]) -> int | None:
    return next((i for i, event in enumerate(events) if _is_user_message(event)), None)


def _last_user_index(events: Sequence[SessionEvent[Any]]) -> int | None:
    indexes = range(len(events) - 1, -1, -1)
    return next((i for i in indexes if _is_user_message(events[i])), None)
