"""A Pydantic AI message history kept in any llm_sessions store.

``pip install "llm-sessions[pydantic-ai]"``, then::

    history = PydanticAIHistory("user_123", store="sqlite:///chat.db")
    result = await agent.run("Hello", message_history=await history.messages())
    await history.add(result.new_messages())

Each ``ModelRequest`` and ``ModelResponse`` is one event whose message is its JSON from
``ModelMessagesTypeAdapter``, so ``messages()`` returns the messages exactly as they were added.
A response carries the usage it reported (its ``usage``), priced as its ``model_name``; a
request carries no tokens of its own, since the input tokens of the response that answers it
count it. The session's tokens are then the runs' usage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..exceptions import InvalidInputError
from ..models import EventSource
from ._bridge import missing_extra
from ._conversation import Conversation, Entry, checked_json

try:
    from pydantic_ai.messages import (
        ModelMessage,
        ModelMessagesTypeAdapter,
        ModelRequest,
        ModelResponse,
        RetryPromptPart,
        ToolCallPart,
        ToolReturnPart,
        UserPromptPart,
    )
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("pydantic_ai", "Pydantic AI", "pydantic-ai") from exc

__all__ = ["MESSAGE_KIND_KEY", "PydanticAIHistory"]

MESSAGE_KIND_KEY = "pydantic_ai_kind"
"""Event metadata key holding the message's kind (``request`` or ``response``)."""

_NO_TOKENS = {"input_tokens": 0, "output_tokens": 0}


class PydanticAIHistory(Conversation):
    """A Pydantic AI conversation (``list[ModelMessage]``) in an llm_sessions store.

    Args:
        session_id: The session that holds the conversation (created on the first add).
        store: A store object, a store URL (opened here; ``aclose()`` closes it), or None for
            the process-wide default store.
        model: Prices responses that name no model, and counts the tokens of responses that
            report no usage.

    Raises:
        InvalidSessionId: ``session_id`` is not a usable id.
    """

    kind_key = MESSAGE_KIND_KEY

    async def messages(self, limit: int | None = None) -> list[ModelMessage]:
        """The conversation, oldest first, to pass as ``message_history``.

        Args:
            limit: Only the newest ``limit`` messages (None: all).

        Returns:
            The messages as they were added.

        Raises:
            InvalidInputError: ``limit`` is not a whole number >= 0.
        """
        whole = isinstance(limit, int) and not isinstance(limit, bool)
        if limit is not None and not (whole and limit >= 0):
            raise InvalidInputError("limit", limit, "must be a whole number >= 0 or None")
        events = await self._events(limit)
        return ModelMessagesTypeAdapter.validate_python([event.message for event in events])

    async def add(self, messages: Sequence[ModelMessage]) -> None:
        """Append messages (a run's ``new_messages()``), one event each, in one save.

        Args:
            messages: The messages to append.

        Raises:
            InvalidInputError: A message cannot be stored and read back as itself (nothing
                is stored then).
        """
        await self._add([_entry(n, message) for n, message in enumerate(messages)])

    async def clear(self) -> None:
        """Remove every message (the session itself stays, empty)."""
        await self._clear()


def _load_one(dumped: Any) -> Any:
    return ModelMessagesTypeAdapter.validate_python([dumped])[0]


def _entry(position: int, message: Any) -> Entry:
    """The entry that keeps one message, its JSON checked to read back as the message."""
    field = f"messages[{position}]"
    if not isinstance(message, ModelRequest | ModelResponse):
        kind = type(message).__name__
        raise InvalidInputError(
            field, message, f"must be a ModelRequest or ModelResponse, not {kind}"
        )
    try:
        [dumped] = ModelMessagesTypeAdapter.dump_python([message], mode="json")
    except ValueError as exc:  # pydantic's serialization errors
        raise InvalidInputError(field, message, f"cannot be stored as JSON: {exc}") from None
    checked_json(field, message, dumped, _load_one)
    text = "".join(_part_text(part) for part in message.parts)
    if isinstance(message, ModelResponse):
        reported = message.usage.input_tokens or message.usage.output_tokens
        return Entry(
            message=dumped,
            text=text,
            source=EventSource.LLM,
            kind="response",
            tool=any(isinstance(part, ToolCallPart) for part in message.parts),
            usage=message.usage if reported else None,
            model=message.model_name or None,
        )
    asked = any(isinstance(part, UserPromptPart) for part in message.parts)
    return Entry(
        message=dumped,
        text=text,
        source=EventSource.USER if asked else EventSource.SYSTEM,
        kind="request",
        tool=any(isinstance(part, ToolReturnPart | RetryPromptPart) for part in message.parts),
        usage=_NO_TOKENS,
    )


def _part_text(part: Any) -> str:
    """The text of one part: its content when that is text, a tool call's arguments."""
    if isinstance(part, ToolCallPart):
        return part.args_as_json_str()
    content = getattr(part, "content", None)
    if isinstance(content, str):
        return content
    if isinstance(content, list | tuple):
        return "".join(item for item in content if isinstance(item, str))
    return ""
