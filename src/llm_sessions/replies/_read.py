"""Reading what an LLM call returned, and its tool calls, whatever shape the client gave it.

``response_text`` / ``response_usage`` read the text and usage of any reply; ``read_reply``
checks an assistant message with its tool calls; ``recorded_reply`` is what
``SessionManager.ai_responds`` records for a reply.


Accepted: an OpenAI-style message dict, the ``openai`` package's ``ChatCompletionMessage`` (or any
pydantic model / object with ``model_dump()``), or a whole ``ChatCompletion`` (its first choice's
message is taken, with its ``usage``). The shape is checked completely before anything is
recorded; unknown tools and bad arguments are not shape errors (the model can fix those).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..exceptions import InvalidInputError
from ..tools import RawArguments
from ..validation import ensure_json_value

__all__ = [
    "AssistantReply",
    "RecordedReply",
    "ToolCallRequest",
    "as_text",
    "read_reply",
    "recorded_reply",
    "response_text",
    "response_usage",
]


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """One tool call as the model wrote it."""

    id: str | None
    name: str
    arguments: RawArguments


@dataclass(frozen=True, slots=True)
class AssistantReply:
    """An assistant message as a JSON dict, its tool calls, and the usage found with it."""

    message: dict[str, Any]
    tool_calls: tuple[ToolCallRequest, ...]
    usage: Any = None

    def completion_text(self) -> str:
        """The text the model generated: its content, then each call's name and arguments."""
        parts = [response_text(self.message)] if self.message.get("content") else []
        for call in self.tool_calls:
            arguments = call.arguments
            if not isinstance(arguments, str | None):
                arguments = json.dumps(arguments, ensure_ascii=False)
            parts.append(f"{call.name}({arguments or ''})")
        return "\n".join(parts)


def read_reply(reply: object, field: str = "llm_msg") -> AssistantReply:
    """Check and normalise an assistant reply; raises ``InvalidInputError`` naming the field."""
    message, usage = _as_message(reply, field)
    message = ensure_json_value(message, field)
    return AssistantReply(message, _tool_calls(message, field), usage)


def _dump(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    return value.model_dump()  # type: ignore[attr-defined]


def _as_message(reply: object, field: str) -> tuple[dict[str, Any], Any]:
    value: object = reply
    if not isinstance(value, Mapping) and callable(getattr(value, "model_dump", None)):
        value = _dump(value)
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            field,
            reply,
            "must be an assistant message: a dict or an object with model_dump(), such as "
            "openai's ChatCompletionMessage",
        )
    if "choices" in value:  # a whole completion: take the first choice's message
        choices = value["choices"]
        if not isinstance(choices, Sequence) or not choices:
            raise InvalidInputError(f"{field}.choices", choices, "must be a non-empty list")
        first = choices[0]
        inner = first.get("message") if isinstance(first, Mapping) else None
        if not isinstance(inner, Mapping):
            raise InvalidInputError(f"{field}.choices[0].message", inner, "must be a message")
        return dict(inner), value.get("usage")
    return dict(value), None


def _tool_calls(message: Mapping[str, Any], field: str) -> tuple[ToolCallRequest, ...]:
    calls = message.get("tool_calls")
    if calls is None:
        legacy = message.get("function_call")  # the pre-tools OpenAI form: one call, no id
        if legacy is None:
            return ()
        return (_function(legacy, None, f"{field}.function_call"),)
    if isinstance(calls, str | bytes) or not isinstance(calls, Sequence):
        raise InvalidInputError(f"{field}.tool_calls", calls, "must be a list of tool calls")
    return tuple(_tool_call(call, f"{field}.tool_calls[{i}]") for i, call in enumerate(calls))


def _tool_call(call: object, field: str) -> ToolCallRequest:
    if not isinstance(call, Mapping):
        raise InvalidInputError(field, call, 'must be a dict with a "function"')
    kind = call.get("type", "function")
    if kind != "function":
        raise InvalidInputError(f"{field}.type", kind, 'only "function" tool calls are supported')
    call_id = call.get("id")
    if call_id is not None and not isinstance(call_id, str):
        raise InvalidInputError(f"{field}.id", call_id, "must be a string")
    return _function(call.get("function"), call_id, f"{field}.function")


def _function(function: object, call_id: str | None, field: str) -> ToolCallRequest:
    if not isinstance(function, Mapping):
        raise InvalidInputError(field, function, 'must be a dict with "name" and "arguments"')
    name = function.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"{field}.name", name, "must be a non-empty string")
    arguments = function.get("arguments")
    if arguments is not None and not isinstance(arguments, str | Mapping):
        raise InvalidInputError(f"{field}.arguments", arguments, "must be JSON text or an object")
    return ToolCallRequest(call_id, name, arguments)


def response_text(response: Any) -> str:
    """The text of a reply: a string, an object with ``.content``, an OpenAI-style dict or
    ``ChatCompletion`` with ``choices``, or a message dict with ``content``."""
    if isinstance(response, str):
        return response
    if isinstance(response, Mapping):
        if "choices" in response:
            return _text_or_empty(response["choices"][0]["message"].get("content"))
        if "content" in response:
            return _text_or_empty(response["content"])
    choices = getattr(response, "choices", None)
    if choices:
        return _text_or_empty(choices[0].message.content)
    if hasattr(response, "content"):
        return _text_or_empty(response.content)
    raise InvalidInputError(
        "response", response, "must be a string, have .content, or be an OpenAI-style reply"
    )


def response_usage(response: Any) -> Any:
    """The provider-reported usage attached to a reply, or None."""
    if isinstance(response, Mapping):
        return response.get("usage")
    return getattr(response, "usage", None)


def _text_or_empty(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return "".join(
            part.get("text", "") if isinstance(part, Mapping) else str(part) for part in content
        )
    return str(content)


@dataclass(frozen=True, slots=True)
class RecordedReply:
    """The event message of a reply, the text its tokens are counted from, and the usage the
    provider reported with it (None if none came with it)."""

    message: Any
    completion: str
    usage: Any = None


def recorded_reply(response: Any) -> RecordedReply:
    """A string or JSON value is recorded as given. An OpenAI assistant message (a dict with
    ``role``/``tool_calls``, or an object with ``model_dump()`` such as
    ``ChatCompletionMessage``) or a whole ``ChatCompletion`` is recorded as the message dict,
    ``tool_calls`` included, so the prompt renders the calls and links their results."""
    if _is_assistant_message(response):
        reply = read_reply(response, "response")
        return RecordedReply(reply.message, reply.completion_text(), reply.usage)
    ensure_json_value(response, "response")
    return RecordedReply(response, as_text(response))


def as_text(value: Any) -> str:
    """A string as it is, any other JSON value as its JSON text."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _is_assistant_message(response: Any) -> bool:
    if isinstance(response, Mapping):
        return "choices" in response or "tool_calls" in response or "role" in response
    return not isinstance(response, str) and callable(getattr(response, "model_dump", None))
