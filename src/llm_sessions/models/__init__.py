"""The data model: sessions, events, runs, metadata and token usage (pydantic v2)."""

from .event_source import EventSource
from .event_type import EventType
from .session import Session
from .session_event import SessionEvent
from .session_metadata import SessionMetadata
from .session_run import RunStatus, SessionRun
from .token_usage import CountMethod, TokenSummary, TokenUsage

__all__ = [
    "CountMethod",
    "EventSource",
    "EventType",
    "RunStatus",
    "Session",
    "SessionEvent",
    "SessionMetadata",
    "SessionRun",
    "TokenSummary",
    "TokenUsage",
]
