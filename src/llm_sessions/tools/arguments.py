"""Decoding the arguments an LLM sent, and translating pydantic's errors into problems."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from .errors import ArgumentProblem, ToolArgumentsJSONError, ToolArgumentsValidationError

__all__ = ["ROOT_FIELD", "RawArguments", "decode_arguments", "problems_from_validation_error"]

ROOT_FIELD = "(arguments)"
"""The ``field`` of a problem with the arguments as a whole (not an object, say)."""

RawArguments = str | bytes | bytearray | Mapping[str, Any] | None
"""What a tool call's arguments may arrive as: JSON text, an already decoded object, or nothing."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a float")
    return value


def decode_arguments(raw: RawArguments, tool_name: str) -> dict[str, Any]:
    """Return the arguments as a dict, decoding JSON text; nothing at all means no arguments.

    ``None``, ``""`` and blank text mean ``{}`` (LLMs send an empty string for a call without
    arguments). Raises ``ToolArgumentsJSONError`` for text that is not JSON (``NaN`` and
    ``Infinity`` included), and ``ToolArgumentsValidationError`` for JSON that is not an object.

    Args:
        raw: JSON text, a mapping, or nothing.
        tool_name: The tool's name, for the errors.

    Returns:
        The arguments by name.

    Raises:
        ToolArgumentsJSONError: The text is not JSON.
        ToolArgumentsValidationError: The JSON is not an object.
    """
    decoded: object
    if raw is None:
        return {}
    if isinstance(raw, bytes | bytearray):
        data = bytes(raw)
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = data.decode("utf-8", errors="replace")
            raise ToolArgumentsJSONError(tool_name, text, "not UTF-8", exc.start) from exc
    if isinstance(raw, str):
        if not raw.strip():
            return {}
        try:
            decoded = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        except json.JSONDecodeError as exc:
            raise ToolArgumentsJSONError(tool_name, raw, exc.msg, exc.pos) from exc
        except ValueError as exc:  # NaN, Infinity, a number too large to represent
            raise ToolArgumentsJSONError(tool_name, raw, str(exc)) from exc
    else:
        decoded = raw
    if isinstance(decoded, Mapping):
        return dict(decoded)
    raise ToolArgumentsValidationError(
        tool_name,
        [
            ArgumentProblem(
                field=ROOT_FIELD,
                value=decoded,
                kind="object_type",
                message=f"arguments must be a JSON object, not {_json_kind(decoded)}",
            )
        ],
    )


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if value is None:
        return "null"
    return type(value).__name__


def _field_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or ROOT_FIELD


def problems_from_validation_error(error: ValidationError) -> list[ArgumentProblem]:
    """Translate pydantic's errors into problems that name the field path and the value sent."""
    problems: list[ArgumentProblem] = []
    for item in error.errors(include_url=False):
        kind = item["type"]
        problems.append(
            ArgumentProblem(
                field=_field_path(item["loc"]),
                value=None if kind == "missing" else item.get("input"),
                kind=kind,
                message=item["msg"],
            )
        )
    return problems
