"""The Agents SDK session's items as plain data: their text, whether they may hold stored
parts, and tool output trimmed to a stub."""

from __future__ import annotations

import json
from collections.abc import Mapping
from itertools import repeat
from typing import Any

from ..tokens import count_text

__all__ = ["item_text", "may_hold_parts", "trimmed_outputs"]


def may_hold_parts(items: list[Any]) -> bool:
    """Whether an item's content is a list, which may hold stored parts (a C loop over the
    items: no Python call per item)."""
    try:
        kinds = set(map(type, map(dict.get, items, repeat("content"))))
    except TypeError:  # an item that is not a dict
        return True
    return any(issubclass(kind, list) for kind in kinds)


def item_text(item: Any) -> str:
    """The text an item carries: message content, call arguments or a tool's output."""
    if not isinstance(item, Mapping):
        return json.dumps(item)
    for key in ("content", "arguments", "output"):
        value = item.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            texts = [part.get("text") for part in value if isinstance(part, Mapping)]
            return "".join(text for text in texts if isinstance(text, str))
    return json.dumps(item, ensure_ascii=False)


def trimmed_outputs(items: list[Any], after_turns: int, model: str) -> list[Any]:
    """``items`` with each tool output older than ``after_turns`` turns as a stub (a copy)."""
    seen = 0
    cutoff = 0
    for index in range(len(items) - 1, -1, -1):
        item = items[index]
        if isinstance(item, Mapping) and item.get("role") == "user":
            seen += 1
            if seen == after_turns + 1:
                cutoff = index
                break
    names = {
        item.get("call_id"): item.get("name")
        for item in items[:cutoff]
        if isinstance(item, Mapping) and item.get("type") == "function_call"
    }
    return [
        _output_stub(item, names, model) if index < cutoff else item
        for index, item in enumerate(items)
    ]


def _output_stub(item: Any, names: Mapping[Any, Any], model: str) -> Any:
    if not isinstance(item, Mapping) or item.get("type") != "function_call_output":
        return item
    call_id = item.get("call_id")
    tokens = count_text(item_text(item), model).tokens
    name = names.get(call_id) or "unknown_tool"
    stub = f"[tool result trimmed: {name}, call {call_id}, {{saved}} tokens saved]"
    saved = tokens - count_text(stub.format(saved=tokens), model).tokens
    return {**item, "output": stub.format(saved=saved)} if saved > 0 else item
