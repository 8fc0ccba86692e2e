"""Old path of ``api.manager`` and ``api.helpers``, kept for imports (see ``compat``)."""

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
