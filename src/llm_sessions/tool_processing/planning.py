"""Checking a tool call before it runs: does the tool exist, do the arguments fit?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ToolProcessingError
from ..replies import ToolCallRequest
from ..tools import (
    RegisteredTool,
    ToolArgumentsError,
    ToolArgumentsJSONError,
    ToolNotFoundError,
    ToolRegistry,
    decode_arguments,
)
from .results import ToolErrorType

__all__ = ["PlannedCall", "plan_call"]


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """A tool call ready to run (``tool`` and ``parsed`` set) or rejected (``error`` set).

    ``arguments`` are the arguments as the model sent them, decoded (``{}`` if undecodable);
    ``undecodable`` keeps the text the model sent when it could not be decoded.
    """

    request: ToolCallRequest
    arguments: dict[str, Any] = field(default_factory=dict)
    tool: RegisteredTool | None = None
    parsed: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: ToolErrorType | None = None
    undecodable: str | None = None

    @property
    def valid(self) -> bool:
        """True when the call can run."""
        return self.error is None


def plan_call(registry: ToolRegistry, request: ToolCallRequest) -> PlannedCall:
    """Look the tool up and validate the arguments; problems become a rejected call.

    An unknown tool is reported before bad arguments: the model has to pick another tool first.
    """
    arguments: dict[str, Any] = {}
    decode_error: ToolArgumentsError | None = None
    try:
        arguments = decode_arguments(request.arguments, request.name)
    except ToolArgumentsError as exc:
        decode_error = exc
    undecodable = None if decode_error is None else _as_text(request.arguments)
    try:
        tool = registry.get(request.name)
    except ToolNotFoundError as exc:
        return _rejected(request, arguments, exc, ToolErrorType.TOOL_NOT_FOUND, undecodable)
    if decode_error is not None:
        error_type = _argument_error_type(decode_error)
        return _rejected(request, arguments, decode_error, error_type, undecodable)
    try:
        parsed = tool.parse_arguments(arguments)
    except ToolArgumentsError as exc:
        return _rejected(request, arguments, exc, _argument_error_type(exc))
    return PlannedCall(request, arguments, tool, parsed)


def _argument_error_type(exc: ToolArgumentsError) -> ToolErrorType:
    if isinstance(exc, ToolArgumentsJSONError):
        return ToolErrorType.INVALID_JSON
    return ToolErrorType.INVALID_ARGUMENTS


def _rejected(
    request: ToolCallRequest,
    arguments: dict[str, Any],
    exc: ToolProcessingError,
    error_type: ToolErrorType,
    undecodable: str | None = None,
) -> PlannedCall:
    return PlannedCall(
        request, arguments, error=exc.reason, error_type=error_type, undecodable=undecodable
    )


def _as_text(raw: object) -> str:
    if isinstance(raw, bytes | bytearray):
        return bytes(raw).decode("utf-8", errors="replace")
    return str(raw)
