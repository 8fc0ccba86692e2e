"""llm_sessions: the session layer for LLM applications.

Record every message, model reply and tool call in order, with its tokens and cost; organise
sessions in trees and runs; rebuild prompts under a token budget, also for conversations longer
than any context window; keep it all in memory, files, SQLite, Redis or PostgreSQL.
"""

from .api import (
    SessionManager,
    quick_conversation,
    track_conversation,
    track_infinite_conversation,
    track_llm_call,
)
from .conversations import CompactionReport
from .models import (
    Attachment,
    EventSource,
    EventType,
    RunStatus,
    Session,
    SessionEvent,
    SessionRun,
    TokenSummary,
    TokenUsage,
)
from .prompting import Compaction, Recall
from .storage import Retention, SearchHit, SearchPage, SessionPage, SessionSummary, UsageRow

__all__ = [
    "Attachment",
    "Compaction",
    "CompactionReport",
    "EventSource",
    "EventType",
    "Recall",
    "Retention",
    "RunStatus",
    "SearchHit",
    "SearchPage",
    "Session",
    "SessionEvent",
    "SessionManager",
    "SessionPage",
    "SessionRun",
    "SessionSummary",
    "TokenSummary",
    "TokenUsage",
    "UsageRow",
    "quick_conversation",
    "track_conversation",
    "track_infinite_conversation",
    "track_llm_call",
]
