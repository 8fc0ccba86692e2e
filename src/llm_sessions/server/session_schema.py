"""Request and response bodies of the native ``/v1/sessions`` routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from ..models import EventSource, Session, SessionEvent
from ..storage._fleet_query import UsageRow
from ..storage._summaries import SessionSummary

__all__ = [
    "MAX_EVENTS_PER_REQUEST",
    "CostOut",
    "Deleted",
    "EventIn",
    "EventList",
    "EventsCreate",
    "SessionCreate",
    "SessionOut",
    "SummaryList",
    "TreeOut",
    "Usage",
    "UsageList",
    "event_out",
    "session_out",
]

MAX_EVENTS_PER_REQUEST = 100
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Message = str | int | float | bool | list[JsonValue] | dict[str, JsonValue]
"""An event's message: any JSON value but ``null``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionCreate(_Strict):
    """Body of ``POST /v1/sessions``."""

    parent_id: Id | None = None
    properties: dict[str, JsonValue] = Field(default_factory=dict)
    user_id: Id | None = None
    """Who the session belongs to (a child inherits its parent's when not given)."""
    metadata: dict[str, JsonValue] | None = None
    """Top-level properties, merged over ``properties`` (the name other APIs use)."""


class Usage(_Strict):
    """Token counts the provider reported (used instead of counting)."""

    prompt_tokens: Annotated[int, Field(ge=0, le=10**9)] = 0
    completion_tokens: Annotated[int, Field(ge=0, le=10**9)] = 0


class EventIn(_Strict):
    """One event to append. With ``model``, tokens are counted by that model's tokenizer (or
    taken from ``usage``) and priced; the text is the prompt for user and system events and the
    completion for model replies. ``message`` is any JSON value but ``null``."""

    message: Message
    source: EventSource = EventSource.USER
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "message"
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    model: ModelName | None = None
    usage: Usage | None = None
    parent_event_id: Id | None = None
    task_id: Id | None = None


class EventsCreate(_Strict):
    """Body of ``POST /v1/sessions/{id}/events``."""

    events: Annotated[list[EventIn], Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)]


class SessionOut(BaseModel):
    """A session's header: tree links, runs, state, properties, totals."""

    id: str
    object: Literal["session"] = "session"
    parent_id: str | None
    child_ids: list[str]
    task_ids: list[str]
    metadata: dict[str, Any]
    state: dict[str, Any]
    runs: list[dict[str, Any]]
    token_summary: dict[str, Any]
    event_count: int


class EventList(BaseModel):
    """A page of events, with their token usage and cost."""

    object: Literal["list"] = "list"
    data: list[dict[str, Any]]
    first_id: str | None
    last_id: str | None
    has_more: bool


class SummaryList(BaseModel):
    """A page of session summaries (``after``: the previous page's ``last_id``)."""

    object: Literal["list"] = "list"
    data: list[SessionSummary]
    first_id: str | None
    last_id: str | None
    has_more: bool


class UsageList(BaseModel):
    """Totals by group, sorted by key."""

    object: Literal["list"] = "list"
    data: list[UsageRow]


class TreeOut(BaseModel):
    """Where a session sits: its ancestors (root first), descendants, and the segments of the
    infinite conversation it belongs to (oldest first; just itself when never segmented)."""

    id: str
    parent_id: str | None
    ancestors: list[str]
    child_ids: list[str]
    descendants: list[str]
    segments: list[str]


class CostOut(BaseModel):
    """Tokens and USD: in total, by model, by event source and by run (``no_run`` outside)."""

    total: dict[str, Any]
    by_model: dict[str, Any]
    by_source: dict[str, Any]
    by_run: dict[str, Any]


class Deleted(BaseModel):
    """The answer to a delete."""

    id: str
    object: Literal["session.deleted"] = "session.deleted"
    deleted: bool


def session_out(session: Session[Any]) -> SessionOut:
    """The header view of a session."""
    header = session.model_dump(mode="json", exclude={"events"})
    return SessionOut(**header, event_count=len(session.events))


def event_out(event: SessionEvent[Any]) -> dict[str, Any]:
    """An event as JSON."""
    return event.model_dump(mode="json")
