"""The simple API: SessionManager and the track_* helpers."""

from .helpers import (
    quick_conversation,
    track_conversation,
    track_infinite_conversation,
    track_llm_call,
)
from .manager import SessionManager

__all__ = [
    "SessionManager",
    "quick_conversation",
    "track_conversation",
    "track_infinite_conversation",
    "track_llm_call",
]
