"""One thing that happened in a session: a message, a model reply, a tool call, a summary."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Generic
from uuid import uuid4

from pydantic import ConfigDict, Field, ValidationInfo, model_validator
from typing_extensions import TypeVar

from ..exceptions import InvalidInputError
from ..tokens import count_text_async, encoding_name_for_model
from ..validation import ensure_json_value, validate_id
from ._base import STORED_DATA, MetadataHelpers, as_utc, utc_now
from ._event_source import EventSource
from ._event_type import EventKind, EventType, parse_event_type
from ._token_usage import CountMethod, TokenUsage
from ._tracked import track

__all__ = ["MessageT", "SessionEvent"]

MessageT = TypeVar("MessageT", default=Any)
_MISSING: Any = object()


class SessionEvent(MetadataHelpers, Generic[MessageT]):
    """An event: its message (any JSON value), who produced it, its type and token usage.

    ``parent_event_id`` links a tool call to the model reply that asked for it. The message and
    metadata must be JSON values; anything else is rejected before the event exists.
    """

    model_config = ConfigDict(validate_assignment=True)
    # Not data (dumps, equality and copies ignore slots): the texts ``token_usage`` was counted
    # from, so a store's redaction can count them again once redacted, and the redactor that
    # already ran over this event, so none runs twice.
    __slots__ = ("_counted_texts", "_redacted_with")

    id: str = Field(default_factory=lambda: str(uuid4()))
    message: MessageT
    timestamp: datetime = Field(default_factory=utc_now)
    source: EventSource = EventSource.LLM
    type: EventKind = EventType.MESSAGE
    """A built-in ``EventType`` or a custom name (see ``parse_event_type``)."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    _metadata_label: ClassVar[str] = "event.metadata"
    parent_event_id: str | None = None
    task_id: str | None = None
    token_usage: TokenUsage | None = None

    def __init__(self, **data: Any) -> None:
        # Checked before pydantic sees it, so a bad custom name is an InvalidInputError that
        # names the pattern (stored data is loaded without calling __init__).
        if "type" in data:
            data["type"] = parse_event_type(data["type"])
        super().__init__(**data)

    # Validation (model_validate, and every event of a loaded log) builds events without calling
    # the __init__ above, as for a model without one: a custom __init__ would be called once per
    # event with the context dropped, so stored events would be checked in full again. The
    # ``_check`` validator checks the type of events built that way.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: Any) -> None:
        # Checked here, before the assignment: the model validator runs only after pydantic has
        # stored the new value, which would leave a rejected value in place.
        check = _ASSIGNMENT_CHECKS.get(name)
        if check is not None:
            check(value)
        super().__setattr__(name, value)

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> SessionEvent[MessageT]:
        # One validator, not one per field: loading a session builds thousands of events, and
        # data read back from a store passed these checks when it was written.
        data = self.__dict__
        if info.context is STORED_DATA:
            self._track_contents()
            return self
        validate_id(self.id, "event.id")
        if self.parent_event_id is not None:
            validate_id(self.parent_event_id, "event.parent_event_id")
        ensure_json_value(self.message, "event.message")
        ensure_json_value(self.metadata, "event.metadata")
        data["timestamp"] = as_utc(self.timestamp)
        data["type"] = parse_event_type(self.type)
        # Older code links a tool call to its reply through metadata["parent_event_id"].
        linked = self.metadata.get("parent_event_id")
        if self.parent_event_id is None and isinstance(linked, str):
            data["parent_event_id"] = validate_id(linked, "event.parent_event_id")
        self._track_contents()
        return self

    def _track_contents(self) -> None:
        # In-place edits of the message and metadata are checked and mark this event edited.
        data = self.__dict__
        message = data["message"]
        if isinstance(message, (dict, list)):
            data["message"] = track(message, self, "event.message")
        data["metadata"] = track(data["metadata"], self, "event.metadata")

    @classmethod
    async def create_with_tokens(
        cls,
        message: MessageT,
        prompt: str | None,
        completion: str | None = None,
        model: str = "gpt-4o-mini",
        source: EventSource = EventSource.LLM,
        type: EventType | str = EventType.MESSAGE,
        task_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        usage: Any = None,
        parent_event_id: str | None = None,
    ) -> SessionEvent[MessageT]:
        """An event whose token usage is counted from ``prompt`` and ``completion``.

        ``usage``, when given (a TokenUsage, or the provider's usage object or dict), is what the
        provider reported; it is used instead of counting.

        Args:
            message: The event's message (any JSON value).
            prompt: The input text to count.
            completion: The output text to count.
            model: The model whose tokenizer counts and whose price applies.
            source: Who the event comes from.
            type: An ``EventType`` or a custom type name.
            task_id: The task the event belongs to.
            metadata: JSON values kept with the event.
            usage: The provider's reported usage, used instead of counting.
            parent_event_id: The event this one answers (a tool call's reply).

        Returns:
            The event, not yet in any session.

        Raises:
            InvalidInputError: A value is not JSON or a type name is bad.
        """
        token_usage = (
            TokenUsage.from_provider(usage, model)
            if usage is not None
            else await TokenUsage.from_text(prompt, completion, model)
        )
        event = cls(
            message=message,
            source=source,
            type=type,
            task_id=task_id,
            metadata=dict(metadata or {}),
            token_usage=token_usage,
            parent_event_id=parent_event_id,
        )
        if usage is None:
            event.note_counted_texts(prompt, completion)
        return event

    def note_counted_texts(self, prompt: str | None, completion: str | None) -> None:
        """Remember the texts ``token_usage`` was counted from (not stored), so that a store's
        ``redact=`` hook can count them again after redacting them.

        Args:
            prompt: The input text counted.
            completion: The output text counted.
        """
        object.__setattr__(self, "_counted_texts", (prompt, completion))

    def counted_texts(self) -> tuple[str | None, str | None] | None:
        """The texts ``token_usage`` was counted from by this object, if it counted them.

        Returns:
            ``(prompt, completion)``, or None when this object did not count them.
        """
        texts: tuple[str | None, str | None] | None = getattr(self, "_counted_texts", None)
        return texts

    async def update_token_usage(
        self,
        prompt: str | int | None = None,
        completion: str | int | None = None,
        model: str | None = None,
    ) -> TokenUsage:
        """Replace the token usage: texts are counted, integers are taken as reported counts,
        None keeps the current count.

        Args:
            prompt: The input text, or its reported token count.
            completion: The output text, or its reported token count.
            model: The model (default: the current usage's).

        Returns:
            The new usage.
        """
        current = self.token_usage
        model_name = model or (current.model if current else "") or "gpt-4o-mini"
        prompt_tokens, prompt_reported = await _resolve_count(
            "prompt", prompt, model_name, current.prompt_tokens if current else 0
        )
        completion_tokens, completion_reported = await _resolve_count(
            "completion", completion, model_name, current.completion_tokens if current else 0
        )
        if prompt_reported or completion_reported:
            method = CountMethod.REPORTED
        else:
            exact = encoding_name_for_model(model_name) is not None
            method = CountMethod.TOKENIZER if exact else CountMethod.ESTIMATE
        self.token_usage = TokenUsage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            model=model_name,
            count_method=method,
        )
        # Only a count made wholly from these texts can be made again from their redactions.
        counted = isinstance(prompt, str) and isinstance(completion, str)
        object.__setattr__(self, "_counted_texts", (prompt, completion) if counted else None)
        return self.token_usage

    async def update_metadata(self, values: Mapping[str, Any] | str, value: Any = _MISSING) -> None:
        """Set several metadata values at once (all are checked first), or one as ``key, value``.

        Args:
            values: A mapping of keys to values, or one key.
            value: The value, when ``values`` is one key.

        Raises:
            InvalidInputError: A key or value is not valid; nothing is set.
        """
        updates = {values: value} if isinstance(values, str) else dict(values)
        if isinstance(values, str) and value is _MISSING:
            raise InvalidInputError("value", None, "update_metadata(key, value) needs a value")
        ensure_json_value(updates, "event.metadata")
        self.metadata.update(updates)


_ASSIGNMENT_CHECKS: dict[str, Callable[[Any], object]] = {
    "id": lambda value: validate_id(value, "event.id"),
    "parent_event_id": lambda value: value is None or validate_id(value, "event.parent_event_id"),
    "message": lambda value: ensure_json_value(value, "event.message"),
    "metadata": lambda value: ensure_json_value(value, "event.metadata"),
    "type": parse_event_type,
}


async def _resolve_count(
    field: str, value: str | int | None, model: str, previous: int
) -> tuple[int, bool]:
    """A token count from a text (counted), an int (reported) or None (keep ``previous``)."""
    if value is None:
        return previous, False
    if isinstance(value, str):
        return (await count_text_async(value, model)).tokens, False
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, True
    raise InvalidInputError(field, value, "must be a text, a token count >= 0, or None")
