"""Events read back from a store, validated in one pydantic-core call with no Python in it.

A stored event was checked in full when it was written. Loading it again still runs the
events' and the token usages' model validators once per event, only for them to see the
stored-data context and return: on a long session those calls are a large part of the load.
This validator is the events' own core schema without those two validators, so every field
is still validated and converted by pydantic-core as before; what the event validator does
for stored data (tracking the message and metadata) is done here after the call.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic_core import SchemaError, SchemaValidator, core_schema

from ._session_event import SessionEvent
from ._token_usage import TokenUsage

__all__ = ["stored_events"]

_STORED_ONLY: dict[Any, str] = {  # the functions, as the core schemas hold them
    SessionEvent._check: "event",
    TokenUsage._derive_total_and_cost: "usage",
}
"""The model validators that do nothing for stored data but track the event's contents."""


def stored_events(event_class: type[Any], joined: str | bytes) -> list[Any] | None:
    """The events of ``event_class`` in ``joined`` (a JSON array of stored event rows), as
    validating them with the stored-data context gives them; None if this class's events
    cannot be read this way (a subclass, or a typed message), for the caller to validate.

    Args:
        event_class: The event class of a session class's ``events``.
        joined: The stored rows as one JSON array.

    Returns:
        The events, or None.

    Raises:
        ValidationError: A row is not a valid event.
        ValueError: ``joined`` is not JSON.
    """
    validator = _validator(event_class)  # type: ignore[arg-type]  # classes hash
    if validator is None:
        return None
    events: list[Any] = validator.validate_json(joined)
    every_field = _every_field(event_class)  # type: ignore[arg-type]  # classes hash
    every_usage_field = _every_field(TokenUsage)
    # A model's set of given fields holds only names of its fields (neither class takes
    # extra keys), so a set as long as all of them is all of them: comparing lengths costs
    # a tenth of comparing the sets, and a load makes two comparisons per event.
    event_fields, usage_fields = len(every_field), len(every_usage_field)
    for event in events:
        event._track_contents()
        if len(event.__pydantic_fields_set__) == event_fields:
            _set_slot(event, "__pydantic_fields_set__", every_field)
        usage = event.__dict__["token_usage"]
        if usage is not None and len(usage.__pydantic_fields_set__) == usage_fields:
            _set_slot(usage, "__pydantic_fields_set__", every_usage_field)
    return events


_set_slot = object.__setattr__


@lru_cache(maxsize=32)
def _every_field(model_class: type[Any]) -> set[str]:
    """The one set of field names the loaded models of ``model_class`` given every field share
    (never changed: pydantic only adds names of fields to it, which it holds)."""
    return set(model_class.model_fields)


@lru_cache(maxsize=32)
def _validator(event_class: type[Any]) -> SchemaValidator | None:
    if not _plain_event(event_class):
        return None
    stripped: set[str] = set()
    schema = _without_stored_only(event_class.__pydantic_core_schema__, stripped)
    if "event" not in stripped:  # the event validator must go, or its tracking runs twice
        return None
    try:
        return SchemaValidator(core_schema.list_schema(schema))
    except SchemaError:  # a schema shape this does not know: validate as before
        return None


def _plain_event(event_class: type[Any]) -> bool:
    """``SessionEvent`` or ``SessionEvent[Any]``: a subclass may validate more."""
    if event_class is SessionEvent:
        return True
    generic = getattr(event_class, "__pydantic_generic_metadata__", None) or {}
    return generic.get("origin") is SessionEvent and generic.get("args") == (Any,)


def _without_stored_only(node: Any, stripped: set[str]) -> Any:
    """A copy of the core schema ``node`` without the ``_STORED_ONLY`` validators (their
    names are added to ``stripped``)."""
    if isinstance(node, list):
        return [_without_stored_only(item, stripped) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "function-after":
        function = node.get("function", {}).get("function")
        name = _STORED_ONLY.get(getattr(function, "__func__", function))
        if name is not None:
            stripped.add(name)
            return _without_stored_only(node["schema"], stripped)
    return {key: _without_stored_only(value, stripped) for key, value in node.items()}
