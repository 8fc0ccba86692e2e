"""A summary per session: what a listing or a total needs, without the session's events.

``SessionSummary`` is the row every store keeps beside a session (see DESIGN.md, "Many
sessions"). ``SummaryScan`` computes its counts from the events, once per event: a store that
holds the session object (the memory store) scans only the events added since the last save,
and starts over when events were taken out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ..models._event_type import EventType
from ..models._session_event import SessionEvent
from ..models._session_metadata import SessionMetadata

__all__ = [
    "ModelCount",
    "ModelTotals",
    "SessionSummary",
    "Summarised",
    "SummaryScan",
    "default_root",
    "failed_tool_call",
    "root_ids",
    "summary_of",
    "with_roots",
]


class Summarised(Protocol):
    """What a summary is made of: a session's id, parent, metadata and events."""

    @property
    def id(self) -> str: ...

    @property
    def parent_id(self) -> str | None: ...

    @property
    def metadata(self) -> SessionMetadata: ...

    @property
    def events(self) -> Sequence[SessionEvent[Any]]: ...


class ModelTotals(BaseModel):
    """One model's share of a session: its events, tokens and cost."""

    model_config = ConfigDict(frozen=True)

    events: int = 0
    """Events whose token usage names the model."""
    tokens: int = 0
    cost_usd: float = 0.0
    """The cost of its priced events (see ``priced``)."""
    priced: bool = True
    """False when some of its tokens have no price: ``cost_usd`` leaves them out."""


class SessionSummary(BaseModel):
    """What a list of sessions shows and totals add up, kept by the store on every write.

    ``root_id`` is the first session of the chain of parents (segments, forks, children) this
    session hangs from, its own id when it has no parent. ``has_errors`` is true when a tool
    call of the session failed. ``properties`` are the session's top-level properties.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    parent_id: str | None = None
    root_id: str
    user_id: str | None = None
    created_at: datetime
    updated_at: datetime
    event_count: int = 0
    total_tokens: int = 0
    total_cost_usd: float = 0.0
    unpriced_models: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    has_errors: bool = False
    properties: dict[str, Any] = Field(default_factory=dict)
    model_usage: dict[str, ModelTotals] = Field(default_factory=dict)
    """Per model: events, tokens and cost (what totals by model add up)."""


@dataclass
class ModelCount:
    """One model's counters while a session is counted."""

    events: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True


@dataclass
class SummaryScan:
    """Counts over a session's events, advanced by the events added since the last scan."""

    scanned: int = 0
    last_event_id: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    has_errors: bool = False
    unpriced: list[str] = field(default_factory=list)
    by_model: dict[str, ModelCount] = field(default_factory=dict)

    def advance(self, events: Sequence[SessionEvent[Any]]) -> None:
        """Count the events after those already counted; start over when the events counted
        are no longer where they were (some were taken out)."""
        if not self._continues(events):
            fresh = SummaryScan()
            self.__dict__.update(fresh.__dict__)
        end = len(events)
        if end == self.scanned:
            return
        for position in range(self.scanned, end):
            self._count(events[position])
        self.scanned = end
        self.last_event_id = events[-1].id

    def _continues(self, events: Sequence[SessionEvent[Any]]) -> bool:
        if self.scanned == 0:
            return True
        # Ids are unique: the same id at the same place means nothing before it was removed.
        return len(events) >= self.scanned and events[self.scanned - 1].id == self.last_event_id

    def _count(self, event: SessionEvent[Any]) -> None:
        if failed_tool_call(event):
            self.has_errors = True
        usage = event.token_usage
        if usage is None:
            return
        totals = self.by_model.setdefault(usage.model, ModelCount())
        totals.events += 1
        totals.tokens += usage.total_tokens
        self.tokens += usage.total_tokens
        cost = usage.estimated_cost_usd
        if cost is not None:
            # Added in event order, as the session's own token summary adds them.
            totals.cost_usd += cost
            self.cost_usd += cost
        elif usage.total_tokens:
            totals.priced = False
            if usage.model not in self.unpriced:
                self.unpriced.append(usage.model)

    def summary(self, session: Summarised, root_id: str) -> SessionSummary:
        """The summary of ``session`` (whose events this scan has counted)."""
        metadata = session.metadata
        return SessionSummary(
            id=session.id,
            parent_id=session.parent_id,
            root_id=root_id,
            user_id=metadata.user_id,
            created_at=metadata.created_at,
            updated_at=metadata.updated_at,
            event_count=self.scanned,
            total_tokens=self.tokens,
            total_cost_usd=self.cost_usd,
            unpriced_models=sorted(self.unpriced),
            models=sorted(self.by_model),
            has_errors=self.has_errors,
            properties=json.loads(json.dumps(metadata.properties)),  # a copy, not the dict
            model_usage={
                name: ModelTotals(
                    events=c.events, tokens=c.tokens, cost_usd=c.cost_usd, priced=c.priced
                )
                for name, c in sorted(self.by_model.items())
            },
        )


def failed_tool_call(event: SessionEvent[Any]) -> bool:
    """Whether ``event`` is a tool call whose message records a failure."""
    message = event.message
    if event.type is not EventType.TOOL_CALL or not isinstance(message, Mapping):
        return False
    return message.get("error") is not None or message.get("success") is False


def summary_of(session: Summarised, root_id: str | None = None) -> SessionSummary:
    """The summary of a whole session, counted from its events.

    Args:
        session: the session, as loaded.
        root_id: the root of its chain; None takes the one it was created with, else its
            parent's id, else its own.

    Returns:
        The session's ``SessionSummary``.
    """
    scan = SummaryScan()
    scan.advance(session.events)
    return scan.summary(session, root_id or default_root(session))


def default_root(session: Summarised) -> str:
    """The root a session names itself: the one it was created with, else its parent."""
    return session.metadata.root_id or session.parent_id or session.id


def root_ids(parents: Mapping[str, str | None], known: Mapping[str, str]) -> dict[str, str]:
    """Each session's root: ``known`` roots as they are, the others found by following
    ``parents`` (id -> parent id) up to a session whose root is known, one without a parent, or
    a parent that is not in ``parents`` (deleted or never stored), whose id is the root."""
    roots = dict(known)
    for start in parents:
        chain: list[str] = []
        current = start
        while current not in roots:
            chain.append(current)
            parent = parents.get(current)
            if parent is None or parent in chain:
                roots[current] = current
            elif parent in roots or parent in parents:
                current = parent
            else:
                roots[current] = parent
        for member in chain:
            roots[member] = roots[current]
    return roots


def with_roots(summaries: Iterable[SessionSummary], loose: set[str]) -> list[SessionSummary]:
    """``summaries`` with the ``root_id`` of each of ``loose`` (sessions created without one)
    found through the others' parents."""
    rows = list(summaries)
    known = {row.id: row.root_id for row in rows if row.id not in loose}
    roots = root_ids({row.id: row.parent_id for row in rows}, known)
    return [
        row.model_copy(update={"root_id": roots[row.id]})
        if row.id in loose and roots[row.id] != row.root_id
        else row
        for row in rows
    ]
