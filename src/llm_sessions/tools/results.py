"""Turning whatever a tool returns into a JSON value that can be stored and sent back to an LLM."""

from __future__ import annotations

from typing import cast

from pydantic import JsonValue
from pydantic_core import PydanticSerializationError, to_jsonable_python

from ..exceptions import InvalidInputError
from ..validation import ensure_json_value

__all__ = ["JsonValue", "to_json_value"]


def to_json_value(value: object, field: str = "result") -> JsonValue:
    """Return ``value`` as a JSON value (``None``, bool, int, float, str, list, dict).

    Pydantic models are dumped in JSON mode, dataclasses become dicts, tuples and sets lists,
    enums their values, datetimes/dates ISO 8601 strings, UUIDs and Decimals strings, UTF-8 bytes
    strings, non-string dict keys strings; containers are converted all the way down.
    Raises ``InvalidInputError`` naming ``field`` for a value with no JSON form (an arbitrary
    object, NaN or infinity, bytes that are not UTF-8).

    Args:
        value: The value to convert.
        field: What the error calls the value.

    Returns:
        The JSON value.

    Raises:
        InvalidInputError: The value has no JSON form.
    """
    try:
        converted = to_jsonable_python(value)
    except (PydanticSerializationError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            field, value, f"{type(value).__name__} is not JSON-serialisable ({exc})"
        ) from exc
    return cast(JsonValue, ensure_json_value(converted, field))
