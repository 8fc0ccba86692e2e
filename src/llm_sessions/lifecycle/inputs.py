"""Checks on the arguments of the key-value providers and the session manager.

Every check raises ``InvalidInputError`` (a ``ValueError``) naming the field, the value and the
limit, before anything is stored.
"""

from __future__ import annotations

import math

from ..exceptions import InvalidInputError

__all__ = [
    "MAX_TTL_HOURS",
    "MAX_TTL_SECONDS",
    "MIN_TTL_SECONDS",
    "check_hours",
    "check_key",
    "check_seconds",
    "check_value",
]

MAX_TTL_HOURS = 24 * 365 * 100
"""The longest lifetime accepted anywhere: 100 years."""

MAX_TTL_SECONDS = MAX_TTL_HOURS * 3600

MIN_TTL_SECONDS = 0.001
"""The shortest lifetime accepted: one millisecond (Redis's resolution)."""


def check_key(key: object, field: str = "key") -> str:
    """Return ``key`` if it is a non-empty string."""
    if not isinstance(key, str):
        raise InvalidInputError(field, key, f"must be a string, not {type(key).__name__}")
    if not key:
        raise InvalidInputError(field, key, "must not be empty")
    return key


def check_value(value: object, field: str = "value") -> str:
    """Return ``value`` if it is a string (providers store strings only)."""
    if not isinstance(value, str):
        raise InvalidInputError(
            field, value, f"must be a string, not {type(value).__name__}; encode it first"
        )
    return value


def check_seconds(value: object, field: str = "ttl_seconds") -> float:
    """Return ``value`` as a float if it is a positive, finite number of seconds."""
    return _positive_number(value, field, MIN_TTL_SECONDS, MAX_TTL_SECONDS, "seconds")


def check_hours(value: object, field: str = "ttl_hours") -> float:
    """Return ``value`` as a float if it is a positive, finite number of hours."""
    return _positive_number(value, field, MIN_TTL_SECONDS / 3600, MAX_TTL_HOURS, "hours")


def _positive_number(value: object, field: str, minimum: float, limit: float, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(
            field, value, f"must be a number of {unit}, not {type(value).__name__}"
        )
    if isinstance(value, int) and value > limit:  # before float(): huge ints overflow it
        raise InvalidInputError(field, value, f"must be at most {limit:g} {unit}")
    number = float(value)
    if math.isnan(number) or number < minimum:
        raise InvalidInputError(
            field, value, f"must be a positive number of {unit}, at least {minimum:.3g}"
        )
    if number > limit:  # also catches infinity
        raise InvalidInputError(field, value, f"must be at most {limit:g} {unit}")
    return number
