"""``LLMSessionsSessionService``: Google ADK's ``BaseSessionService`` on an llm_sessions store.

An ADK session is a session of ours with the same id: its user is ``user_id``, its app and
its session-scoped state are properties (``adk_app``, ``adk_state``), so a listing is a
``find_sessions`` query over the session index and loads no session. ``app:`` and ``user:``
state lives in one reserved session per app and one per app and user (ids starting with
``adk-state:``), shared by every session of the app or user, and changes with the event that
makes the change, all or nothing (see ``_shared``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from google.adk.errors import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events import Event
from google.adk.sessions import BaseSessionService, Session
from google.adk.sessions.base_session_service import GetSessionConfig, ListSessionsResponse
from typing_extensions import override

from ...exceptions import InvalidInputError
from ...models import Session as OurSession
from ...storage import (
    EventLogStore,
    SessionStore,
    SessionStoreInterface,
    SessionStoreProvider,
    open_store,
)
from ...storage._raw_log import read_log
from ...validation import validate_id
from ._events import adk_event_of, adk_events_of_rows, our_event
from ._shared import (
    REVISION,
    STATE,
    STATE_APP,
    STATE_SESSION_PREFIX,
    SharedState,
    find_all,
    merged,
    split_delta,
)

__all__ = ["STATE_SESSION_PREFIX", "LLMSessionsSessionService"]

_APP, _TIME, _LAST = ("adk_app", "adk_update_time", "adk_last_event")


class LLMSessionsSessionService(BaseSessionService):
    """Google ADK's session service on any llm_sessions store.

    Args:
        store: A store object, a store URL (opened here, closed by ``close()``), or None for
            the process-wide default store.
        model: The model that prices an event's reported tokens when the event names none.
        clock: Seconds since the epoch, for the sessions' creation time (``time.time``).
    """

    def __init__(
        self,
        store: SessionStoreInterface | str | None = None,
        *,
        model: str = "gemini-2.0-flash",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._owns_store = isinstance(store, str)
        if isinstance(store, str):
            self._store: SessionStoreInterface = open_store(store)
        else:
            self._store = store if store is not None else SessionStoreProvider.get_store()
        self.model = model
        self._clock = clock
        # A tenant's view of a store keeps every id under its prefix, the reserved ones too.
        self._prefix = str(getattr(self._store, "prefix", "") or "")
        self._shared = SharedState(self._store, self._prefix)

    @property
    def store(self) -> SessionStoreInterface:
        """The store the sessions are kept in."""
        return self._store

    async def close(self) -> None:
        """Close the store if this service opened it from a URL."""
        if self._owns_store and isinstance(self._store, SessionStore):
            await self._store.close()

    # -- sessions ---------------------------------------------------------------------------

    @override
    async def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        state: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        """Create a session, its ``app:``/``user:`` state keys going to the shared state.

        Args:
            app_name: The app's name.
            user_id: The user's id.
            state: The initial state (``temp:`` keys are not stored).
            session_id: The session's id (default: a fresh one, under a tenant's prefix).

        Returns:
            The session, with the merged state and no events.

        Raises:
            AlreadyExistsError: A session with this id exists.
            InvalidInputError: A bad id, or a state value JSON cannot carry.
        """
        session_id = session_id if session_id is not None else self._new_id()
        validate_id(session_id, "session_id")
        validate_id(user_id, "user_id")
        if self._shared.is_reserved(session_id):
            reason = f"must not start with {STATE_SESSION_PREFIX!r} (reserved for shared state)"
            raise InvalidInputError("session_id", session_id, reason)
        app, user, own = split_delta(dict(state or {}))
        if await self._store.get(session_id) is not None:
            raise AlreadyExistsError(f"Session with id {session_id} already exists.")
        now = self._clock()
        ours: OurSession[Any] = OurSession(id=session_id)
        ours.metadata.user_id = user_id
        ours.metadata.properties = {_APP: app_name, STATE: own, _TIME: now, REVISION: 0}
        await self._shared.settle(app_name)
        await self._shared.begin(ours, app_name, app, user)
        await self._store.save(ours)
        await self._shared.finish(ours)
        app_state = await self._shared.read(self._shared.app_id(app_name))
        user_state = await self._shared.read(self._shared.user_id(app_name, user_id))
        session = Session(
            id=session_id,
            app_name=app_name,
            user_id=user_id,
            state=merged(app_state, user_state, own),
            last_update_time=now,
        )
        session._storage_update_marker = "0"
        return session

    @override
    async def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        config: GetSessionConfig | None = None,
    ) -> Session | None:
        """The session with its merged state and events (None if absent or not this
        app's and user's).

        Args:
            app_name: The app's name.
            user_id: The user's id.
            session_id: The session's id.
            config: ``num_recent_events`` (only the newest events) and ``after_timestamp``
                (only events at or after it).

        Returns:
            The session, or None.
        """
        recent = config.num_recent_events if config else None
        after = config.after_timestamp if config else None
        if recent is not None and after is None:
            ours = await self._owned(app_name, user_id, session_id, whole=False)
            if ours is None:
                return None
            events = await self._newest(session_id, recent)
        else:
            loaded = await self._load(app_name, user_id, session_id)
            if loaded is None:
                return None
            ours, events = loaded
        if after:
            events = [event for event in events if event.timestamp >= after]
        if recent is not None:
            events = events[len(events) - recent :] if recent else []
        return await self._adk_session(ours, events)

    @override
    async def list_sessions(
        self, *, app_name: str, user_id: str | None = None
    ) -> ListSessionsResponse:
        """The app's sessions (the user's, with ``user_id``), oldest update first, with
        their merged state and no events; read from the session index.

        Args:
            app_name: The app's name.
            user_id: Only this user's sessions (default: every user's).

        Returns:
            The sessions.
        """
        where: dict[str, Any] = {_APP: app_name}
        if user_id is not None:
            where["user_id"] = user_id
        await self._shared.settle(app_name)
        rows = await find_all(self._store, where)
        shared = await find_all(self._store, {STATE_APP: app_name})
        app_state: dict[str, Any] = {}
        user_states: dict[str, dict[str, Any]] = {}
        for row in shared:
            if row.user_id is None:
                app_state = row.properties.get(STATE, {})
            else:
                user_states[row.user_id] = row.properties.get(STATE, {})
        sessions = [
            Session(
                id=row.id,
                app_name=app_name,
                user_id=row.user_id or "",
                state=merged(
                    app_state,
                    user_states.get(row.user_id or "", {}),
                    row.properties.get(STATE, {}),
                ),
                last_update_time=float(row.properties.get(_TIME, 0.0)),
            )
            for row in rows
        ]
        sessions.sort(key=lambda s: (s.last_update_time, s.user_id, s.id))
        return ListSessionsResponse(sessions=sessions)

    @override
    async def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> None:
        """Delete the session and its events, if it is this app's and user's.

        Args:
            app_name: The app's name.
            user_id: The user's id.
            session_id: The session's id.
        """
        if await self._owned(app_name, user_id, session_id, whole=False) is not None:
            await self._shared.settle(app_name)
            await self._store.delete(session_id)

    @override
    async def get_user_state(self, *, app_name: str, user_id: str) -> dict[str, Any]:
        """The user's shared state in the app, keys without the ``user:`` prefix.

        Args:
            app_name: The app's name.
            user_id: The user's id.

        Returns:
            The state (empty when none is stored).
        """
        await self._shared.settle(app_name)
        return await self._shared.read(self._shared.user_id(app_name, user_id))

    @override
    async def append_event(self, session: Session, event: Event) -> Event:
        """Store the event and its state delta; update ``session`` as ADK's services do.

        The event, the session's own state keys and the ``app:`` and ``user:`` keys are
        stored all or nothing: the event's save records the shared keys, which are then
        written to the shared state; if that is cut short, the next read or write of the
        app's state finishes it. Every value is checked first, so bad input stores nothing.

        Args:
            session: The session, as this service returned it.
            event: The event (a ``partial`` one is returned and not stored).

        Returns:
            The event, its ``temp:`` state keys trimmed.

        Raises:
            SessionNotFoundError: The session is not stored (or not this app's and user's).
            StaleSessionError: Events were added to the session since ``session`` was read.
            InvalidInputError: The event or a state value holds what JSON cannot carry.
        """
        if event.partial:
            return event
        self._apply_temp_state(session, event)
        event = self._trim_temp_delta_state(event)
        app, user, own = split_delta(dict(event.actions.state_delta or {}))
        stored_event = await our_event(event, self.model)
        ours = await self._for_append(session)
        props = ours.metadata.properties
        revision = int(props.get(REVISION, 0)) + 1
        if app or user:  # older shared deltas land before this one
            await self._shared.settle(session.app_name)
        props = {**props, STATE: {**props.get(STATE, {}), **own}}
        props.update({_TIME: event.timestamp, REVISION: revision, _LAST: event.id})
        ours.metadata.properties = props
        await self._shared.begin(ours, session.app_name, app, user)
        await ours.add_event(stored_event)
        await self._store.save(ours)
        await self._shared.finish(ours)
        session.last_update_time = event.timestamp
        session._storage_update_marker = str(revision)
        return self._commit_event_to_session(session, event)

    # -- helpers ----------------------------------------------------------------------------

    def _new_id(self) -> str:
        return f"{self._prefix}{uuid.uuid4()}"

    async def _owned(
        self, app_name: str, user_id: str, session_id: str, *, whole: bool
    ) -> OurSession[Any] | None:
        """The stored session if it is this app's and user's: whole, or its header only."""
        if self._shared.is_reserved(session_id):
            return None
        if whole:
            ours = await self._store.get(session_id)
        else:
            ours = await self._shared.header(session_id)
        return ours if ours is not None and _belongs(ours, app_name, user_id) else None

    async def _load(
        self, app_name: str, user_id: str, session_id: str
    ) -> tuple[OurSession[Any], list[Event]] | None:
        """The stored session's header and its ADK events, if it is this app's and user's.

        From a durable store, the rows are read once and only their ADK events are decoded.
        """
        if not isinstance(self._store, EventLogStore):
            whole = await self._owned(app_name, user_id, session_id, whole=True)
            return None if whole is None else (whole, _adk_events(whole.events))
        if self._shared.is_reserved(session_id):
            return None
        log = await read_log(self._store, session_id)
        if log is None or not _belongs(log.header, app_name, user_id):
            return None
        return log.header, adk_events_of_rows(log.rows, log.removed, log.location)

    async def _newest(self, session_id: str, count: int) -> list[Event]:
        if count == 0:
            return []
        if isinstance(self._store, SessionStore):
            page = await self._store.read_events(session_id, limit=count, newest_first=True)
            return [] if page is None else _adk_events(page[::-1])
        whole = await self._store.get(session_id)
        return [] if whole is None else _adk_events(whole.events)

    async def _for_append(self, session: Session) -> OurSession[Any]:
        """The stored session to append to, once ``session`` is known to be current."""
        ours = await self._owned(session.app_name, session.user_id, session.id, whole=False)
        if ours is None:
            raise SessionNotFoundError(f"Session {session.id} not found.")
        props = ours.metadata.properties
        marker = session._storage_update_marker
        if marker is not None:
            stale = marker != str(props.get(REVISION, 0))
        else:
            last = session.events[-1].id if session.events else None
            stale = last != props.get(_LAST)
        if stale:
            raise StaleSessionError(
                f"Session {session.id} changed in the store since this object was read: "
                "read it again with get_session before appending."
            )
        return ours

    async def _adk_session(self, ours: OurSession[Any], events: list[Event]) -> Session:
        props = ours.metadata.properties
        app_name = str(props[_APP])
        user_id = ours.metadata.user_id or ""
        app_state = await self._shared.settle(app_name)
        user_state = await self._shared.read(self._shared.user_id(app_name, user_id))
        session = Session(
            id=ours.id,
            app_name=app_name,
            user_id=user_id,
            state=merged(app_state, user_state, props.get(STATE, {})),
            events=events,
            last_update_time=float(props.get(_TIME, 0.0)),
        )
        session._storage_update_marker = str(props.get(REVISION, 0))
        return session


def _belongs(ours: OurSession[Any], app_name: str, user_id: str) -> bool:
    return ours.metadata.user_id == user_id and ours.metadata.properties.get(_APP) == app_name


def _adk_events(stored: list[Any]) -> list[Event]:
    return [event for event in map(adk_event_of, stored) if event is not None]
