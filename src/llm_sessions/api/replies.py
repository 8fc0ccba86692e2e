"""What ``SessionManager.ai_responds`` records for a reply, whatever form the client gave it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..replies._read import read_reply
from ..validation import ensure_json_value

__all__ = ["RecordedReply", "as_text", "recorded_reply"]


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
