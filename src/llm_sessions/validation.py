"""Checks applied to input before it can change any state.

One home for the two rules every layer shares: what an id may look like, and what a JSON value is.
"""

from __future__ import annotations

import math
from typing import Any

from .exceptions import InvalidInputError, InvalidSessionId

__all__ = ["MAX_ID_LENGTH", "ensure_json_value", "validate_id", "validate_seconds"]

MAX_ID_LENGTH = 256
# Path separators and every control character (C0, DEL and C1: Unicode category Cc).
_FORBIDDEN_ID_CHARS = (
    frozenset("/\\")
    | frozenset(chr(c) for c in range(0x20))
    | frozenset(chr(c) for c in range(0x7F, 0xA0))
)


def validate_id(value: object, field: str = "session_id") -> str:
    """Return ``value`` if it is a usable id, else raise ``InvalidSessionId`` naming it.

    An id is a non-empty string of at most 256 characters, without ``/``, ``\\`` or control
    characters, and not ``.`` or ``..``: no id can name a path outside a store's folder.
    """
    if not isinstance(value, str):
        raise InvalidSessionId(field, value, f"must be a string, not {type(value).__name__}")
    if not value:
        raise InvalidSessionId(field, value, "must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidSessionId(
            field, value, f"is {len(value)} characters long; the limit is {MAX_ID_LENGTH}"
        )
    if value in (".", ".."):
        raise InvalidSessionId(field, value, "must not be '.' or '..'")
    if not _FORBIDDEN_ID_CHARS.isdisjoint(value):
        raise InvalidSessionId(field, value, "must not contain '/', '\\' or control characters")
    return value


def validate_seconds(value: object, field: str) -> float | None:
    """A duration in seconds: a finite number > 0, or None (no limit, never expire)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, value, "must be a number of seconds (or None: never)")
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError(field, value, "must be > 0 and finite (or None: never)")
    return float(value)


def ensure_json_value(value: Any, field: str) -> Any:
    """Return ``value`` unchanged if it is a JSON value, else raise naming the field and path.

    JSON values are ``None``, ``bool``, ``int``, finite ``float``, ``str``, lists or tuples of
    JSON values, and dicts with string keys and JSON values.
    """
    _check_json(value, field)
    return value


def _check_json(value: Any, path: str) -> None:
    # Exact type checks first: they cover nearly every value and are the cheapest test.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return
    if kind is float:
        if not math.isfinite(value):
            raise InvalidInputError(path, value, "NaN and infinity are not JSON numbers")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(
                    path, key, f"dict keys must be strings, not {type(key).__name__}"
                )
            _check_json(item, f"{path}[{key!r}]")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")
        return
    if isinstance(value, str | int):  # subclasses such as str-valued enums
        return
    if isinstance(value, float):
        _check_json(float(value), path)
        return
    raise InvalidInputError(path, value, f"{type(value).__name__} is not JSON-serialisable")
