"""The ``openai-responses`` format: a JSON array of Responses / Conversations API items.

Messages are ``{"type": "message", "role": ..., "content": [parts]}`` (``input_text`` parts for
system and user, ``output_text`` for the assistant), tool calls ``function_call`` items and
their results ``function_call_output`` items. Importing accepts the same items, and also the
short ``{"role": ..., "content": "text"}`` form; it goes through the chat form (see
``openai_chat``), so both formats describe a conversation the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import InvalidFileError
from ..models import Session
from .openai_chat import DEFAULT_MODEL, messages_of, session_from_messages

__all__ = ["dump", "input_parts", "items_from_messages", "load", "messages_from_items"]

_TEXT_PARTS = ("input_text", "output_text", "text")


async def dump(sessions: Sequence[Session[Any]]) -> str:
    """The sessions' conversation as an indented JSON array of items."""
    items = items_from_messages(await messages_of(sessions))
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


async def load(text: str, *, model: str = DEFAULT_MODEL) -> list[Session[Any]]:
    """One new session holding the conversation of a JSON array of items."""
    try:
        items = json.loads(text)
    except ValueError as exc:
        raise InvalidFileError(getattr(exc, "lineno", 1), str(exc)) from exc
    if not isinstance(items, list):
        raise InvalidFileError(1, f"a JSON {type(items).__name__}, expected an array")
    messages, numbers = messages_from_items(items)
    try:
        return [await session_from_messages(messages, model=model)]
    except InvalidFileError as exc:
        # Name the item, not the chat message it became.
        raise InvalidFileError(numbers[exc.line - 1], exc.reason) from exc


def items_from_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chat messages as Responses items."""
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message["role"]
        content = message.get("content")
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message["tool_call_id"],
                    "output": content,
                }
            )
            continue
        if content or not message.get("tool_calls"):
            items.append(_message_item(role, content))
        for call in message.get("tool_calls") or ():
            function = call["function"]
            items.append(
                {
                    "type": "function_call",
                    "call_id": call["id"],
                    "name": function["name"],
                    "arguments": function["arguments"],
                }
            )
    return items


def _message_item(role: str, content: Any) -> dict[str, Any]:
    if role == "user" and isinstance(content, list):
        return {"type": "message", "role": role, "content": input_parts(content)}
    text = content if isinstance(content, str) else json.dumps(content)
    part: dict[str, Any] = {"type": "input_text", "text": text}
    if role == "assistant":
        part = {"type": "output_text", "text": text, "annotations": []}
    return {"type": "message", "role": role, "content": [part]}


def input_parts(parts: Sequence[Any]) -> list[dict[str, Any]]:
    """Chat content parts as Responses input parts: ``input_text``, ``input_image`` (an
    ``image_url`` part) and ``input_file`` (a ``file`` part).

    Args:
        parts: Chat content parts.

    Returns:
        The Responses parts.
    """
    converted: list[dict[str, Any]] = []
    for part in parts:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "image_url":
            image = part["image_url"]
            detail = image.get("detail", "auto")
            converted.append({"type": "input_image", "image_url": image["url"], "detail": detail})
        elif kind == "file":
            file = part["file"]
            converted.append(
                {"type": "input_file", "filename": file["filename"], "file_data": file["file_data"]}
            )
        else:
            text = part.get("text", "") if isinstance(part, Mapping) else str(part)
            converted.append({"type": "input_text", "text": text})
    return converted


def messages_from_items(items: Sequence[Any]) -> tuple[list[dict[str, Any]], list[int]]:
    """Items as chat messages, and for each message the (1-based) item it came from."""
    messages: list[dict[str, Any]] = []
    numbers: list[int] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise InvalidFileError(number, f"item {item!r} is not an object")
        kind = item.get("type", "message")
        if kind == "message":
            messages.append({"role": item.get("role"), "content": _text(number, item)})
        elif kind == "function_call":
            _add_call(messages, numbers, number, item)
            continue
        elif kind == "function_call_output":
            output = item.get("output")
            messages.append(
                {"role": "tool", "tool_call_id": item.get("call_id"), "content": output}
            )
        else:
            raise InvalidFileError(number, f"item type {kind!r} is not supported")
        numbers.append(number)
    return messages, numbers


def _add_call(
    messages: list[dict[str, Any]], numbers: list[int], number: int, item: Mapping[str, Any]
) -> None:
    """Attach a function call to the assistant message before it, or start one."""
    call = {
        "id": item.get("call_id"),
        "type": "function",
        "function": {"name": item.get("name"), "arguments": item.get("arguments", "{}")},
    }
    last = messages[-1] if messages else None
    if last is None or last["role"] != "assistant":
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        numbers.append(number)
    else:
        last.setdefault("tool_calls", []).append(call)


def _text(number: int, item: Mapping[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidFileError(number, f"content {content!r} is not text or a list of parts")
    texts = []
    for part in content:
        if not isinstance(part, Mapping) or part.get("type") not in _TEXT_PARTS:
            raise InvalidFileError(number, f"content part {part!r} is not a text part")
        texts.append(str(part.get("text", "")))
    return "".join(texts)
