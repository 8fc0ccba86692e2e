"""Who produced an event."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["EventSource"]


class EventSource(StrEnum):
    """The origin of a session event."""

    USER = "user"
    LLM = "llm"
    SYSTEM = "system"
