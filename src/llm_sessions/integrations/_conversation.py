"""One session as a framework's list of messages: each message one event, in order.

The integrations turn a framework's message into an ``Entry`` (the JSON to store, its text, who
it comes from and what the provider reported), and these functions read, append and remove the
events. A message is stored only if reading its JSON back gives the same message, so a message
the framework allows but a store cannot keep is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..exceptions import InvalidInputError
from ..models import EventSource, EventType, Session, SessionEvent
from ..storage import SessionStore, SessionStoreInterface
from ..validation import ensure_json_value, validate_id
from ._bridge import StoreAccess

__all__ = [
    "Conversation",
    "Entry",
    "append_events",
    "checked_json",
    "event_for",
    "every_event",
    "read_events",
    "remove_events",
]


@dataclass(frozen=True)
class Entry:
    """What one framework message becomes: ``message`` is the JSON stored, ``kind`` the
    framework's name for its type, ``usage``/``model`` what the provider reported (if any)."""

    message: Any
    text: str
    source: EventSource
    kind: str
    tool: bool = False
    usage: Any = None
    model: str | None = None


def checked_json(field: str, original: Any, dumped: Any, load: Callable[[Any], Any]) -> Any:
    """``dumped`` if it is JSON that ``load`` turns back into ``original``, else raise
    ``InvalidInputError`` naming ``field``."""
    ensure_json_value(dumped, field)
    try:
        same = load(dumped) == original
    except (ValueError, TypeError, KeyError) as exc:
        reason = f"cannot be read back once stored: {exc}"
        raise InvalidInputError(field, original, reason) from None
    if not same:
        raise InvalidInputError(
            field, original, "would not read back as the same message once stored as JSON"
        )
    return dumped


async def event_for(entry: Entry, model: str, kind_key: str) -> SessionEvent[Any]:
    """The event that keeps ``entry``: the model's messages count as completion tokens, the
    rest as prompt tokens, unless the provider reported usage."""
    is_input = entry.source is not EventSource.LLM
    metadata: dict[str, Any] = {kind_key: entry.kind}
    if entry.model is not None:
        metadata["model"] = entry.model
    return await SessionEvent.create_with_tokens(
        message=entry.message,
        prompt=entry.text if is_input else None,
        completion=None if is_input else entry.text,
        model=entry.model or model,
        source=entry.source,
        type=EventType.TOOL_CALL if entry.tool else EventType.MESSAGE,
        metadata=metadata,
        usage=entry.usage,
    )


async def read_events(
    store: SessionStoreInterface, session_id: str, limit: int | None = None
) -> list[SessionEvent[Any]]:
    """The session's events, oldest first (the newest ``limit`` with a limit); none if the
    session is not stored."""
    if limit is not None and isinstance(store, SessionStore):
        page = await store.read_events(session_id, limit=limit, newest_first=True)
        return [] if page is None else page[::-1]
    session = await store.get(session_id)
    events = [] if session is None else list(session.events)
    return events if limit is None else events[len(events) - limit :]


async def append_events(
    store: SessionStoreInterface, session_id: str, events: Sequence[SessionEvent[Any]]
) -> None:
    """Append ``events`` to the session (created if absent) in one save."""
    if not events:
        return
    if isinstance(store, SessionStore):
        session = await store.session_for_append(session_id)
    else:
        session = await store.get(session_id)
    if session is None:
        session = Session(id=session_id)
    for event in events:
        await session.add_event(event)
    await store.save(session)


async def remove_events(
    store: SessionStoreInterface,
    session_id: str,
    pick: Callable[[list[SessionEvent[Any]]], list[SessionEvent[Any]]],
) -> list[SessionEvent[Any]]:
    """Remove the events ``pick`` chooses among the session's events; returns them."""
    session = await store.get(session_id)
    if session is None:
        return []
    chosen = pick(list(session.events))
    if chosen:
        await session.remove_events([event.id for event in chosen])
    return chosen


class Conversation:
    """What every integration's history shares: a session id, a store and the model that
    prices and counts what comes without reported usage. Subclasses name ``kind_key``, the
    event metadata key of the framework's message type, and turn messages into entries."""

    kind_key: ClassVar[str]

    def __init__(
        self,
        session_id: str,
        *,
        store: SessionStoreInterface | str | None = None,
        model: str = "gpt-4o-mini",
    ) -> None:
        self.session_id = validate_id(session_id, "session_id")
        self.model = model
        self._access = StoreAccess(store)

    @property
    def store(self) -> SessionStoreInterface:
        """The store the conversation is kept in."""
        return self._access.store

    async def aclose(self) -> None:
        """Close the store if this history opened it from a URL."""
        await self._access.close()

    async def _events(self, limit: int | None = None) -> list[SessionEvent[Any]]:
        return await self._access.call(read_events, self.session_id, limit)

    def _events_sync(self) -> list[SessionEvent[Any]]:
        return self._access.call_sync(read_events, self.session_id)

    async def _add(self, entries: list[Entry]) -> None:
        await self._access.call(self._append, entries)

    def _add_sync(self, entries: list[Entry]) -> None:
        self._access.call_sync(self._append, entries)

    async def _clear(self) -> None:
        await self._access.call(remove_events, self.session_id, every_event)

    def _clear_sync(self) -> None:
        self._access.call_sync(remove_events, self.session_id, every_event)

    async def _append(self, store: SessionStoreInterface, entries: list[Entry]) -> None:
        events = [await event_for(entry, self.model, self.kind_key) for entry in entries]
        await append_events(store, self.session_id, events)


def every_event(events: list[SessionEvent[Any]]) -> list[SessionEvent[Any]]:
    """Picks every event (for ``remove_events``)."""
    return events
