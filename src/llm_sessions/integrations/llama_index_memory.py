"""The chat store of LlamaIndex's ``Memory`` (an ``AsyncDBChatStore``) in any llm_sessions store.

``pip install "llm-sessions[llama-index]"``, then::

    memory = Memory.from_defaults(session_id="user_123", chat_store=LLMSessionsMemoryStore(
        store="sqlite:///chat.db"))

``Memory`` keeps a queue of active messages and archives the oldest when the queue outgrows its
token limit. Each key is a session (``key_prefix`` + key), each message one event as in
``LLMSessionsChatStore``, its status (``active`` or ``archived``) in the event's metadata;
archiving edits that metadata in place, so the message keeps its place and its tokens.
``delete_message`` takes a message's position among all the key's messages (LlamaIndex's SQL
store takes its row id), and ``delete_messages`` without a status deletes the key's session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..exceptions import InvalidInputError
from ..models import SessionEvent
from ..storage import SessionStoreInterface
from ._bridge import missing_extra
from ._conversation import every_event, read_events, remove_events

try:
    from llama_index.core.llms import ChatMessage
    from llama_index.core.storage.chat_store.base_db import AsyncDBChatStore, MessageStatus
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("llama_index_memory", "llama-index-core", "llama-index") from exc

from .llama_index import KeyedSessions, chat_entries, chat_messages, sorted_ids

__all__ = ["MESSAGE_STATUS_KEY", "LLMSessionsMemoryStore"]

MESSAGE_STATUS_KEY = "llama_index_status"
"""Event metadata key holding the message's status in ``Memory``'s queue."""

_ACTIVE = MessageStatus.ACTIVE
_Pick = Callable[[list[SessionEvent[Any]]], list[SessionEvent[Any]]]


class LLMSessionsMemoryStore(KeyedSessions, AsyncDBChatStore):
    """LlamaIndex's ``AsyncDBChatStore`` (the store ``Memory`` takes) on an llm_sessions store
    (the arguments are ``KeyedSessions``'s)."""

    @classmethod
    def class_name(cls) -> str:
        """The class's name in LlamaIndex's serialized components."""
        return "LLMSessionsMemoryStore"

    async def get_messages(
        self,
        key: str,
        status: MessageStatus | None = _ACTIVE,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[ChatMessage]:
        """The key's messages with ``status`` (None: all), oldest first, from ``offset``."""
        start = 0 if offset is None else _count("offset", offset)
        events = await self._with_status(key, status)
        end = None if limit is None else start + _count("limit", limit)
        return chat_messages(events[start:end])

    async def count_messages(self, key: str, status: MessageStatus | None = _ACTIVE) -> int:
        """How many of the key's messages have ``status`` (None: all)."""
        return len(await self._with_status(key, status))

    async def add_message(
        self, key: str, message: ChatMessage, status: MessageStatus = _ACTIVE
    ) -> None:
        """Append a message with ``status`` (see ``add_messages``)."""
        await self.add_messages(key, [message], status)

    async def add_messages(
        self, key: str, messages: list[ChatMessage], status: MessageStatus = _ACTIVE
    ) -> None:
        """Append messages with ``status``, one event each, in one save.

        Raises:
            InvalidInputError: A message cannot be stored and read back as itself (nothing
                is stored then).
        """
        await self._access.call(
            self._append, self._id(key), chat_entries(messages), _marked(status)
        )

    async def set_messages(
        self, key: str, messages: list[ChatMessage], status: MessageStatus = _ACTIVE
    ) -> None:
        """Replace the key's messages (in two writes: the removal, then the new messages)."""
        entries = chat_entries(messages)
        session_id = self._id(key)
        await self._access.call(remove_events, session_id, every_event)
        await self._access.call(self._append, session_id, entries, _marked(status))

    async def delete_message(self, key: str, idx: int) -> ChatMessage | None:
        """Remove the message at position ``idx`` among all the key's messages (None if
        there is none there) and return it."""
        position = _count("idx", idx)
        removed = await self._access.call(
            remove_events, self._id(key), lambda events: events[position : position + 1]
        )
        return chat_messages(removed)[0] if removed else None

    async def delete_messages(self, key: str, status: MessageStatus | None = None) -> None:
        """Remove the key's messages with ``status``; without one, delete the key's session."""
        session_id = self._id(key)
        if status is None:
            await self._access.call(_delete, session_id)
        else:
            await self._access.call(remove_events, session_id, _picker(status, None))

    async def delete_oldest_messages(self, key: str, n: int) -> list[ChatMessage]:
        """Remove the ``n`` oldest active messages and return them."""
        picker = _picker(_ACTIVE, _count("n", n))
        return chat_messages(await self._access.call(remove_events, self._id(key), picker))

    async def archive_oldest_messages(self, key: str, n: int) -> list[ChatMessage]:
        """Mark the ``n`` oldest active messages archived (in one save) and return them."""
        picker = _picker(_ACTIVE, _count("n", n))
        return chat_messages(await self._access.call(_archive, self._id(key), picker))

    async def get_keys(self) -> list[str]:
        """The keys that have a session, sorted."""
        return self._keys(await self._access.call(sorted_ids, self.key_prefix))

    async def _with_status(self, key: str, status: MessageStatus | None) -> list[SessionEvent[Any]]:
        events = await self._access.call(read_events, self._id(key))
        return _picker(status, None)(events)


def _marked(status: MessageStatus) -> dict[str, str]:
    return {MESSAGE_STATUS_KEY: MessageStatus(status).value}


def _count(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(field, value, "must be a whole number >= 0")
    return value


def _picker(status: MessageStatus | None, n: int | None) -> _Pick:
    """Picks the events with ``status`` (all when None), the oldest ``n`` of them."""

    def pick(events: list[SessionEvent[Any]]) -> list[SessionEvent[Any]]:
        chosen = [e for e in events if status is None or _status(e) == status.value]
        return chosen if n is None else chosen[:n]

    return pick


def _status(event: SessionEvent[Any]) -> str:
    return str(event.metadata.get(MESSAGE_STATUS_KEY, MessageStatus.ACTIVE.value))


async def _archive(
    store: SessionStoreInterface, session_id: str, pick: _Pick
) -> list[SessionEvent[Any]]:
    session = await store.get(session_id)
    if session is None:
        return []
    chosen = pick(list(session.events))
    for event in chosen:
        event.metadata[MESSAGE_STATUS_KEY] = MessageStatus.ARCHIVED.value
    if chosen:
        await store.save(session)
    return chosen


async def _delete(store: SessionStoreInterface, session_id: str) -> None:
    await store.delete(session_id)
