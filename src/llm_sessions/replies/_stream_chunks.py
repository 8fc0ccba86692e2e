"""Reading the items of an OpenAI streaming response: chat-completions chunks or Responses events.

``chunk_deltas`` turns one item into what it adds to the reply: text, tool-call pieces and the
usage (which arrives with the last item). Items are the ``openai`` package's models
(``ChatCompletionChunk``, ``ResponseTextDeltaEvent``...) or the same shapes as dicts; Responses
events that add nothing to the reply (``response.created``, ``...done``) add nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import InvalidInputError

__all__ = ["ChunkDeltas", "ToolCallDelta", "chunk_deltas"]


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of one tool call: its position in the reply, and what this item adds to it."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class ChunkDeltas:
    """What one stream item adds to the reply."""

    text: str = ""
    tool_calls: list[ToolCallDelta] = field(default_factory=list)
    usage: Any = None


_FAILED_EVENTS = frozenset({"error", "response.failed"})


def chunk_deltas(item: object, position: int) -> ChunkDeltas:
    """What the stream's item at ``position`` adds to the reply.

    Args:
        item: A ``ChatCompletionChunk`` or a Responses stream event (model or dict).
        position: Its place in the stream (0 first), named in errors.

    Returns:
        Its text, tool-call pieces and usage.

    Raises:
        InvalidInputError: The item is neither shape, its text is not text, or it reports
            that the response failed.
    """
    dump = getattr(item, "model_dump", None)
    data = dump() if callable(dump) else item
    where = f"stream[{position}]"
    if not isinstance(data, Mapping):
        raise InvalidInputError(
            where, item, "must be a ChatCompletionChunk or a Responses stream event"
        )
    if "choices" in data:
        return _chat_chunk(data, where)
    kind = data.get("type")
    if isinstance(kind, str) and (kind.startswith("response.") or kind in _FAILED_EVENTS):
        return _responses_event(data, kind, where)
    raise InvalidInputError(
        where, item, "must be a ChatCompletionChunk or a Responses stream event"
    )


def _chat_chunk(data: Mapping[str, Any], where: str) -> ChunkDeltas:
    deltas = ChunkDeltas(usage=data.get("usage"))
    choices = data["choices"]
    if not isinstance(choices, Sequence) or isinstance(choices, str):
        raise InvalidInputError(f"{where}.choices", choices, "must be a list")
    if not choices:  # the closing chunk of include_usage: usage only
        return deltas
    delta = choices[0].get("delta") if isinstance(choices[0], Mapping) else None
    if not isinstance(delta, Mapping):
        raise InvalidInputError(f"{where}.choices[0].delta", delta, "must be a delta object")
    deltas.text = _text(delta.get("content"), f"{where}.choices[0].delta.content")
    for n, call in enumerate(delta.get("tool_calls") or ()):
        deltas.tool_calls.append(_chat_tool_call(call, f"{where}.choices[0].delta.tool_calls[{n}]"))
    return deltas


def _chat_tool_call(call: object, where: str) -> ToolCallDelta:
    if not isinstance(call, Mapping) or not isinstance(call.get("index"), int):
        raise InvalidInputError(where, call, 'must be a tool-call delta with an "index"')
    function = call.get("function") or {}
    if not isinstance(function, Mapping):
        raise InvalidInputError(f"{where}.function", function, "must be an object")
    return ToolCallDelta(
        call["index"],
        _optional_text(call.get("id"), f"{where}.id"),
        _optional_text(function.get("name"), f"{where}.function.name"),
        _text(function.get("arguments"), f"{where}.function.arguments"),
    )


def _responses_event(data: Mapping[str, Any], kind: str, where: str) -> ChunkDeltas:
    if kind == "response.output_text.delta":
        return ChunkDeltas(text=_text(data.get("delta"), f"{where}.delta"))
    if kind == "response.output_item.added":
        item = data.get("item")
        if isinstance(item, Mapping) and item.get("type") == "function_call":
            index = _index(data, where)
            name = _optional_text(item.get("name"), f"{where}.item.name")
            call_id = _optional_text(item.get("call_id"), f"{where}.item.call_id")
            arguments = _text(item.get("arguments"), f"{where}.item.arguments")
            return ChunkDeltas(tool_calls=[ToolCallDelta(index, call_id, name, arguments)])
        return ChunkDeltas()
    if kind == "response.function_call_arguments.delta":
        arguments = _text(data.get("delta"), f"{where}.delta")
        return ChunkDeltas(tool_calls=[ToolCallDelta(_index(data, where), arguments=arguments)])
    if kind == "response.completed":
        response = data.get("response")
        return ChunkDeltas(usage=response.get("usage") if isinstance(response, Mapping) else None)
    if kind in _FAILED_EVENTS:
        raise InvalidInputError(where, dict(data), "the stream reported that the response failed")
    return ChunkDeltas()


def _index(data: Mapping[str, Any], where: str) -> int:
    index = data.get("output_index")
    if isinstance(index, bool) or not isinstance(index, int):
        raise InvalidInputError(f"{where}.output_index", index, "must be a whole number")
    return index


def _text(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError(where, value, "must be text")
    return value


def _optional_text(value: object, where: str) -> str | None:
    return None if value is None else _text(value, where)
