"""A session's events as a tree: model replies with the tool calls they asked for beneath them.

::

    from llm_sessions.event_tree import render_event_tree

    print(render_event_tree(session))

    • user_message    [1f0c2b9a] What's the weather in Tokyo and 15.5 × 23.2?
    • llm_message     [8d21e4f0] → get_weather, calculator
      • tool_call     [c4a7d2e1] get_weather ✅ success 201 ms
      • tool_call     [0b9e7a33] calculator ❌ error 2 ms (3 attempts): ZeroDivisionError: ...
    • llm_message     [5e6f7a8b] It is 21 °C and sunny in Tokyo.

An event is placed under the event its ``parent_event_id`` names; events without a parent (or
whose parent is not in the session) are roots. Every event appears once, in session order among
its siblings, whatever its type. ``build_event_tree`` returns the nodes and ``event_tree_data``
the same tree as nested dicts (JSON-ready), for renderers such as rich's ``Tree``; this module
itself needs nothing beyond the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..models._event_type import EventType
from ..models._session import Session
from ..models._session_event import SessionEvent
from ..replies import response_text

__all__ = [
    "EventNode",
    "ToolCallStatus",
    "build_event_tree",
    "event_kind",
    "event_tree_data",
    "render_event_tree",
]

_PREVIEW_CHARS = 60
_ID_CHARS = 8
_KIND_COLUMN = 16  # where the id starts at depth 0; deeper rows keep ids aligned
_BULLETS = {False: "•", True: "*"}


class ToolCallStatus(StrEnum):
    """How a tool call ended."""

    SUCCESS = "success"
    ERROR = "error"
    CACHED = "cached"

    @property
    def symbol(self) -> str:
        """An emoji for the status."""
        return {"success": "✅", "error": "❌", "cached": "⚡"}[self.value]


def event_kind(event: SessionEvent[Any]) -> str:
    """``user_message``, ``llm_message``, ``system_message``, or the event type's value
    (``tool_call``, ``summary``, ``reference``, ``context_bridge``)."""
    if event.type is EventType.MESSAGE:
        return f"{event.source.value}_message"
    return str(event.type)


@dataclass(slots=True, eq=False)
class EventNode:
    """One event in the tree and the events recorded as its children."""

    event: SessionEvent[Any]
    children: list[EventNode] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """See ``event_kind``."""
        return event_kind(self.event)

    @property
    def tool(self) -> str | None:
        """The tool name of a tool call (``tool``, or the older ``tool_name``)."""
        message = self._tool_message()
        name = message.get("tool") or message.get("tool_name") or message.get("name")
        return name if isinstance(name, str) else None

    @property
    def status(self) -> ToolCallStatus | None:
        """How a tool call ended; None for other events."""
        if self.event.type is not EventType.TOOL_CALL:
            return None
        message = self._tool_message()
        if message.get("success") is False or message.get("error") is not None:
            return ToolCallStatus.ERROR
        return ToolCallStatus.CACHED if message.get("cached") is True else ToolCallStatus.SUCCESS

    @property
    def duration(self) -> float | None:
        """A tool call's duration in seconds, when it was recorded."""
        value = self._tool_message().get("duration")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return None

    @property
    def attempts(self) -> int | None:
        """How many times a tool call's tool was executed, when it was recorded."""
        value = self._tool_message().get("attempts")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def error(self) -> str | None:
        """A tool call's error text."""
        value = self._tool_message().get("error")
        return None if value is None else str(value)

    @property
    def failures(self) -> list[dict[str, Any]]:
        """A tool call's failed attempts, oldest first, each with ``attempt``,
        ``exception_type``, ``message`` and ``traceback`` (None for a timeout). Entries not in
        that shape (damaged or hand-made data) are left out."""
        recorded = self._tool_message().get("failures")
        if not isinstance(recorded, list):
            return []
        return [_failure(entry) for entry in recorded if _is_failure(entry)]

    @property
    def label(self) -> str:
        """A one-line preview of the event's message."""
        if self.event.type is EventType.TOOL_CALL:
            return self.tool or _one_line(self.event.message)
        text = _message_text(self.event.message)
        attempt = self.event.metadata.get("attempt")
        if isinstance(attempt, int) and not isinstance(attempt, bool) and attempt > 1:
            text = f"{text} (attempt {attempt})".strip()
        return text

    def _tool_message(self) -> Mapping[str, Any]:
        message = self.event.message
        if self.event.type is EventType.TOOL_CALL and isinstance(message, Mapping):
            return message
        return {}

    def walk(self, depth: int = 0) -> Iterator[tuple[int, EventNode]]:
        """This node and all below it, depth first, with their depth."""
        stack: list[tuple[int, EventNode]] = [(depth, self)]
        while stack:
            level, node = stack.pop()
            yield level, node
            stack.extend((level + 1, child) for child in reversed(node.children))

    def to_dict(self, *, failures: bool = False) -> dict[str, Any]:
        """The node and its children as JSON-ready nested dicts (see ``event_tree_data``)."""
        root = self._own_dict(failures)
        stack = [(self, root)]
        while stack:
            node, data = stack.pop()
            for child in node.children:
                child_data = child._own_dict(failures)
                data["children"].append(child_data)
                stack.append((child, child_data))
        return root

    def _own_dict(self, failures: bool) -> dict[str, Any]:
        event, usage = self.event, self.event.token_usage
        status = self.status
        data: dict[str, Any] = {
            "id": event.id,
            "kind": self.kind,
            "type": str(event.type),
            "source": event.source.value,
            "timestamp": event.timestamp.isoformat(),
            "label": self.label,
            "tool": self.tool,
            "status": None if status is None else status.value,
            "duration": self.duration,
            "attempts": self.attempts,
            "error": self.error,
            "tokens": 0 if usage is None else usage.total_tokens,
            "task_id": event.task_id,
            "children": [],
        }
        if failures:
            data["failures"] = self.failures
        return data


def _is_failure(entry: Any) -> bool:
    return (
        isinstance(entry, Mapping)
        and isinstance(entry.get("exception_type"), str)
        and isinstance(entry.get("message"), str)
        and isinstance(entry.get("traceback"), str | None)
    )


def _failure(entry: Mapping[str, Any]) -> dict[str, Any]:
    attempt = entry.get("attempt")
    return {
        "attempt": attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None,
        "exception_type": entry["exception_type"],
        "message": entry["message"],
        "traceback": entry.get("traceback"),
    }


def build_event_tree(events: Session[Any] | Iterable[SessionEvent[Any]]) -> list[EventNode]:
    """The root nodes of the tree of a session's events (or of any events, in order)."""
    ordered = list(events.events if isinstance(events, Session) else events)
    nodes = [EventNode(event) for event in ordered]
    by_id: dict[str, EventNode] = {}
    for node in nodes:
        by_id.setdefault(node.event.id, node)
    roots: list[EventNode] = []
    for node in nodes:
        parent = by_id.get(node.event.parent_event_id or "")
        if parent is None or parent is node:
            roots.append(node)
        else:
            parent.children.append(node)
    reached = {id(node) for root in roots for _, node in root.walk()}
    for node in nodes:
        if id(node) not in reached:  # on a cycle of parent links (damaged data): cut it here
            by_id[node.event.parent_event_id or ""].children.remove(node)
            roots.append(node)
            reached.update(id(below) for _, below in node.walk())
    position = {id(node): index for index, node in enumerate(nodes)}
    return sorted(roots, key=lambda root: position[id(root)])


def event_tree_data(
    events: Session[Any] | Iterable[SessionEvent[Any]], *, failures: bool = False
) -> list[dict[str, Any]]:
    """The tree as nested dicts: ``id``, ``kind``, ``type``, ``source``, ``timestamp``,
    ``label``, ``tool``, ``status``, ``duration`` (seconds), ``attempts``, ``error``,
    ``tokens``, ``task_id`` and ``children``; with ``failures=True`` also ``failures``, a tool
    call's failed attempts with their tracebacks (see ``EventNode.failures``)."""
    return [root.to_dict(failures=failures) for root in build_event_tree(events)]


def render_event_tree(
    events: Session[Any] | Iterable[SessionEvent[Any]],
    *,
    ascii_only: bool = False,
    preview_chars: int = _PREVIEW_CHARS,
) -> str:
    """The tree as text, one event per line, children indented under their parent.

    ``ascii_only`` uses ``*`` for • and ``->`` for →, and leaves out the status emoji.
    Returns an empty string for a session without events.
    """
    lines = []
    for root in build_event_tree(events):
        for depth, node in root.walk():
            lines.append(_line(node, depth, ascii_only, preview_chars))
    return "\n".join(lines)


def _line(node: EventNode, depth: int, ascii_only: bool, preview_chars: int) -> str:
    kind = node.kind
    width = max(_KIND_COLUMN - 2 * depth, len(kind) + 1)
    head = f"{'  ' * depth}{_BULLETS[ascii_only]} {kind:<{width}}[{node.event.id[:_ID_CHARS]}]"
    if node.status is None:
        detail = _shorten(node.label, preview_chars)
    else:
        detail = _tool_detail(node, node.status, ascii_only, preview_chars)
    if ascii_only:
        detail = detail.replace("→", "->")
    return f"{head} {detail}".rstrip()


def _tool_detail(
    node: EventNode, status: ToolCallStatus, ascii_only: bool, preview_chars: int
) -> str:
    parts = [node.label, status.value] if ascii_only else [node.label, status.symbol, status.value]
    if node.duration is not None:
        parts.append(_format_duration(node.duration))
    if node.attempts is not None and node.attempts > 1:
        parts.append(f"({node.attempts} attempts)")
    text = " ".join(parts)
    if status is ToolCallStatus.ERROR and node.error:
        text += f": {_shorten(node.error, preview_chars)}"
    return text


def _format_duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    milliseconds = seconds * 1000
    return f"{milliseconds:.1f} ms" if milliseconds < 10 else f"{milliseconds:.0f} ms"


def _message_text(message: Any) -> str:
    if isinstance(message, str):
        return _one_line(message)
    if isinstance(message, Mapping):
        calls = _called_tools(message.get("tool_calls"))
        text = ""
        if message.get("content") is not None:
            text = _one_line(response_text(message))
        elif isinstance(message.get("summary"), str):
            text = _one_line(message["summary"])
        elif not calls:
            text = _one_line(message)
        return f"{text} → {', '.join(calls)}".strip() if calls else text
    return _one_line(message)


def _called_tools(tool_calls: Any) -> list[str]:
    if not isinstance(tool_calls, list):
        return []
    names = []
    for call in tool_calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        names.append(name if isinstance(name, str) else "?")
    return names


def _one_line(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return " ".join(text.split())


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: max(limit - 1, 0)]}…"
