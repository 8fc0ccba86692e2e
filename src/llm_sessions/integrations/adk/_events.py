"""ADK events as llm_sessions events, and back.

Each ADK ``Event`` is one of our events: its message is a chat message (``role`` and the
text, or the function calls and responses as JSON, as ``content``), for the inspector and the
prompt builders; the ADK event itself is kept whole as JSON in the event's metadata
(``adk_event``: ``Event.model_dump_json(exclude_none=True)``), so it reads back exactly and
cheaply. Source, type, tokens and cost come from what the event holds (``usage_metadata``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from google.adk.events import Event
from pydantic import BaseModel, ConfigDict, Field, Json, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from ..._collector import collector_paused
from ...exceptions import InvalidInputError
from ...models import EventSource, EventType, SessionEvent
from ...storage._records import joined_rows

__all__ = ["ADK_EVENT_KEY", "adk_event_of", "adk_events_of_rows", "json_checked", "our_event"]

logger = logging.getLogger("llm_sessions.integrations.adk")

ADK_EVENT_KEY = "adk_event"
"""Event metadata key holding the ADK event, whole, as JSON (what marks an event as ADK's)."""
_ROLES = {EventSource.USER: "user", EventSource.SYSTEM: "tool", EventSource.LLM: "assistant"}


def json_checked(field: str, value: Any) -> Any:
    """``value`` if JSON can carry it as it is, else an error naming ``field``.

    ADK's database service turns what JSON cannot carry into its ``str``; we refuse it, so
    nothing is stored that would not read back as it was given.

    Raises:
        InvalidInputError: ``value`` holds a non-JSON object, NaN or an infinity.
    """
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            field, _short(value), f"must be JSON (no NaN/infinity): {exc}"
        ) from exc
    return value


def _whole(event: Event) -> str:
    """The event as JSON, once it is known to read back as it is.

    Pydantic writes what JSON cannot carry as something else (a set as a list, NaN as null)
    or fails on it; either way the error names the field.
    """
    try:
        text = event.model_dump_json(exclude_none=True)
    except PydanticSerializationError as exc:
        field, value = _field_of(event, None)
        raise InvalidInputError(field, _short(value), f"must be JSON: {exc}") from exc
    back = Event.model_validate_json(text)
    if back != event:
        field, value = _field_of(event, back)
        reason = "must read back as it is: JSON cannot carry it exactly (a set, NaN, infinity)"
        raise InvalidInputError(field, _short(value), reason)
    return text


def _field_of(event: Event, back: Event | None) -> tuple[str, Any]:
    """The first field of ``event`` that does not survive JSON (differs in ``back``, or
    cannot be written when there is no ``back``), and its value."""
    for name in type(event).model_fields:
        value = getattr(event, name)
        kept = getattr(back, name) == value if back is not None else _writable(value)
        if not kept:
            return f"event.{name}", value
    return "event", event


def _writable(value: Any) -> bool:
    try:
        _ANY.dump_json(value)
    except PydanticSerializationError:
        return False
    return True


_ANY: TypeAdapter[Any] = TypeAdapter(Any)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _parts(event: Event) -> list[Any]:
    content = event.content
    return list(content.parts or []) if content is not None else []


def _text_of(event: Event) -> str:
    """What the event says: its text parts, else its function calls and responses as JSON."""
    texts, calls = [], []
    for part in _parts(event):
        if part.text:
            texts.append(part.text)
        elif part.function_call is not None:
            calls.append({"call": part.function_call.name, "args": part.function_call.args})
        elif part.function_response is not None:
            response = part.function_response
            calls.append({"response": response.name, "result": response.response})
    if texts:
        return "".join(texts)
    return json.dumps(calls, ensure_ascii=False, default=str) if calls else ""


def _kind(event: Event) -> tuple[EventSource, EventType]:
    """Who the event comes from, and whether it is a tool call or its result."""
    parts = _parts(event)
    if any(part.function_response is not None for part in parts):
        return EventSource.SYSTEM, EventType.TOOL_CALL
    if any(part.function_call is not None for part in parts):
        return EventSource.LLM, EventType.TOOL_CALL
    if event.author == "user":
        return EventSource.USER, EventType.MESSAGE
    return EventSource.LLM, EventType.MESSAGE


def _usage(event: Event) -> dict[str, int] | None:
    """The token counts the model reported for this event, if any."""
    usage = event.usage_metadata
    if usage is None:
        return None
    prompt = usage.prompt_token_count or 0
    completion = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    if not prompt and not completion:
        return None
    return {"prompt_tokens": prompt, "completion_tokens": completion}


async def our_event(event: Event, model: str) -> SessionEvent[Any]:
    """The event to store for an ADK event.

    Args:
        event: The ADK event, its temporary state already trimmed.
        model: The model to price the event as when it names none (``model_version``).

    Returns:
        The event: a chat message, the ADK event whole in its metadata.

    Raises:
        InvalidInputError: The event holds a value JSON cannot carry.
    """
    whole = _whole(event)
    source, kind = _kind(event)
    text = _text_of(event)
    named = event.model_version or model
    usage = _usage(event)
    is_input = source is not EventSource.LLM
    metadata: dict[str, Any] = {
        ADK_EVENT_KEY: whole,
        "adk_author": event.author,
    }
    if usage is not None:
        metadata["model"] = named
    return await SessionEvent.create_with_tokens(
        message={"role": _ROLES[source], "content": text},
        prompt=text if is_input else None,
        completion=None if is_input else text,
        model=named,
        source=source,
        type=kind,
        metadata=metadata,
        usage=usage,
    )


def adk_event_of(event: SessionEvent[Any]) -> Event | None:
    """The ADK event an event of ours holds, or None for an event that is not ADK's."""
    whole = event.metadata.get(ADK_EVENT_KEY) if isinstance(event.metadata, dict) else None
    return Event.model_validate_json(whole) if isinstance(whole, str) else None


class _StoredMetadata(BaseModel):
    model_config = ConfigDict(extra="ignore")
    adk_event: Json[Event] | None = None


class _StoredRow(BaseModel):
    """What a load needs of a stored event row: its id and the ADK event it holds."""

    model_config = ConfigDict(extra="ignore")
    id: str
    metadata: _StoredMetadata = Field(default_factory=_StoredMetadata)


_ROWS = TypeAdapter(list[_StoredRow])


def adk_events_of_rows(
    rows: Sequence[str | bytes], removed: set[str], location: str
) -> list[Event]:
    """The ADK events that stored event rows hold, in order, in one validation call.

    Our typed events are not built: only each row's id and ADK event are read. Rows that are
    not ADK's, and rows whose ids ``removed`` names, are left out; an unreadable row is logged
    at WARNING with its location and skipped, as a full load skips it.
    """
    if not rows:
        return []
    found: list[_StoredRow | None]
    with collector_paused():
        try:
            found = list(_ROWS.validate_json(joined_rows(rows)))
        except ValidationError:
            found = [_one_row(row, n, location) for n, row in enumerate(rows)]
    return [
        row.metadata.adk_event
        for row in found
        if row is not None and row.metadata.adk_event is not None and row.id not in removed
    ]


def _one_row(raw: str | bytes, index: int, location: str) -> _StoredRow | None:
    try:
        return _StoredRow.model_validate_json(raw)
    except ValidationError as exc:
        logger.warning("Skipping unreadable ADK event #%d at %s: %s", index, location, exc)
        return None
