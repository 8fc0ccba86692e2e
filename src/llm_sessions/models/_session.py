"""A session: a header (parent, children, runs, state, metadata) and an ordered event log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Generic, Self
from uuid import uuid4

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .. import telemetry
from ..exceptions import (
    InvalidInputError,
    InvalidSessionOperation,
    SessionAlreadyExists,
    SessionNotFound,
)
from ..tokens import count_text_async
from ..validation import ensure_json_object, ensure_json_value, validate_id, validate_key
from ._base import STORED_DATA, set_listener
from ._event_list import EventList, take_back
from ._session_event import MessageT, SessionEvent
from ._session_metadata import SessionMetadata
from ._session_run import RunStatus, SessionRun
from ._store_port import SessionStorePort, StoreBinding, default_store
from ._token_usage import TokenSummary
from ._tracked import track

__all__ = ["Session", "SessionEvent"]


class Session(BaseModel, Generic[MessageT]):
    """A conversation or task: ordered events with their token usage, in a tree of sessions.

    A session remembers the store it was created in, loaded from or saved to; ``*_and_save``
    methods and header changes (children, state) are written there. A session that was never
    stored uses the process-wide default store (``SessionStoreProvider``) when it first saves.
    """

    id: str = Field(default_factory=lambda: str(uuid4()))
    metadata: SessionMetadata = Field(default_factory=SessionMetadata)
    parent_id: str | None = None
    child_ids: list[str] = Field(default_factory=list)
    task_ids: list[str] = Field(default_factory=list)
    runs: list[SessionRun] = Field(default_factory=list)
    events: list[SessionEvent[MessageT]] = Field(default_factory=list)
    """Append-only (an ``EventList``): what a session shows is what its store holds."""
    state: dict[str, Any] = Field(default_factory=dict)
    token_summary: TokenSummary = Field(default_factory=TokenSummary)

    _binding: StoreBinding | None = PrivateAttr(default=None)
    """Put here by the store that read or wrote this object (see ``StoreBinding``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        # Checked before the assignment: the session never holds what its store cannot write.
        if name == "state":
            value = _tracked_state(ensure_json_object(value, "state"))
        elif name == "events" and value is not self.__dict__.get("events"):  # += assigns back
            raise InvalidSessionOperation("replace session.events", EventList.HOW_TO_REMOVE)
        super().__setattr__(name, value)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return validate_id(value, "session_id")

    @field_validator("parent_id")
    @classmethod
    def _valid_parent(cls, value: str | None) -> str | None:
        return None if value is None else validate_id(value, "parent_id")

    @field_validator("child_ids", "task_ids")
    @classmethod
    def _valid_ids(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if info.context is STORED_DATA:  # checked when written: a refresh reads it every turn
            return value
        for item in value:
            validate_id(item, "child_id")
        return value

    @field_validator("state")
    @classmethod
    def _json_state(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if info.context is STORED_DATA:
            return value
        return ensure_json_object(value, "state")

    @model_validator(mode="after")
    def _derive_token_summary(self) -> Self:
        data = self.__dict__
        data["events"] = EventList(data["events"])
        data["state"] = _tracked_state(data["state"])
        self.rebuild_token_summary()
        return self

    def rebuild_token_summary(self) -> None:
        """Recompute ``token_summary`` from the events (totals are never stored apart)."""
        usages = [event.__dict__["token_usage"] for event in self.events]
        self.__dict__["token_summary"] = TokenSummary.of(usages)

    # -- derived values ---------------------------------------------------------------------

    @property
    def last_update_time(self) -> datetime:
        """Time of the latest event, or the creation time of an empty session."""
        return self.events[-1].timestamp if self.events else self.metadata.created_at

    @property
    def active_run(self) -> SessionRun | None:
        """The run that is currently running, if any."""
        for run in reversed(self.runs):
            if run.status is RunStatus.RUNNING:
                return run
        return None

    @property
    def total_tokens(self) -> int:
        """Tokens used by all events."""
        return self.token_summary.total_tokens

    @property
    def total_cost(self) -> float:
        """USD cost of all priced events (see ``token_summary.unpriced_models``)."""
        return self.token_summary.total_estimated_cost_usd

    # -- creation and the store -------------------------------------------------------------

    @classmethod
    async def create(
        cls,
        parent_id: str | None = None,
        *,
        store: SessionStorePort | None = None,
        user_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Self:
        """Create a session, save it, and link it into its parent's ``child_ids``.

        Args:
            parent_id: the parent session's id, or None.
            store: where to save it (the process-wide default store if None).
            user_id: who the session belongs to; a child without one takes its parent's.
                A child's ``metadata.root_id`` is its parent's root (or the parent).
            properties: the session's top-level properties (JSON values).
            **kwargs: other fields of the session (``id``, ``state``...).

        Returns:
            The saved session.

        Raises:
            SessionNotFound: ``parent_id`` does not exist (nothing is saved).
            SessionAlreadyExists: ``id`` is taken (nothing is saved).
            InvalidInputError: a bad ``user_id`` or property.
        """
        target = store if store is not None else default_store()
        session = cls(parent_id=parent_id, **kwargs)
        if user_id is not None:
            session.metadata.user_id = user_id
        if properties is not None:
            session.metadata.properties = {**session.metadata.properties, **properties}
        if "id" in kwargs and await target.get(session.id) is not None:
            raise SessionAlreadyExists(session.id)
        parent = None
        if parent_id is not None:
            parent = await target.get(parent_id)
            if parent is None:
                raise SessionNotFound(parent_id)
            if session.metadata.user_id is None:
                session.metadata.user_id = parent.metadata.user_id
            session.metadata.root_id = parent.metadata.root_id or parent.id
        await target.save(session)
        if parent is not None:
            await parent.add_child(session.id)
        return session

    async def async_init(self) -> None:
        """Recompute the values derived from the events (the token summary), and link this
        session into its parent's ``child_ids`` in the store when it has a ``parent_id``.

        A parent that is not in the store is left alone (nothing to link into)."""
        self.rebuild_token_summary()
        if self.parent_id is None:
            return
        parent = await self.store.get(self.parent_id)
        if parent is not None and self.id not in parent.child_ids:
            await parent.add_child(self.id)

    @property
    def store(self) -> SessionStorePort:
        """The store this session is kept in (the default store if it was never stored)."""
        stored_in = self._stored_in()
        return stored_in if stored_in is not None else default_store()

    def _stored_in(self) -> SessionStorePort | None:
        return self._binding.store if self._binding is not None else None

    async def _save_if_stored(self) -> None:
        stored_in = self._stored_in()
        if stored_in is not None:
            await stored_in.save(self)

    # -- hierarchy --------------------------------------------------------------------------

    async def add_child(self, child_id: str) -> None:
        """Add a child session id (once) and save the change if this session is stored."""
        validate_id(child_id, "child_id")
        if child_id not in self.child_ids:
            self.child_ids.append(child_id)
            await self._save_if_stored()

    async def remove_child(self, child_id: str) -> None:
        """Remove a child session id and save the change if this session is stored."""
        if child_id in self.child_ids:
            self.child_ids.remove(child_id)
            await self._save_if_stored()

    async def ancestors(self) -> list[Session[Any]]:
        """Parent, grandparent, ... (nearest first), read from the store."""
        found: list[Session[Any]] = []
        seen = {self.id}
        parent_id = self.parent_id
        while parent_id is not None and parent_id not in seen:
            parent = await self.store.get(parent_id)
            if parent is None:
                break
            found.append(parent)
            seen.add(parent_id)
            parent_id = parent.parent_id
        return found

    async def descendants(self) -> list[Session[Any]]:
        """Children, grandchildren and so on (breadth first), read from the store."""
        found: list[Session[Any]] = []
        seen = {self.id}
        frontier = list(self.child_ids)
        while frontier:
            child_id = frontier.pop(0)
            if child_id in seen:
                continue
            seen.add(child_id)
            child = await self.store.get(child_id)
            if child is not None:
                found.append(child)
                frontier.extend(child.child_ids)
        return found

    # -- events -----------------------------------------------------------------------------

    async def add_event(self, event: SessionEvent[MessageT]) -> None:
        """Append an event (in memory; see ``add_event_and_save``).

        If the session's store has a ``redact=`` hook, the event is redacted first, so its
        tokens are counted from the redacted texts (see ``storage.redaction``).
        """
        if not isinstance(event, SessionEvent):
            raise InvalidInputError("event", event, "must be a SessionEvent")
        if self._binding is not None:
            await self._binding.prepare_event(event)
        self.events.append(event)
        set_listener(event, self._event_changed)
        if event.token_usage is not None:
            self.token_summary.add(event.token_usage)
            telemetry.record_usage(event.token_usage)
        self.metadata.__dict__["updated_at"] = event.timestamp

    def _event_changed(self, event: SessionEvent[Any]) -> None:
        # An event edited after it was added: totals are derived from the events, and a store
        # that already holds the event must rewrite it.
        self.rebuild_token_summary()
        if self._binding is not None:
            self._binding.note_edit(event)

    def watch_events(self, events: list[SessionEvent[Any]]) -> None:
        """Follow edits to ``events`` (already in ``self.events``), as ``add_event`` does."""
        listener = self._event_changed
        for event in events:
            set_listener(event, listener)

    async def add_event_and_save(self, event: SessionEvent[MessageT]) -> None:
        """Append an event and save the session; only the new event is written.

        If the store refuses the event as invalid (too large, say), or because another writer
        deleted the session (``SessionNotFound``), it is taken back out of the session before
        the error propagates. After a storage failure the event stays, and the next save
        writes it.
        """
        updated_at = self.metadata.updated_at
        await self.add_event(event)
        try:
            await self.store.save(self)
        except (InvalidInputError, SessionNotFound):
            if self.events and self.events[-1] is event:
                take_back(self.events, event)
                set_listener(event, None)
                self.rebuild_token_summary()
                self.metadata.__dict__["updated_at"] = updated_at
            raise

    async def remove_events(self, event_ids: Iterable[str]) -> list[SessionEvent[MessageT]]:
        """Remove events by id and, if this session is stored, record the removal there.

        The log stays append-only: the store keeps a removal record that every reader applies,
        so other readers of the session agree, and concurrent writers' events are kept. Returns
        the removed events, in order. An id that is not an event of this session raises
        ``InvalidInputError`` and nothing changes. This is the one way to take events out of a
        session; the ``events`` list itself is not to be edited.
        """
        ids = _event_id_list(event_ids)
        present = {event.id for event in self.events}
        for event_id in ids:
            if event_id not in present:
                raise InvalidInputError(
                    "event_ids", event_id, f"is not an event of session {self.id!r}"
                )
        if not ids:
            return []
        lock = self._binding.lock if self._binding is not None else None
        if lock is not None:
            async with lock:  # not while a save of this object is under way
                removed = self._take_out(set(ids))
        else:
            removed = self._take_out(set(ids))
        if self._binding is not None:  # a session no store has seen is written whole
            self._binding.note_removal(ids, datetime.now(UTC))
        await self._save_if_stored()
        return removed

    def _take_out(self, ids: set[str]) -> list[SessionEvent[MessageT]]:
        positions = [n for n, event in enumerate(self.events) if event.id in ids]
        removed = [self.events[n] for n in positions]
        self.__dict__["events"] = EventList(event for event in self.events if event.id not in ids)
        for event in removed:
            set_listener(event, None)
        if self._binding is not None:
            self._binding.note_removed(positions, ids)
        self.rebuild_token_summary()
        return removed

    async def get_token_usage_by_source(self) -> dict[str, TokenSummary]:
        """Token summaries keyed by event source (``user``, ``llm``, ``system``)."""
        return self._summarise_by(lambda event: event.source.value)

    async def get_token_usage_by_run(self) -> dict[str, TokenSummary]:
        """Token summaries keyed by run id (``task_id``); events outside runs under ``no_run``."""
        return self._summarise_by(lambda event: event.task_id or "no_run")

    def _summarise_by(self, key: Any) -> dict[str, TokenSummary]:
        summaries: dict[str, TokenSummary] = {}
        for event in self.events:
            if event.token_usage is not None:
                summaries.setdefault(key(event), TokenSummary()).add(event.token_usage)
        return summaries

    async def count_message_tokens(self, message: Any, model: str = "gpt-4o-mini") -> int:
        """Tokens of a text; a chat message dict counts as its ``content`` (so ``"hi"`` and
        ``{"role": "user", "content": "hi"}`` count the same). Other values count as JSON.
        ``tokens.count_chat_message`` counts a message with its chat overhead."""
        if isinstance(message, Mapping) and "content" in message:
            message = message["content"]
        text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
        return (await count_text_async(text, model)).tokens

    # -- state ------------------------------------------------------------------------------

    async def set_state(self, key: str, value: Any) -> None:
        """Set a state value (a JSON value) and save it if this session is stored."""
        validate_key(key, "state")
        ensure_json_value(value, f"state[{key!r}]")
        self.state[key] = value
        await self._save_if_stored()

    async def get_state(self, key: str, default: Any = None) -> Any:
        """A state value, or ``default``."""
        return self.state.get(key, default)

    async def has_state(self, key: str) -> bool:
        """Whether ``key`` is in the state."""
        return key in self.state

    async def remove_state(self, key: str) -> None:
        """Remove a state key and save the change if this session is stored."""
        if key in self.state:
            del self.state[key]
            await self._save_if_stored()


def _event_id_list(event_ids: Iterable[str]) -> list[str]:
    if isinstance(event_ids, str) or not isinstance(event_ids, Iterable):
        raise InvalidInputError("event_ids", event_ids, "must be a list of event ids")
    ids = list(dict.fromkeys(event_ids))
    for event_id in ids:
        if not isinstance(event_id, str):
            raise InvalidInputError("event_ids", event_id, "must be an event id (a string)")
    return ids


def _tracked_state(state: dict[str, Any]) -> dict[str, Any]:
    # In-place edits are checked; the store finds them by comparing with what it wrote.
    tracked: dict[str, Any] = track(state, None, "state", strict_keys=True)
    return tracked
