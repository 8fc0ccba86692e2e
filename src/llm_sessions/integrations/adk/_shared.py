"""ADK's shared state (``app:`` and ``user:`` keys) on an llm_sessions store.

``app:`` state lives in one reserved session per app and ``user:`` state in one per app and
user (ids starting with ``adk-state:``), as the ``adk_state`` property.

An event whose delta changes shared state must change it with the event, all or nothing, on
every store; no store writes two sessions in one atomic write. So the event's own save is the
commit point: it records the shared delta in the session (``adk_pending``) in the same write
as the event. The delta is then written to the shared sessions and the record removed. Before
the event is saved, the app's state session gets a note naming the session (``adk_pending:<id>``),
removed last. A writer that fails in between leaves the record and the note; whoever next reads
or writes the app's state (through any session of it) reads the notes with that state, and
finishes the records they lead to (``settle``): writing a delta again writes the same values,
so two finishing it at once is harmless.
"""

from __future__ import annotations

from typing import Any

from google.adk.sessions import State

from ...models import Session as OurSession
from ...storage import SessionStore, SessionStoreInterface
from ...validation import validate_id
from ._events import json_checked

__all__ = [
    "PENDING",
    "PENDING_APP",
    "REVISION",
    "STATE",
    "STATE_APP",
    "STATE_SESSION_PREFIX",
    "SharedState",
    "find_all",
    "merged",
    "split_delta",
]

STATE_SESSION_PREFIX = "adk-state:"
"""Ids of the reserved sessions holding ``app:`` and ``user:`` state start with this."""

STATE, STATE_APP, PENDING, PENDING_APP, REVISION = (
    "adk_state",
    "adk_state_app",
    "adk_pending",
    "adk_pending_app",
    "adk_revision",
)
HINT = "adk_pending:"
"""A property of an app's state session per session about to record a shared delta."""
_PAGE = 1000


def split_delta(delta: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A state delta's ``app:``, ``user:`` and session keys (prefixes dropped), ``temp:`` left
    out; every value checked to be JSON."""
    app: dict[str, Any] = {}
    user: dict[str, Any] = {}
    own: dict[str, Any] = {}
    for key, value in delta.items():
        if key.startswith(State.TEMP_PREFIX):
            continue
        json_checked(f"state[{key!r}]", value)
        if key.startswith(State.APP_PREFIX):
            app[key.removeprefix(State.APP_PREFIX)] = value
        elif key.startswith(State.USER_PREFIX):
            user[key.removeprefix(State.USER_PREFIX)] = value
        else:
            own[key] = value
    return app, user, own


def merged(app: dict[str, Any], user: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """The state an ADK session shows: its own keys, then ``app:`` and ``user:`` keys."""
    state = dict(own)
    state.update({State.APP_PREFIX + key: value for key, value in app.items()})
    state.update({State.USER_PREFIX + key: value for key, value in user.items()})
    return state


async def find_all(store: SessionStoreInterface, where: dict[str, Any]) -> list[Any]:
    """Every session summary matching ``where``, oldest update first, page by page."""
    rows: list[Any] = []
    cursor = None
    while True:
        page = await store.find_sessions(  # type: ignore[attr-defined]
            where=where, order="updated_at", limit=_PAGE, cursor=cursor
        )
        rows.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return rows


class SharedState:
    """The shared state of the apps and users of one store (``prefix``: a tenant's)."""

    def __init__(self, store: SessionStoreInterface, prefix: str) -> None:
        self.store = store
        self.prefix = prefix

    def is_reserved(self, session_id: str) -> bool:
        """Whether ``session_id`` is one of the sessions holding shared state."""
        return session_id.removeprefix(self.prefix).startswith(STATE_SESSION_PREFIX)

    def app_id(self, app_name: str) -> str:
        """The id of the session holding the app's state."""
        return validate_id(
            f"{self.prefix}{STATE_SESSION_PREFIX}app:{app_name}", "app_name (state session id)"
        )

    def user_id(self, app_name: str, user_id: str) -> str:
        """The id of the session holding the user's state in the app."""
        # The app name's length keeps ("a:b", "c") and ("a", "b:c") apart.
        name = f"{self.prefix}{STATE_SESSION_PREFIX}user:{len(app_name)}:{app_name}:{user_id}"
        return validate_id(name, "user_id (state session id)")

    async def header(self, session_id: str) -> OurSession[Any] | None:
        """The stored session's header (a durable store reads none of its events)."""
        if isinstance(self.store, SessionStore):
            return await self.store.session_for_append(session_id)
        return await self.store.get(session_id)

    async def read(self, state_id: str) -> dict[str, Any]:
        """The state kept in ``state_id`` (empty when none is)."""
        stored = await self.header(state_id)
        return {} if stored is None else dict(stored.metadata.properties.get(STATE, {}))

    async def update(
        self, state_id: str, app_name: str, user_id: str | None, delta: dict[str, Any]
    ) -> dict[str, Any]:
        """The state of ``state_id`` with ``delta`` written into it (saved only when
        ``delta`` changes something)."""
        return await self._edit(state_id, app_name, user_id, delta, {})

    async def _edit(
        self,
        state_id: str,
        app_name: str,
        user_id: str | None,
        delta: dict[str, Any],
        marks: dict[str, Any],
    ) -> dict[str, Any]:
        """Write ``delta`` into the state of ``state_id`` and set (or, for None, remove) the
        properties ``marks`` names, in one save if anything changes; the state after."""
        stored = await self.header(state_id)
        state = {} if stored is None else dict(stored.metadata.properties.get(STATE, {}))
        if not delta and not marks:
            return state
        state.update(delta)
        if stored is None:
            stored = OurSession(id=state_id)
            stored.metadata.user_id = user_id
        props = {**stored.metadata.properties, STATE_APP: app_name, STATE: state, **marks}
        stored.metadata.properties = {k: v for k, v in props.items() if v is not None}
        await self.store.save(stored)
        return state

    async def begin(
        self, ours: OurSession[Any], app_name: str, app: dict[str, Any], user: dict[str, Any]
    ) -> None:
        """Before ``ours`` is saved with its event: note in the app's state that the session
        is about to record a shared delta, and record it in ``ours`` (saved with the event)."""
        if not (app or user):
            return
        revision = ours.metadata.properties.get(REVISION, 0)
        await self._edit(self.app_id(app_name), app_name, None, {}, {HINT + ours.id: revision})
        ours.metadata.properties[PENDING] = {"app": app, "user": user}
        ours.metadata.properties[PENDING_APP] = app_name

    async def finish(self, ours: OurSession[Any]) -> None:
        """Write the shared delta ``ours`` records, remove the record, then the note."""
        props = ours.metadata.properties
        pending, app_name = props.get(PENDING), props.get(PENDING_APP)
        if not isinstance(pending, dict) or not isinstance(app_name, str):
            return
        user_id = ours.metadata.user_id or ""
        user_state = self.user_id(app_name, user_id)
        await self.update(user_state, app_name, user_id, dict(pending.get("user", {})))
        await self.update(self.app_id(app_name), app_name, None, dict(pending.get("app", {})))
        ours.metadata.properties = {
            key: value for key, value in props.items() if key not in (PENDING, PENDING_APP)
        }
        await self.store.save(ours)
        await self._edit(self.app_id(app_name), app_name, None, {}, {HINT + ours.id: None})

    async def settle(self, app_name: str) -> dict[str, Any]:
        """Finish the shared deltas of the app's events whose writers stopped half-way;
        the app's state then.

        A note whose session holds no record is removed once the session has moved past
        the revision the note names (its writer finished, or never wrote its event).
        """
        app_id = self.app_id(app_name)
        stored = await self.header(app_id)
        props = {} if stored is None else stored.metadata.properties
        notes = {key[len(HINT) :]: value for key, value in props.items() if key.startswith(HINT)}
        if not notes:
            return dict(props.get(STATE, {}))
        for session_id, revision in notes.items():
            ours = await self.header(session_id)
            if ours is None:
                continue
            if PENDING in ours.metadata.properties:
                await self.finish(ours)
            elif int(ours.metadata.properties.get(REVISION, 0)) >= int(revision):
                await self._edit(app_id, app_name, None, {}, {HINT + session_id: None})
        return await self.read(app_id)
