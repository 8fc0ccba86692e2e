"""Reading what an LLM call returned, whatever shape the client gave it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .exceptions import InvalidInputError

__all__ = ["response_text", "response_usage"]


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
