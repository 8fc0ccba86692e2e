"""Checks for the processor's settings: each error names the setting, the value and the rule."""

from __future__ import annotations

import math

from ..exceptions import InvalidInputError

__all__ = ["check_count", "check_seconds", "check_text", "check_timeout"]


def check_count(name: str, value: object, minimum: int = 0) -> int:
    """An integer >= ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidInputError(name, value, f"must be an integer >= {minimum}")
    return value


def check_seconds(name: str, value: object) -> float:
    """A finite number of seconds >= 0."""
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidInputError(name, value, "must be a finite number of seconds >= 0")
    return float(value)


def check_timeout(value: object) -> float | None:
    """A number of seconds > 0, or None for no limit."""
    if value is None:
        return None
    seconds = check_seconds("timeout", value)
    if seconds == 0:
        raise InvalidInputError("timeout", value, "must be > 0 seconds (or None: no limit)")
    return seconds


def check_text(name: str, value: object) -> str:
    """A non-blank string."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(name, value, "must be a non-empty string")
    return value
