"""The arguments of ``find_sessions`` and ``usage``, checked once for every store.

Each bad argument raises ``InvalidInputError`` naming the argument, the value and the rule it
broke, before any store is read. A cursor is opaque to callers: the sort order it was made
for, the sort value and id of the last session of a page, and a checksum, so that a cursor
that was cut, edited or made for another order is refused instead of silently misread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from ..exceptions import InvalidInputError
from ..validation import MAX_ID_LENGTH

__all__ = [
    "GROUP_KEYS",
    "MAX_GROUP_BY",
    "MAX_LIMIT",
    "MAX_WHERE",
    "ORDERS",
    "Keyset",
    "check_group_by",
    "check_id_prefix",
    "check_limit",
    "check_min_cost",
    "check_model",
    "check_order",
    "check_time",
    "check_time_range",
    "check_where",
    "decode_cursor",
    "encode_cursor",
    "scalar_from_text",
]

ORDERS = ("updated_at", "created_at", "cost", "tokens")
"""The sort keys of ``find_sessions``; ``-`` before one sorts descending."""
MAX_LIMIT = 1000
"""The largest page ``find_sessions`` returns."""
MAX_WHERE = 20
"""The most ``where`` conditions one query takes."""
GROUP_KEYS = ("user_id", "model", "day", "month")
"""What ``usage`` groups by, beside property names."""
MAX_GROUP_BY = 6

Keyset = tuple[Any, str]
"""Where a page ends: the last session's sort value and its id."""

_CURSOR_SALT = b"llm-sessions/cursor/1:"


def check_order(order: object) -> tuple[str, bool]:
    """The sort key and whether it is descending, from ``"-updated_at"`` and the like."""
    if not isinstance(order, str):
        raise InvalidInputError("order", order, f"must be one of {_order_names()}")
    key = order.removeprefix("-")
    if key not in ORDERS:
        raise InvalidInputError("order", order, f"is not a sort key: use one of {_order_names()}")
    return key, order.startswith("-")


def _order_names() -> str:
    return ", ".join(f"{key!r} or '-{key}'" for key in ORDERS)


def check_limit(limit: object) -> int:
    """A page size from 1 to ``MAX_LIMIT``."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError("limit", limit, f"must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def check_model(model: object) -> str | None:
    """A model name to filter by, or None."""
    if model is not None and (not isinstance(model, str) or not model):
        raise InvalidInputError("model", model, "must be a model name (a non-empty string)")
    return model


def check_min_cost(min_cost: object) -> float | None:
    """A least cost in US dollars (a number, or the text of one; 0 or more), or None."""
    if min_cost is None:
        return None
    value = min_cost
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            value = None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidInputError("min_cost", min_cost, "must be a number of US dollars, 0 or more")
    return float(value)


def check_time(value: object, field: str) -> datetime | None:
    """A time bound as an aware UTC datetime: a datetime (naive means UTC), a date (its
    midnight, UTC) or an ISO 8601 text of either; None for no bound."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInputError(
                field, value, "is not an ISO 8601 date or time (like 2026-12-01T09:30:00Z)"
            ) from None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    raise InvalidInputError(field, value, "must be a datetime, a date, an ISO 8601 text or None")


def check_time_range(since: object, until: object) -> tuple[datetime | None, datetime | None]:
    """``since`` and ``until`` checked, and in order."""
    start, end = check_time(since, "since"), check_time(until, "until")
    if start is not None and end is not None and end < start:
        raise InvalidInputError("until", until, f"is before since={start.isoformat()}")
    return start, end


def _is_scalar(value: object) -> bool:
    if value is None or isinstance(value, bool | str | int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def scalar_from_text(text: str) -> Any:
    """A ``where`` value typed as text (a command-line or query-string argument): the JSON
    scalar it spells (a number, true, false, null or a quoted string), else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if _is_scalar(value) else text


def check_where(where: object) -> dict[str, Any]:
    """Equality conditions: ``user_id`` or a top-level property name, each to a JSON scalar
    (a string, number, true/false or null)."""
    if where is None:
        return {}
    if not isinstance(where, Mapping):
        raise InvalidInputError("where", where, "must be a dict of name -> JSON scalar, or None")
    if len(where) > MAX_WHERE:
        raise InvalidInputError("where", where, f"has {len(where)} conditions; at most {MAX_WHERE}")
    for key, value in where.items():
        _check_name(key, "where")
        if not _is_scalar(value):
            raise InvalidInputError(
                f"where[{key!r}]", value, "must be a JSON scalar (string, number, bool or None)"
            )
    return dict(where)


def _check_name(name: object, field: str) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_ID_LENGTH:
        raise InvalidInputError(
            field, name, f"names must be non-empty strings of at most {MAX_ID_LENGTH} characters"
        )
    return name


def check_id_prefix(prefix: object) -> str:
    """An id prefix to keep (``""`` keeps every session)."""
    if not isinstance(prefix, str) or len(prefix) > MAX_ID_LENGTH:
        raise InvalidInputError(
            "prefix", prefix, f"must be a string of at most {MAX_ID_LENGTH} characters"
        )
    return prefix


def check_group_by(group_by: object) -> tuple[str, ...]:
    """What ``usage`` groups by: any of ``GROUP_KEYS`` and property names, each once."""
    names = (group_by,) if isinstance(group_by, str) else group_by
    if not isinstance(names, Sequence):
        raise InvalidInputError(
            "group_by", group_by, f"must be a name or a list of names ({', '.join(GROUP_KEYS)})"
        )
    if len(names) > MAX_GROUP_BY:
        raise InvalidInputError("group_by", group_by, f"takes at most {MAX_GROUP_BY} names")
    checked = tuple(_check_name(name, "group_by") for name in names)
    if len(set(checked)) != len(checked):
        raise InvalidInputError("group_by", group_by, "names a key twice")
    return checked


def encode_cursor(order: str, keyset: Keyset) -> str:
    """The cursor for the page after ``keyset``, in ``order``."""
    value, session_id = keyset
    stored = value.isoformat() if isinstance(value, datetime) else value
    payload = json.dumps([order, stored, session_id], separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_checksum(payload)}"


def _checksum(payload: bytes) -> str:
    return hashlib.sha256(_CURSOR_SALT + payload).hexdigest()[:16]


def decode_cursor(cursor: object, order: str) -> Keyset | None:
    """The keyset a cursor of ``order`` names; None for no cursor (the first page)."""
    if cursor is None:
        return None
    if not isinstance(cursor, str) or cursor.count(".") != 1:
        raise InvalidInputError("cursor", cursor, "is not a cursor from find_sessions")
    body, checksum = cursor.split(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInputError("cursor", cursor, "is not a cursor from find_sessions") from None
    if _checksum(payload) != checksum:
        raise InvalidInputError("cursor", cursor, "was changed or cut (its checksum is wrong)")
    try:
        made_for, value, session_id = json.loads(payload)
    except (ValueError, TypeError):
        raise InvalidInputError("cursor", cursor, "is not a cursor from find_sessions") from None
    if made_for != order:
        raise InvalidInputError(
            "cursor", cursor, f"was made for order={made_for!r}, not order={order!r}"
        )
    return _keyset(cursor, order.removeprefix("-"), value, session_id)


def _keyset(cursor: str, key: str, value: Any, session_id: Any) -> Keyset:
    """The cursor's values, as the sort key compares them."""
    try:
        if not isinstance(session_id, str):
            raise TypeError(session_id)
        if key in ("updated_at", "created_at"):
            return check_time(str(value), "cursor") or datetime.min.replace(tzinfo=UTC), session_id
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(value)
        return value, session_id
    except (InvalidInputError, TypeError):
        raise InvalidInputError("cursor", cursor, "is not a cursor from find_sessions") from None
