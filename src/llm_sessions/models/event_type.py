"""What kind of thing an event records."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["EventType"]


class EventType(StrEnum):
    """The kind of a session event."""

    MESSAGE = "message"
    SUMMARY = "summary"
    TOOL_CALL = "tool_call"
    REFERENCE = "reference"
    CONTEXT_BRIDGE = "context_bridge"
