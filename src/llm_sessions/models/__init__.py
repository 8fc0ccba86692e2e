"""The data model: sessions, events, runs, metadata and token usage (pydantic v2)."""

from ._attachment import Attachment
from ._event_source import EventSource
from ._event_type import EventType
from ._session import Session
from ._session_event import SessionEvent
from ._session_metadata import SessionMetadata
from ._session_run import RunStatus, SessionRun
from ._token_usage import CountMethod, TokenSummary, TokenUsage

__all__ = [
    "Attachment",
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
