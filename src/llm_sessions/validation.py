"""Checks applied to input before it can change any state.

One home for the rules every layer shares: what an id or a stored key may look like, and what a
JSON value is (one every store can write).
"""

from __future__ import annotations

import math
from typing import Any

from .exceptions import InvalidInputError, InvalidSessionId

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_JSON_DEPTH",
    "MAX_SECONDS",
    "ensure_json_object",
    "ensure_json_value",
    "validate_id",
    "validate_key",
    "validate_seconds",
]

MAX_ID_LENGTH = 256
MAX_SECONDS = 100 * 365 * 24 * 3600
"""The longest duration (a time to live, a timeout) any store accepts: 100 years, which every
backend can represent (Redis milliseconds, SQL intervals, Unix times in a float)."""
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
    if not value.isascii() and not _is_utf8(value):
        raise InvalidSessionId(field, value, _SURROGATE)
    return value


def validate_seconds(value: object, field: str) -> float | None:
    """A duration in seconds: a finite number > 0 and at most ``MAX_SECONDS``, or None (no
    limit, never expire)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, value, "must be a number of seconds (or None: never)")
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError(field, value, "must be > 0 and finite (or None: never)")
    if value > MAX_SECONDS:
        raise InvalidInputError(
            field, value, f"must be at most {MAX_SECONDS:,} seconds (100 years)"
        )
    return float(value)


def ensure_json_value(value: Any, field: str, *, max_depth: int | None = None) -> Any:
    """Return ``value`` unchanged if it is a JSON value every store can write, else raise.

    JSON values are ``None``, ``bool``, ``int``, finite ``float``, ``str``, lists or tuples of
    JSON values, and dicts with string keys and JSON values, nested at most ``MAX_JSON_DEPTH``
    levels. Strings and keys must be valid UTF-8 (no lone surrogates). The error names the
    field and the path inside it. ``max_depth`` lowers the nesting limit (for a part of a
    value that already sits some levels deep).
    """
    try:
        _check_json(value, MAX_JSON_DEPTH if max_depth is None else max_depth)
    except _Rejected as bad:
        raise InvalidInputError(
            field + "".join(reversed(bad.trail)), bad.value, bad.reason
        ) from None
    return value


def ensure_json_object(value: Any, field: str) -> dict[str, Any]:
    """A dict of JSON values whose keys are usable as stored keys (see ``validate_key``)."""
    if not isinstance(value, dict):
        raise InvalidInputError(field, value, f"must be a dict, not {type(value).__name__}")
    for key in value:
        validate_key(key, field)
    ensure_json_value(value, field)
    return value


def validate_key(key: object, field: str) -> str:
    """A state or property key: a string of valid UTF-8 without NUL characters."""
    if not isinstance(key, str):
        raise InvalidInputError(f"{field} key", key, f"must be a string, not {type(key).__name__}")
    if "\x00" in key:
        raise InvalidInputError(f"{field} key", key, "must not contain NUL characters")
    if not key.isascii() and not _is_utf8(key):
        raise InvalidInputError(f"{field} key", key, _SURROGATE)
    return key


MAX_JSON_DEPTH = 100
_SURROGATE = "contains a lone surrogate: not valid UTF-8"


class _Rejected(Exception):
    """A bad part of a value; the path to it is collected on the way out."""

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        self.trail: list[str] = []


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_json(value: Any, depth: int) -> None:
    # Exact type checks first: they cover nearly every value and are the cheapest test. Paths
    # are built only for a rejected value.
    kind = type(value)
    if kind is str:
        if not value.isascii() and not _is_utf8(value):
            raise _Rejected(value, _SURROGATE)
        return
    if kind is int or kind is bool or value is None:
        return
    if kind is float:
        if not math.isfinite(value):
            raise _Rejected(value, "NaN and infinity are not JSON numbers")
        return
    if isinstance(value, (dict, list, tuple)) and depth <= 0:
        raise _Rejected(
            f"<{type(value).__name__}>", f"nested too deep; the limit is {MAX_JSON_DEPTH} levels"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Rejected(key, f"dict keys must be strings, not {type(key).__name__}")
            if not key.isascii() and not _is_utf8(key):
                raise _Rejected(key, f"dict key {_SURROGATE}")
            try:
                _check_json(item, depth - 1)
            except _Rejected as bad:
                bad.trail.append(f"[{key!r}]")
                raise
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            try:
                _check_json(item, depth - 1)
            except _Rejected as bad:
                bad.trail.append(f"[{index}]")
                raise
        return
    if isinstance(value, str):  # subclasses such as str-valued enums
        _check_json(str(value), depth)
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        _check_json(float(value), depth)
        return
    raise _Rejected(value, f"{type(value).__name__} is not JSON-serialisable")
