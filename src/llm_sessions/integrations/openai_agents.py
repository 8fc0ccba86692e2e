"""An OpenAI Agents SDK ``Session`` kept in any llm_sessions store.

``pip install "llm-sessions[agents]"``, then::

    session = LLMSessionsSession("user_123", store="sqlite:///agents.db")
    result = await Runner.run(agent, "Hello", session=session)

Each conversation item the SDK adds (a message, a function call, its output, ...) is one event,
its message the item exactly as given. The model's output (assistant messages, function calls)
carries the usage its ``ModelResponse`` reported, as ``ai_responds`` records a ChatCompletion's:
the runner hands the session its run's usage, one entry per response, priced as ``model``; with
``hooks=session.hooks`` passed to the runner, each response's own model (the agent's) is
recorded too. Items without reported usage (input, tool output, or a model that reports none)
are counted with the tokenizer of ``model``: input as prompt tokens, output as completion
tokens. ``get_items`` returns the items as they were added, read from the stored events'
JSON as plain dicts (no typed events are built); once this object holds the conversation
(after its first read) it reads only the rows stored since it last looked, so the runner's
read of the history on every turn stays cheap. Appending reads only the session's header.
``pop_item`` and ``clear_session`` remove events through ``Session.remove_events``, so every
reader of the store agrees.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidInputError
from ..interop._input_attachments import (
    check_parts,
    image_tokens_of_parts,
    restore_parts,
    store_parts,
)
from ..models import EventSource, EventType, Session, SessionEvent, SessionMetadata
from ..prompting import Compaction
from ..storage import (
    SessionStore,
    SessionStoreInterface,
    SessionStoreProvider,
    open_store,
    read_messages,
)
from ..validation import validate_id
from ._agents_items import item_text, may_hold_parts, trimmed_outputs

try:
    from agents.lifecycle import RunHooks
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


@dataclass(frozen=True)
class _Reply:
    """What one model response reported: the model that made it and its token counts."""

    model: str
    input_tokens: int
    output_tokens: int

    def usage(self, first: bool) -> dict[str, int]:
        """The response's usage for its first output item; its other items add nothing."""
        if not first:
            return {"input_tokens": 0, "output_tokens": 0}
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


class _ResponseHooks(RunHooks[Any]):
    """Run hooks that hand each model response's model and usage to the session."""

    def __init__(self, session: LLMSessionsSession) -> None:
        self._session = session

    async def on_llm_end(self, context: Any, agent: Any, response: Any) -> None:
        self._session._note_response(_model_name(agent.model), response.usage)


def _model_name(model: Any) -> str | None:
    """The name of an agent's model: the name itself, or a model object's ``model``."""
    name = model if isinstance(model, str) else getattr(model, "model", None)
    return name if isinstance(name, str) and name else None


class LLMSessionsSession:
    """The Agents SDK ``Session`` protocol on an llm_sessions store.

    ``store`` is a store object, a store URL (opened here and closed by ``close()``), or None
    for the process-wide default store. The session is created in the store on the first
    ``add_items``. With ``compaction`` (a ``Compaction``), ``get_items`` sends each
    ``function_call_output`` older than ``trim_tool_results_after_turns`` turns (user
    messages) as a stub naming the tool, the call id and the tokens saved; the stored item is
    not changed. ``model`` (default gpt-4o-mini) prices the usage the runner reports, and
    counts the tokens of items that come without reported usage; pass ``hooks=session.hooks``
    to the runner to price each response as the agent's own model instead. ``user_id`` and
    ``properties`` are given to the session when this object creates it (lists and totals
    across sessions filter by them); a session already stored keeps its own.
    """

    session_settings: SessionSettings | None

    def __init__(
        self,
        session_id: str,
        *,
        store: SessionStoreInterface | str | None = None,
        model: str = "gpt-4o-mini",
        session_settings: SessionSettings | None = None,
        compaction: Compaction | None = None,
        user_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        if compaction is not None and not isinstance(compaction, Compaction):
            raise InvalidInputError("compaction", compaction, "must be a Compaction or None")
        if properties is not None and not isinstance(properties, Mapping):
            raise InvalidInputError("properties", properties, "must be a dict of JSON values")
        self._owner = SessionMetadata()
        self._owner.user_id = user_id  # checked here: a bad one is named before any write
        self._owner.properties = dict(properties or {})
        self.compaction = compaction
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
        self._ids: list[str] | None = None  # the items' event ids, once read
        self._items: list[Any] = []
        self._holds_parts = False  # whether an item read may hold stored parts
        self._read_through: str | None = None
        self._removed: set[str] = set()
        self._replies: deque[_Reply] = deque()
        self._hooked = False
        self._run_usage: Any = None
        self._run_requests_seen = 0
        self._hooks = _ResponseHooks(self)

    @property
    def store(self) -> SessionStoreInterface:
        """The store the conversation is kept in."""
        return self._store

    @property
    def hooks(self) -> RunHooks[Any]:
        """Run hooks to pass to the runner (``Runner.run(..., hooks=session.hooks)``) so that
        each response is recorded with the model that made it, not priced as ``model``."""
        return self._hooks

    async def get_items(self, limit: int | None = None, wrapper: Any = None) -> list[Any]:
        """The conversation's items, oldest first, as they were added.

        Args:
            limit: Only the newest ``limit`` items (default: the ``session_settings`` limit,
                else all of them).
            wrapper: The runner's context, which every method accepts; not used here.

        Returns:
            The items, oldest first; an empty list for a session not stored yet.

        Raises:
            InvalidInputError: ``limit`` is not a whole number >= 0 or None.
            StorageError: The store failed.
        """
        limit = resolve_session_limit(limit, self.session_settings)
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise InvalidInputError("limit", limit, "must be a whole number >= 0 or None")
        items = await self._read(limit)
        held = self._holds_parts if self._ids is not None else may_hold_parts(items)
        for index, item in enumerate(items) if held else ():
            if isinstance(item, dict) and isinstance(item.get("content"), list):  # stored parts?
                items[index] = await restore_parts(item, self._store)
        after = None if self.compaction is None else self.compaction.trim_tool_results_after_turns
        return items if after is None else trimmed_outputs(items, after, self.model)

    async def add_items(self, items: list[Any], wrapper: Any = None) -> None:
        """Append items, one event each, in one save (creating the session on the first).

        The model's output items carry the usage its response reported; input items, and
        output without reported usage, are counted with the tokenizer of ``model``.

        Args:
            items: The items the runner adds (messages, function calls, their output, ...).
            wrapper: The runner's context: its usage has one entry per model response, and the
                responses not recorded yet give their usage to the model's output items here.

        Raises:
            TypeError: An item holds an object that is not JSON.
            ValueError: An item holds a value JSON cannot carry (NaN, infinity).
            StorageError: The store failed.
        """
        if not items:
            return
        items = await self._by_reference(items)
        self._note_run_usage(wrapper)
        session = await self._current()
        shown: _Reply | None = None  # the response whose output the items are
        for item in items:
            kind, source = _kind_and_source(item)
            reply, first = None, False
            if source is EventSource.LLM:
                if self._replies:
                    shown = reply = self._replies.popleft()
                    first = True
                else:
                    reply = shown
            await session.add_event(await self._event(item, kind, source, reply, first))
        await self._store.save(session)

    async def pop_item(self, wrapper: Any = None) -> Any | None:
        """Remove the newest item and return it.

        Args:
            wrapper: The runner's context; not used here.

        Returns:
            The removed item, or None when there is none.

        Raises:
            StorageError: The store failed.
        """
        session = await self._fresh()
        if session is None or not session.events:
            return None
        [removed] = await session.remove_events([session.events[-1].id])
        return await restore_parts(removed.message, self._store)

    async def clear_session(self, wrapper: Any = None) -> None:
        """Remove every item; the session itself stays, empty.

        Args:
            wrapper: The runner's context; not used here.

        Raises:
            StorageError: The store failed.
        """
        session = await self._fresh()
        if session is not None and session.events:
            await session.remove_events([event.id for event in session.events])

    async def close(self) -> None:
        """Close the store if this object opened it from a URL."""
        if self._owns_store and isinstance(self._store, SessionStore):
            await self._store.close()

    # -- reading and writing ----------------------------------------------------------------

    async def _read(self, limit: int | None) -> list[Any]:
        if self._ids is None and limit is not None and isinstance(self._store, SessionStore):
            page = await self._store.read_events(self.session_id, limit=limit, newest_first=True)
            return [] if page is None else [event.message for event in page[::-1]]
        items = await self._caught_up()
        return list(items) if limit is None else items[len(items) - limit :]

    async def _caught_up(self) -> list[Any]:
        """The items as the store holds them now: the rows stored since the last read are
        read and applied (the runner reads the history on every turn), all of them at first."""
        after = None if self._ids is None else self._read_through
        try:
            log = await read_messages(self._store, self.session_id, after=after)
        except InvalidInputError:  # the row read last is gone: read it all again
            after, log = None, await read_messages(self._store, self.session_id)
        if log is None:
            self._ids, self._items, self._read_through, self._removed = None, [], None, set()
            return self._items
        if after is None or self._ids is None:
            self._ids, self._items, self._removed, self._holds_parts = [], [], set(), False
        if log.removed:
            self._removed |= log.removed
            self._forget(log.removed)
        ids, items = log.ids, log.messages
        if self._removed and not self._removed.isdisjoint(ids):  # removed before it was read
            kept = [n for n, event_id in enumerate(ids) if event_id not in self._removed]
            ids, items = [ids[n] for n in kept], [items[n] for n in kept]
        self._ids.extend(ids)
        self._items.extend(items)
        self._holds_parts = self._holds_parts or may_hold_parts(items)
        self._read_through = log.read_through
        return self._items

    def _forget(self, removed: set[str]) -> None:
        """Leave out the items read earlier that ``removed`` names."""
        ids = self._ids or []
        if not any(event_id in removed for event_id in ids):
            return
        kept = [pair for pair in zip(ids, self._items, strict=True) if pair[0] not in removed]
        self._ids = [event_id for event_id, _ in kept]
        self._items = [item for _, item in kept]

    async def _fresh(self) -> Session[Any] | None:
        """The session as the store holds it now (other writers' items included)."""
        self._session = await self._store.get(self.session_id)
        return self._session

    async def _current(self) -> Session[Any]:
        """The session to append to: the one this object holds, else the stored one (its
        header: appending needs none of its events), else new."""
        if self._session is None:
            stored = (
                await self._store.session_for_append(self.session_id)
                if isinstance(self._store, SessionStore)
                else await self._store.get(self.session_id)
            )
            self._session = stored or self._new_session()
        return self._session

    def _new_session(self) -> Session[Any]:
        session: Session[Any] = Session(id=self.session_id)
        session.metadata.user_id = self._owner.user_id
        session.metadata.properties = dict(self._owner.properties)
        return session

    # -- the usage model responses reported ---------------------------------------------------

    def _note_response(self, model: str | None, usage: Any) -> None:
        """One model response, from the run hooks: its model and usage, for its output (a
        response that reports no tokens leaves its output to be counted)."""
        self._hooked = True
        sent, received = usage.input_tokens or 0, usage.output_tokens or 0
        if sent or received:
            self._replies.append(_Reply(model or self.model, sent, received))

    def _note_run_usage(self, wrapper: Any) -> None:
        """The responses of the run that the runner's usage holds and this object has not seen
        (none when the hooks record responses: they know each response's model)."""
        usage = getattr(wrapper, "usage", None)
        if usage is None or self._hooked:
            return
        if usage is not self._run_usage:  # a new run
            self._run_usage, self._run_requests_seen = usage, 0
        entries = list(getattr(usage, "request_usage_entries", None) or [])
        for entry in entries[self._run_requests_seen :]:
            self._replies.append(_Reply(self.model, entry.input_tokens, entry.output_tokens))
        self._run_requests_seen = len(entries)

    async def _by_reference(self, items: list[Any]) -> list[Any]:
        """The items with their input images and files stored as blobs, the parts holding
        references (all are checked before any is stored)."""
        found = [
            check_parts(
                item.get("content") if isinstance(item, Mapping) else None, f"items[{n}].content"
            )
            for n, item in enumerate(items)
        ]
        return [
            {**item, "content": await store_parts(item["content"], parts, self._store)}
            if parts
            else item
            for item, parts in zip(items, found, strict=True)
        ]

    async def _event(
        self, item: Any, kind: str, source: EventSource, reply: _Reply | None, first: bool
    ) -> SessionEvent[Any]:
        """The item's event: with ``reply``, the usage that response reported (on its first
        output item only); without, counted from the item's text."""
        text = item_text(item)
        is_input = source is not EventSource.LLM
        metadata: dict[str, Any] = {ITEM_TYPE_KEY: kind}
        if reply is not None:
            metadata["model"] = reply.model
        event = await SessionEvent.create_with_tokens(
            message=item,
            prompt=text if is_input else None,
            completion=None if is_input else text,
            model=self.model if reply is None else reply.model,
            source=source,
            type=EventType.TOOL_CALL if kind in _CALL_TYPES else EventType.MESSAGE,
            metadata=metadata,
            usage=None if reply is None else reply.usage(first),
        )
        images = image_tokens_of_parts(
            item.get("content") if isinstance(item, Mapping) else None, self.model
        )
        if images and event.token_usage is not None and reply is None:
            await event.token_usage.update(prompt_tokens=images)
        return event


def _kind_and_source(item: Any) -> tuple[str, EventSource]:
    """An item's type (``message``, ``function_call``, ...) and who it comes from: the user
    or the system for input and tool output, the model for the rest."""
    kind = item.get("type", "message") if isinstance(item, Mapping) else "message"
    role = item.get("role") if isinstance(item, Mapping) else None
    source = _INPUT_ROLES.get(role, EventSource.LLM) if isinstance(role, str) else EventSource.LLM
    if kind == "function_call_output":
        source = EventSource.SYSTEM
    return str(kind), source
