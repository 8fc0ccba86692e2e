"""An OpenAI Agents SDK ``Session`` kept in any llm_sessions store.

``pip install "llm-sessions[agents]"``, then::

    session = LLMSessionsSession("user_123", store="sqlite:///agents.db")
    result = await Runner.run(agent, "Hello", session=session)

Each conversation item the SDK adds (a message, a function call, its output, ...) is one event,
its message the item exactly as given, with token counts from the tokenizer of ``model``: input
(user, system and tool output items) as prompt tokens, the model's output (assistant messages,
function calls) as completion tokens. ``get_items`` returns the items as they were added; once
this object holds the conversation (after its first read or write) it reads only the items
stored since it last looked, so the runner's read of the history on every turn stays cheap;
``pop_item`` and ``clear_session`` remove events through ``Session.remove_events``, so every
reader of the store agrees.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..exceptions import InvalidInputError
from ..models.event_source import EventSource
from ..models.event_type import EventType
from ..models.session import Session
from ..models.session_event import SessionEvent
from ..storage import SessionStore, SessionStoreInterface, refreshed
from ..storage.provider import SessionStoreProvider
from ..storage.url import open_store
from ..validation import validate_id

try:
    from agents.memory.session_settings import SessionSettings, resolve_session_limit
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "llm_sessions.integrations.openai_agents needs the OpenAI Agents SDK: "
        'pip install "llm-sessions[agents]"'
    ) from exc

__all__ = ["ITEM_TYPE_KEY", "LLMSessionsSession"]

ITEM_TYPE_KEY = "agents_item_type"
"""Event metadata key holding the item's type (``message``, ``function_call``, ...)."""

_INPUT_ROLES = {
    "user": EventSource.USER,
    "system": EventSource.SYSTEM,
    "developer": EventSource.SYSTEM,
}
_CALL_TYPES = frozenset({"function_call", "function_call_output"})


class LLMSessionsSession:
    """The Agents SDK ``Session`` protocol on an llm_sessions store.

    ``store`` is a store object, a store URL (opened here and closed by ``close()``), or None
    for the process-wide default store. The session is created in the store on the first
    ``add_items``; ``model`` names the tokenizer and price used for the items' token counts.
    """

    session_settings: SessionSettings | None

    def __init__(
        self,
        session_id: str,
        *,
        store: SessionStoreInterface | str | None = None,
        model: str = "gpt-4o-mini",
        session_settings: SessionSettings | None = None,
    ) -> None:
        self.session_id = validate_id(session_id, "session_id")
        self.model = model
        self.session_settings = session_settings or SessionSettings()
        self._owns_store = isinstance(store, str)
        if isinstance(store, str):
            self._store: SessionStoreInterface = open_store(store)
        elif store is None:
            self._store = SessionStoreProvider.get_store()
        else:
            self._store = store
        self._session: Session[Any] | None = None

    @property
    def store(self) -> SessionStoreInterface:
        """The store the conversation is kept in."""
        return self._store

    async def get_items(self, limit: int | None = None) -> list[Any]:
        """The conversation's items, oldest first; with ``limit``, only the newest ``limit``."""
        limit = resolve_session_limit(limit, self.session_settings)
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise InvalidInputError("limit", limit, "must be a whole number >= 0 or None")
        events = await self._read(limit)
        return [event.message for event in events]

    async def add_items(self, items: list[Any]) -> None:
        """Append items, one event each, in one save."""
        if not items:
            return
        session = await self._current()
        for item in items:
            await session.add_event(await self._event(item))
        await self._store.save(session)

    async def pop_item(self) -> Any | None:
        """Remove the newest item and return it (None when there is none)."""
        session = await self._fresh()
        if session is None or not session.events:
            return None
        [removed] = await session.remove_events([session.events[-1].id])
        return removed.message

    async def clear_session(self) -> None:
        """Remove every item (the session itself stays, empty)."""
        session = await self._fresh()
        if session is not None and session.events:
            await session.remove_events([event.id for event in session.events])

    async def close(self) -> None:
        """Close the store if this object opened it from a URL."""
        if self._owns_store and isinstance(self._store, SessionStore):
            await self._store.close()

    # -- reading and writing ----------------------------------------------------------------

    async def _read(self, limit: int | None) -> list[SessionEvent[Any]]:
        if self._session is not None:
            # The runner reads the history on every turn: a session this object holds is
            # brought up to date by reading only what was stored since it last looked.
            self._session = await refreshed(self._store, self._session)
            events = [] if self._session is None else self._session.events
        elif limit is not None and isinstance(self._store, SessionStore):
            page = await self._store.read_events(self.session_id, limit=limit, newest_first=True)
            return [] if page is None else page[::-1]
        else:
            session = await self._fresh()
            events = [] if session is None else session.events
        return events if limit is None else events[len(events) - limit :]

    async def _fresh(self) -> Session[Any] | None:
        """The session as the store holds it now (other writers' items included)."""
        self._session = await self._store.get(self.session_id)
        return self._session

    async def _current(self) -> Session[Any]:
        """The session to append to: the one this object holds, else the stored one, else new."""
        if self._session is None:
            self._session = await self._fresh() or Session(id=self.session_id)
        return self._session

    async def _event(self, item: Any) -> SessionEvent[Any]:
        kind = item.get("type", "message") if isinstance(item, Mapping) else "message"
        role = item.get("role") if isinstance(item, Mapping) else None
        source = _INPUT_ROLES.get(role, EventSource.LLM) if isinstance(role, str) else None
        if kind == "function_call_output":
            source = EventSource.SYSTEM
        text = _item_text(item)
        is_input = source in (EventSource.USER, EventSource.SYSTEM)
        return await SessionEvent.create_with_tokens(
            message=item,
            prompt=text if is_input else None,
            completion=None if is_input else text,
            model=self.model,
            source=source or EventSource.LLM,
            type=EventType.TOOL_CALL if kind in _CALL_TYPES else EventType.MESSAGE,
            metadata={ITEM_TYPE_KEY: str(kind)},
        )


def _item_text(item: Any) -> str:
    """The text an item carries: message content, call arguments or a tool's output."""
    if not isinstance(item, Mapping):
        return json.dumps(item)
    for key in ("content", "arguments", "output"):
        value = item.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            texts = [part.get("text") for part in value if isinstance(part, Mapping)]
            return "".join(text for text in texts if isinstance(text, str))
    return json.dumps(item, ensure_ascii=False)
