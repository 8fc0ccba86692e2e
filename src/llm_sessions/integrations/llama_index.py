"""A LlamaIndex chat store kept in any llm_sessions store.

``pip install "llm-sessions[llama-index]"``, then::

    chat_store = LLMSessionsChatStore(store="sqlite:///chat.db")
    memory = ChatMemoryBuffer.from_defaults(chat_store=chat_store, chat_store_key="user_123")

Each key is a session (``key_prefix`` + key) and each ``ChatMessage`` one event whose message
is the message's JSON, so messages read back equal to what was added. User, assistant, system
and tool messages are counted with ``model``'s tokenizer (a ``ChatMessage`` carries no usage).
The synchronous methods work with or without an event loop running in the caller's thread
(see ``integrations._bridge``). ``delete_messages`` deletes the key's session, as it removes
the key from LlamaIndex's own stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, PrivateAttr

from ..exceptions import InvalidInputError
from ..models import EventSource, SessionEvent
from ..storage import SessionStoreInterface
from ..validation import validate_id
from ._bridge import StoreAccess, missing_extra
from ._conversation import (
    Entry,
    append_events,
    checked_json,
    event_for,
    every_event,
    read_events,
    remove_events,
)

try:
    from llama_index.core.llms import ChatMessage
    from llama_index.core.storage.chat_store.base import BaseChatStore
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing_extra("llama_index", "llama-index-core", "llama-index") from exc

__all__ = ["MESSAGE_ROLE_KEY", "LLMSessionsChatStore"]

MESSAGE_ROLE_KEY = "llama_index_role"
"""Event metadata key holding the message's LlamaIndex role (``user``, ``assistant``, ...)."""

_SOURCES = {"user": EventSource.USER, "assistant": EventSource.LLM, "model": EventSource.LLM}
_TOOL_ROLES = frozenset({"tool", "function"})


class KeyedSessions(BaseModel):
    """What the LlamaIndex chat stores share: one session per key (``key_prefix`` + key), a
    store, and the model that counts and prices the messages' tokens.

    Args:
        store: A store object, a store URL (opened here; ``aclose()`` closes it), or None for
            the process-wide default store.
        key_prefix: Put before each key to make its session id; ``get_keys`` lists only the
            sessions whose ids start with it.
        model: The tokenizer and price of the messages' tokens.

    Raises:
        InvalidSessionId: ``key_prefix`` (when given) is not a usable id.
    """

    key_prefix: str = ""
    model: str = "gpt-4o-mini"
    _access: StoreAccess = PrivateAttr()

    def __init__(
        self,
        store: SessionStoreInterface | str | None = None,
        *,
        key_prefix: str = "",
        model: str = "gpt-4o-mini",
    ) -> None:
        if key_prefix:
            validate_id(key_prefix, "key_prefix")
        super().__init__(key_prefix=key_prefix, model=model)
        self._access = StoreAccess(store)

    @property
    def store(self) -> SessionStoreInterface:
        """The store the conversations are kept in."""
        return self._access.store

    async def aclose(self) -> None:
        """Close the store if this chat store opened it from a URL."""
        await self._access.close()

    def _id(self, key: str) -> str:
        if not isinstance(key, str):
            raise InvalidInputError("key", key, f"must be a string, not {type(key).__name__}")
        return validate_id(self.key_prefix + key, "key")

    def _keys(self, session_ids: list[str]) -> list[str]:
        return [session_id[len(self.key_prefix) :] for session_id in session_ids]

    async def _append(
        self,
        store: SessionStoreInterface,
        session_id: str,
        entries: list[Entry],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        events = [await event_for(entry, self.model, MESSAGE_ROLE_KEY) for entry in entries]
        for event in events:
            event.metadata.update(metadata or {})
        await append_events(store, session_id, events)


class LLMSessionsChatStore(KeyedSessions, BaseChatStore):
    """LlamaIndex's ``BaseChatStore`` on an llm_sessions store: one session per key (the
    arguments are ``KeyedSessions``'s)."""

    @classmethod
    def class_name(cls) -> str:
        """The class's name in LlamaIndex's serialized components."""
        return "LLMSessionsChatStore"

    def set_messages(self, key: str, messages: list[ChatMessage]) -> None:
        """Replace the key's messages (in two writes: the removal, then the new messages).

        Raises:
            InvalidInputError: A message cannot be stored and read back as itself, or the key
                is not usable in a session id (nothing changes then).
        """
        self._access.call_sync(self._replace, self._id(key), chat_entries(messages))

    async def aset_messages(self, key: str, messages: list[ChatMessage]) -> None:
        """Replace the key's messages (see ``set_messages``)."""
        await self._access.call(self._replace, self._id(key), chat_entries(messages))

    def get_messages(self, key: str) -> list[ChatMessage]:
        """The key's messages, oldest first (none for an unknown key)."""
        return chat_messages(self._access.call_sync(read_events, self._id(key)))

    async def aget_messages(self, key: str) -> list[ChatMessage]:
        """The key's messages, oldest first (none for an unknown key)."""
        return chat_messages(await self._access.call(read_events, self._id(key)))

    def add_message(self, key: str, message: ChatMessage) -> None:
        """Append a message to the key's session (created on its first message).

        Raises:
            InvalidInputError: The message cannot be stored and read back as itself.
        """
        self._access.call_sync(self._append, self._id(key), chat_entries([message]))

    async def async_add_message(self, key: str, message: ChatMessage) -> None:
        """Append a message to the key's session (see ``add_message``)."""
        await self._access.call(self._append, self._id(key), chat_entries([message]))

    def delete_messages(self, key: str) -> list[ChatMessage] | None:
        """Delete the key's session; returns its messages (None for an unknown key)."""
        return self._access.call_sync(_delete, self._id(key))

    async def adelete_messages(self, key: str) -> list[ChatMessage] | None:
        """Delete the key's session; returns its messages (None for an unknown key)."""
        return await self._access.call(_delete, self._id(key))

    def delete_message(self, key: str, idx: int) -> ChatMessage | None:
        """Remove the message at ``idx`` (negative counts from the end); None if there is none."""
        return _one(self._access.call_sync(remove_events, self._id(key), _at(idx)))

    async def adelete_message(self, key: str, idx: int) -> ChatMessage | None:
        """Remove the message at ``idx`` (see ``delete_message``)."""
        return _one(await self._access.call(remove_events, self._id(key), _at(idx)))

    def delete_last_message(self, key: str) -> ChatMessage | None:
        """Remove the newest message; None if there is none."""
        return _one(self._access.call_sync(remove_events, self._id(key), _at(-1)))

    async def adelete_last_message(self, key: str) -> ChatMessage | None:
        """Remove the newest message; None if there is none."""
        return _one(await self._access.call(remove_events, self._id(key), _at(-1)))

    def get_keys(self) -> list[str]:
        """The keys that have a session, sorted."""
        return self._keys(self._access.call_sync(sorted_ids, self.key_prefix))

    async def aget_keys(self) -> list[str]:
        """The keys that have a session, sorted."""
        return self._keys(await self._access.call(sorted_ids, self.key_prefix))

    async def _replace(
        self, store: SessionStoreInterface, session_id: str, entries: list[Entry]
    ) -> None:
        await remove_events(store, session_id, every_event)
        await self._append(store, session_id, entries)


async def _delete(store: SessionStoreInterface, session_id: str) -> list[ChatMessage] | None:
    session = await store.get(session_id)
    if session is None:
        return None
    await store.delete(session_id)
    return chat_messages(list(session.events))


async def sorted_ids(store: SessionStoreInterface, prefix: str) -> list[str]:
    """The ids of the store's sessions that start with ``prefix``, sorted."""
    return sorted(await store.list_sessions(prefix))


def _at(idx: int) -> Any:
    """Picks the event at ``idx`` (as a list index), or none when out of range."""
    if isinstance(idx, bool) or not isinstance(idx, int):
        raise InvalidInputError("idx", idx, f"must be a whole number, not {type(idx).__name__}")

    def pick(events: list[SessionEvent[Any]]) -> list[SessionEvent[Any]]:
        return [events[idx]] if -len(events) <= idx < len(events) else []

    return pick


def _one(events: list[SessionEvent[Any]]) -> ChatMessage | None:
    return chat_messages(events)[0] if events else None


def chat_messages(events: list[SessionEvent[Any]]) -> list[ChatMessage]:
    """The messages ``events`` keep."""
    return [ChatMessage.model_validate(event.message) for event in events]


def chat_entries(messages: Sequence[Any]) -> list[Entry]:
    """The entries that keep ``messages``; raises ``InvalidInputError`` for one that cannot be
    stored and read back as itself."""
    return [_entry(n, message) for n, message in enumerate(messages)]


def _entry(position: int, message: Any) -> Entry:
    """The entry that keeps one message, its JSON checked to read back as the message."""
    field = f"messages[{position}]"
    if not isinstance(message, ChatMessage):
        kind = type(message).__name__
        raise InvalidInputError(field, message, f"must be a ChatMessage, not {kind}")
    try:
        dumped = message.model_dump(mode="json")
    except ValueError as exc:  # pydantic's serialization errors
        raise InvalidInputError(field, message, f"cannot be stored as JSON: {exc}") from None
    checked_json(field, message, dumped, ChatMessage.model_validate)
    role = message.role.value
    return Entry(
        message=dumped,
        text=message.content or "",
        source=_SOURCES.get(role, EventSource.SYSTEM),
        kind=role,
        tool=role in _TOOL_ROLES or bool(message.additional_kwargs.get("tool_calls")),
    )
