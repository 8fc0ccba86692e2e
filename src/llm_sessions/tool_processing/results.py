"""``ToolResult``: what one tool call an LLM asked for came to."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from ..models._base import utc_now
from .failures import AttemptFailure

__all__ = ["ToolErrorType", "ToolResult"]


class ToolErrorType(StrEnum):
    """Why a tool call has no result."""

    TOOL_NOT_FOUND = "tool_not_found"
    """The model named a tool that is not registered (or a bare name several namespaces share)."""
    INVALID_JSON = "invalid_json"
    """The arguments are not valid JSON."""
    INVALID_ARGUMENTS = "invalid_arguments"
    """The arguments are JSON but do not fit the tool's parameters."""
    TIMEOUT = "timeout"
    """The tool did not finish within the processor's timeout (on every attempt)."""
    EXECUTION = "execution"
    """The tool raised (on every attempt)."""
    INVALID_RESULT = "invalid_result"
    """The tool returned something that has no JSON form."""

    @property
    def is_invalid_call(self) -> bool:
        """True for errors in the call itself, which only the model can fix (the tool never ran)."""
        return self in _INVALID_CALL


_POSITIONAL = ("tool", "arguments", "result")

_INVALID_CALL = frozenset(
    {ToolErrorType.TOOL_NOT_FOUND, ToolErrorType.INVALID_JSON, ToolErrorType.INVALID_ARGUMENTS}
)


class ToolResult(BaseModel):
    """The outcome of one tool call.

    Attributes:
        tool: the tool name as the model wrote it.
        arguments: the arguments as the model sent them, decoded from JSON (``{}`` when they
            could not be decoded).
        result: the tool's return value as a JSON value (None on error).
        error: what went wrong, or None on success.
        error_type: the kind of error (see ``ToolErrorType``), or None on success.
        tool_call_id: the id the model gave the call (``tool_calls[i].id``), if any.
        start_time / end_time: when handling the call began and ended (UTC), retries included.
        duration: ``end_time - start_time`` in seconds, measured with a monotonic clock.
        attempts: how many times the tool was executed for this result; 0 when the answer came
            from the cache or the call was rejected before the tool ran.
        cached: whether the result was answered from the processor's cache.
        event_id: the id of the TOOL_CALL event that records this call.
        failures: every failed attempt with its exception type, message and traceback
            (recorded in the TOOL_CALL event, never sent to the model).
    """

    model_config = ConfigDict(frozen=True)

    tool: str
    arguments: dict[str, JsonValue] = Field(default_factory=dict)
    result: JsonValue = None
    error: str | None = None
    error_type: ToolErrorType | None = None
    tool_call_id: str | None = None
    start_time: datetime = Field(default_factory=utc_now)
    end_time: datetime = Field(default_factory=utc_now)
    duration: float = Field(default=0.0, ge=0)
    attempts: int = Field(default=0, ge=0)
    cached: bool = False
    event_id: str | None = None
    failures: list[AttemptFailure] = Field(default_factory=list)

    def __init__(self, *args: Any, **data: Any) -> None:
        """Fields by keyword, or ``ToolResult(tool, arguments, result)`` by position as the
        originals' examples build them."""
        if len(args) > len(_POSITIONAL):
            raise TypeError(f"ToolResult takes at most {len(_POSITIONAL)} positional arguments")
        for name, value in zip(_POSITIONAL, args, strict=False):
            if name in data:
                raise TypeError(f"ToolResult got {name!r} both by position and by keyword")
            data[name] = value
        super().__init__(**data)

    @property
    def succeeded(self) -> bool:
        """True when the tool returned a result."""
        return self.error is None

    def content(self) -> str:
        """The text sent back to the model for this call: the result (a string as is, anything
        else as JSON), or ``{"error": ...}`` as JSON.

        Returns:
            The text.
        """
        if self.error is not None:
            return json.dumps({"error": self.error}, ensure_ascii=False)
        if isinstance(self.result, str):
            return self.result
        return json.dumps(self.result, ensure_ascii=False)

    def to_tool_message(self) -> dict[str, Any]:
        """The OpenAI chat message that answers this call: ``{"role": "tool", ...}``.

        Returns:
            The message, with ``tool_call_id`` and ``content``.
        """
        return {"role": "tool", "tool_call_id": self.tool_call_id, "content": self.content()}
