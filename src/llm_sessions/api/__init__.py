"""The simple API: SessionManager and the track_* helpers."""

from ._reply_stream import DEFAULT_CHECKPOINT_MS, ReplyStream
from .helpers import (
    quick_conversation,
    track_conversation,
    track_infinite_conversation,
    track_llm_call,
)
from .manager import SessionManager

__all__ = [
    "DEFAULT_CHECKPOINT_MS",
    "ReplyStream",
    "SessionManager",
    "quick_conversation",
    "track_conversation",
    "track_infinite_conversation",
    "track_llm_call",
]
