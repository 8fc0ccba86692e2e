"""What kind of thing an event records: a built-in ``EventType`` or a custom name."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, TypeAlias

from pydantic import Field

from ..exceptions import InvalidInputError

__all__ = ["CUSTOM_EVENT_TYPE_PATTERN", "EventKind", "EventType", "parse_event_type"]


class EventType(StrEnum):
    """The kind of a session event."""

    MESSAGE = "message"
    SUMMARY = "summary"
    TOOL_CALL = "tool_call"
    REFERENCE = "reference"
    CONTEXT_BRIDGE = "context_bridge"


#: What a custom event type's name looks like (``retrieval``, ``rag.query``, ``acme:audit``).
CUSTOM_EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_.:-]{0,63}$"
_CUSTOM_NAME = re.compile(CUSTOM_EVENT_TYPE_PATTERN)
_BUILT_IN = {member.value: member for member in EventType}
_SEPARATORS = re.compile(r"[-.: ]")

EventKind: TypeAlias = Annotated[EventType | str, Field(union_mode="left_to_right")]
"""An event's ``type``: a built-in ``EventType`` member, or a custom name (a plain string).

Built-in values always come back as the enum member, so ``event.type is EventType.MESSAGE``
holds for stored and loaded events alike."""


def parse_event_type(value: object, field: str = "event.type") -> EventType | str:
    """``value`` as an event type: the built-in member it names, or a valid custom name.

    A custom name matches ``CUSTOM_EVENT_TYPE_PATTERN`` and is not a built-in value spelled
    differently (``Tool-Call`` for ``tool_call``); anything else raises ``InvalidInputError``
    naming the value and the pattern.
    """
    if isinstance(value, EventType):
        return value
    if not isinstance(value, str):
        raise InvalidInputError(
            field, value, f"must be an EventType or a string, not {type(value).__name__}"
        )
    built_in = _BUILT_IN.get(value)
    if built_in is not None:
        return built_in
    respelled = _BUILT_IN.get(_SEPARATORS.sub("_", value.lower()))
    if respelled is not None:
        raise InvalidInputError(
            field,
            value,
            f"is the built-in type {respelled.value!r} spelled differently; use "
            f"{respelled.value!r}, or a custom name matching {CUSTOM_EVENT_TYPE_PATTERN} "
            "that is not a built-in one",
        )
    if not _CUSTOM_NAME.match(value):
        raise InvalidInputError(
            field,
            value,
            f"must be a built-in EventType ({', '.join(_BUILT_IN)}) "
            f"or a custom name matching {CUSTOM_EVENT_TYPE_PATTERN}",
        )
    return value
