"""Retention policies: how long sessions are kept, and how much of each one.

``Retention(max_age=, max_idle=, keep_last_events=, trim_tool_results_after=)`` is checked
when made (``InvalidInputError`` naming the field, the value and the limit), so a bad policy
never reaches a store. ``apply_retention`` (see ``_retention_run``) carries it out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..exceptions import InvalidInputError
from ._erasure import ErasureReceipt

__all__ = [
    "DURATION_UNITS",
    "Retention",
    "RetentionReport",
    "TrimmedSession",
    "check_retention",
    "format_duration",
    "parse_duration",
]

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
"""The units a duration string may use: ``"45s"``, ``"30m"``, ``"12h"``, ``"90d"``, ``"2w"``."""
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_DURATION_RULE = (
    "must be a timedelta or a duration such as '90d', '12h', '30m' (units s, m, h, d, w)"
)
_MAX_DURATION = timedelta(days=100 * 365)


def parse_duration(value: object, field: str) -> timedelta:
    """``value`` (a ``timedelta`` or text such as ``"90d"``) as a positive ``timedelta``.

    Args:
        value: The duration.
        field: Its name, for the error.

    Returns:
        The duration.

    Raises:
        InvalidInputError: Not a duration, not above zero, or over 100 years.
    """
    if isinstance(value, str):
        found = _DURATION.match(value)
        if found is None:
            raise InvalidInputError(field, value, _DURATION_RULE)
        amount = float(found.group(1)) * DURATION_UNITS[found.group(2)]
        if amount > _MAX_DURATION.total_seconds():
            raise InvalidInputError(field, value, f"must be at most {_MAX_DURATION.days} days")
        value = timedelta(seconds=amount)
    if not isinstance(value, timedelta):
        raise InvalidInputError(field, value, _DURATION_RULE)
    if value <= timedelta(0):
        raise InvalidInputError(field, value, "must be longer than 0 (a positive duration)")
    if value > _MAX_DURATION:
        raise InvalidInputError(field, value, f"must be at most {_MAX_DURATION.days} days")
    return value


def format_duration(value: timedelta) -> str:
    """``value`` in the largest unit that divides it: ``"90d"``, ``"12h"``, ``"45s"``."""
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m"):
        size = DURATION_UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True, slots=True)
class Retention:
    """How long sessions are kept and how much of each is kept.

    Durations are a ``timedelta`` or text such as ``"90d"``, ``"12h"``, ``"30m"``; each limit
    left None does nothing, but at least one must be given.

    Args:
        max_age: Sessions created longer ago than this are erased (with what derives from
            them, as ``erase`` does).
        max_idle: Sessions with no activity (``updated_at``) for longer than this are erased.
        keep_last_events: Longer sessions keep their newest events, at least this many (a
            reply with its tool calls and results is kept or removed whole); the older ones
            are removed and a stub event says what went.
        trim_tool_results_after: Tool events (call and result) older than this are removed
            and a stub event says what went.

    Raises:
        InvalidInputError: A duration that is not one, not above zero or over 100 years,
            ``keep_last_events`` below 1, or no limit at all.
    """

    max_age: timedelta | str | None = None
    max_idle: timedelta | str | None = None
    keep_last_events: int | None = None
    trim_tool_results_after: timedelta | str | None = None

    def __post_init__(self) -> None:
        for name in ("max_age", "max_idle", "trim_tool_results_after"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, parse_duration(value, name))
        keep = self.keep_last_events
        if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 1):
            raise InvalidInputError("keep_last_events", keep, "must be an integer >= 1")
        if all(getattr(self, item.name) is None for item in fields(self)):
            raise InvalidInputError(
                "retention",
                "Retention()",
                "names no limit: give max_age, max_idle, keep_last_events or "
                "trim_tool_results_after",
            )

    @classmethod
    def parse(cls, text: object) -> Retention:
        """A policy from text such as ``"max_age=90d,max_idle=30d,keep_last_events=200"``
        (``llm-sessions serve --retention``): ``name=value`` pairs separated by commas.

        Args:
            text: The pairs.

        Returns:
            The policy.

        Raises:
            InvalidInputError: Not such text, an unknown name, or a bad value (named).
        """
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError("retention", text, f"must be name=value pairs of {_NAMES}")
        given: dict[str, Any] = {}
        for pair in text.split(","):
            name, equals, value = (part.strip() for part in pair.partition("="))
            name = name.replace("-", "_")
            if not equals or name not in _NAMES or name in given:
                raise InvalidInputError(
                    "retention", pair.strip(), f"must be one name=value each of {_NAMES}"
                )
            given[name] = _parsed_count(name, value) if name == "keep_last_events" else value
        return cls(**given)

    def describe(self) -> dict[str, Any]:
        """The limits given, as JSON (durations as text such as ``"90d"``)."""
        described: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, timedelta):
                described[item.name] = format_duration(value)
            elif value is not None:
                described[item.name] = value
        return described

    def span(self, name: str) -> timedelta | None:
        """The duration ``name`` (``max_age``, ``max_idle``, ``trim_tool_results_after``) as a
        ``timedelta``, None when not given."""
        value = getattr(self, name)
        return value if isinstance(value, timedelta) else None

    @property
    def erases(self) -> bool:
        """Whether the policy erases whole sessions (``max_age`` or ``max_idle``)."""
        return self.max_age is not None or self.max_idle is not None

    @property
    def trims(self) -> bool:
        """Whether the policy shortens sessions in place."""
        return self.keep_last_events is not None or self.trim_tool_results_after is not None


class TrimmedSession(BaseModel):
    """What retention removed from one session it kept.

    ``event_ids`` are the events removed (tool events among them counted in
    ``tool_events``), ``tokens`` their text's tokens, ``stub_event_id`` the event that now
    says so (None in a dry run).
    """

    model_config = ConfigDict(frozen=True)

    session_id: str
    event_ids: list[str]
    tool_events: int = 0
    tokens: int = 0
    stub_event_id: str | None = None


class RetentionReport(BaseModel):
    """What one ``apply_retention`` did (or, with ``dry_run``, would do).

    ``erased`` is the erasure's receipt (None when the policy erases nothing); ``trimmed``
    the sessions shortened in place.
    """

    model_config = ConfigDict(frozen=True)

    now: datetime
    policy: dict[str, Any]
    dry_run: bool = False
    erased: ErasureReceipt | None = None
    trimmed: list[TrimmedSession] = Field(default_factory=list)

    @property
    def erased_session_ids(self) -> list[str]:
        """The ids of the sessions erased (or that would be)."""
        return [] if self.erased is None else list(self.erased.session_ids)


def check_retention(value: object, field: str = "retention") -> Retention | None:
    """``value`` if it is a ``Retention`` or None, else ``InvalidInputError``."""
    if value is not None and not isinstance(value, Retention):
        raise InvalidInputError(field, value, "must be a Retention(...) or None")
    return value


_NAMES = ("max_age", "max_idle", "keep_last_events", "trim_tool_results_after")


def _parsed_count(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInputError(name, value, "must be an integer >= 1") from None
