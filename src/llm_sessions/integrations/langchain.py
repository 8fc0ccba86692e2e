"""A LangChain chat message history kept in any llm_sessions store.

``pip install "llm-sessions[langchain]"``, then::

    history = LLMSessionsChatMessageHistory("user_123", store="sqlite:///chat.db")
    chain = RunnableWithMessageHistory(runnable, lambda session_id: history_for(session_id))

Each message is one event whose message is LangChain's own dict of it (``message_to_dict``), so
Human, AI (with tool calls and usage metadata), Tool, System, Chat and Function messages read
back equal to what was added. An AI message's ``usage_metadata`` is recorded as the tokens the
provider reported, priced as ``response_metadata["model_name"]`` (else ``model``); other
messages are counted with ``model``'s tokenizer. The synchronous methods work with or without
an event loop running in the caller's thread (see ``integrations._bridge``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..exceptions import InvalidInputError
from ..models import EventSource, SessionEvent
from ._bridge import missing_extra
from ._conversation import Conversation, Entry, checked_json

try:
    from langchain_core.chat_history import BaseChatMessageHistory
    from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("langchain", "langchain-core", "langchain") from exc

__all__ = ["MESSAGE_TYPE_KEY", "LLMSessionsChatMessageHistory"]

MESSAGE_TYPE_KEY = "langchain_type"
"""Event metadata key holding the message's LangChain type (``human``, ``ai``, ``tool``, ...)."""

_SOURCES = {"human": EventSource.USER, "ai": EventSource.LLM, "AIMessageChunk": EventSource.LLM}
_CHAT_ROLES = {
    "user": EventSource.USER,
    "human": EventSource.USER,
    "assistant": EventSource.LLM,
    "ai": EventSource.LLM,
}
"""Who a ``ChatMessage`` (a message with a free-form role) comes from; other roles: system."""


class LLMSessionsChatMessageHistory(Conversation, BaseChatMessageHistory):
    """LangChain's ``BaseChatMessageHistory`` on an llm_sessions store.

    Args:
        session_id: The session that holds the conversation (created on the first add).
        store: A store object, a store URL (opened here; ``aclose()`` closes it), or None for
            the process-wide default store.
        model: Prices AI messages that name no model, and counts the tokens of messages that
            come without reported usage.

    Raises:
        InvalidSessionId: ``session_id`` is not a usable id.
    """

    kind_key = MESSAGE_TYPE_KEY

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The conversation's messages, oldest first (read from the store on each access)."""
        return _messages(self._events_sync())

    async def aget_messages(self) -> list[BaseMessage]:
        """The conversation's messages, oldest first.

        Returns:
            The messages as they were added.
        """
        return _messages(await self._events())

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append messages, one event each, in one save.

        Args:
            messages: The messages to append.

        Raises:
            InvalidInputError: A message cannot be stored and read back as itself (nothing
                is stored then).
        """
        self._add_sync(_entries(messages))

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append messages, one event each, in one save (see ``add_messages``)."""
        await self._add(_entries(messages))

    def clear(self) -> None:
        """Remove every message (the session itself stays, empty)."""
        self._clear_sync()

    async def aclear(self) -> None:
        """Remove every message (the session itself stays, empty)."""
        await self._clear()


def _entries(messages: Sequence[Any]) -> list[Entry]:
    return [_entry(n, message) for n, message in enumerate(messages)]


def _messages(events: list[SessionEvent[Any]]) -> list[BaseMessage]:
    return messages_from_dict([event.message for event in events])


def _entry(position: int, message: Any) -> Entry:
    """The entry that keeps one message, its dict checked to read back as the message."""
    field = f"messages[{position}]"
    if not isinstance(message, BaseMessage):
        raise _not_a_message(field, message)
    dumped = checked_json(field, message, message_to_dict(message), _load_one)
    kind = message.type
    usage = getattr(message, "usage_metadata", None) if kind in _SOURCES else None
    named = message.response_metadata.get("model_name") or message.response_metadata.get("model")
    return Entry(
        message=dumped,
        text=_text(message),
        source=_source(message),
        kind=kind,
        tool=kind in ("tool", "function") or bool(getattr(message, "tool_calls", None)),
        usage=usage or None,
        model=named if isinstance(named, str) and named else None,
    )


def _source(message: BaseMessage) -> EventSource:
    """Who a message comes from: by its type, a ``ChatMessage`` by its role, else the system."""
    role = getattr(message, "role", None) if message.type == "chat" else None
    return _SOURCES.get(message.type) or _CHAT_ROLES.get(str(role), EventSource.SYSTEM)


def _load_one(dumped: dict[str, Any]) -> BaseMessage:
    return messages_from_dict([dumped])[0]


def _not_a_message(field: str, value: Any) -> InvalidInputError:
    return InvalidInputError(field, value, f"must be a BaseMessage, not {type(value).__name__}")


def _text(message: BaseMessage) -> str:
    """The text a message carries (its text parts, then its tool calls' arguments)."""
    content = message.content
    if isinstance(content, str):
        text = content
    else:
        parts = [p if isinstance(p, str) else p.get("text") for p in content]
        text = "".join(part for part in parts if isinstance(part, str))
    calls = getattr(message, "tool_calls", None)
    if calls:
        text += json.dumps([call.get("args") for call in calls], ensure_ascii=False)
    return text
