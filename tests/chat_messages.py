"""OpenAI-style assistant messages with tool calls, for tests that feed them to the library."""

from __future__ import annotations

import json
from typing import Any


def call(name: str, arguments: Any = None, call_id: str | None = None) -> dict[str, Any]:
    """One tool call; ``arguments`` that are not a string are sent as JSON text."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
    made: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": text}}
    if call_id is not None:
        made["id"] = call_id
    return made


def assistant(*calls: dict[str, Any], content: str | None = None) -> dict[str, Any]:
    """An assistant message with these tool calls."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = list(calls)
    return message
