"""Read-only views of a session for people: its events as a tree of replies and tool calls."""

from ._event_tree import (
    EventNode,
    ToolCallStatus,
    build_event_tree,
    event_kind,
    event_tree_data,
    render_event_tree,
)

__all__ = [
    "EventNode",
    "ToolCallStatus",
    "build_event_tree",
    "event_kind",
    "event_tree_data",
    "render_event_tree",
]
