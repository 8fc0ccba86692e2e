"""The simple API: SessionManager and the track_* helpers."""

# ``simple_api`` is imported first: it re-exports the helpers, which import SessionManager from it.
from .simple_api import (
    SessionManager,
    quick_conversation,
    track_conversation,
    track_infinite_conversation,
    track_llm_call,
)

__all__ = [
    "SessionManager",
    "quick_conversation",
    "track_conversation",
    "track_infinite_conversation",
    "track_llm_call",
]
