"""What a store has already written for a session object, and what a save must add.

Each session object tracks, per store, how many of its events are written and a snapshot of its
header as stored. A save turns the difference into a ``WriteBatch``: new events to append, saved
events edited since, and header changes expressed as merges (set union for children, upsert by id
for runs, last-writer-wins per key for state and properties). Every part of a batch is idempotent,
so a retried save never duplicates anything, and concurrent writers never erase each other.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInputError
from ..models._base import revision_of
from ..validation import ensure_json_value, validate_key
from .removals import REMOVAL_ID_PREFIX, removal_records

if TYPE_CHECKING:
    from ..models.session import Session
    from ..models.session_event import SessionEvent
    from ..models.session_run import SessionRun

__all__ = [
    "HeaderChanges",
    "HeaderReading",
    "HeaderSnapshot",
    "SyncState",
    "WriteBatch",
    "diff_runs",
    "sync_state_for",
]


@dataclass
class HeaderSnapshot:
    """The header as the store holds it (from this object's point of view)."""

    parent_id: str | None = None
    child_ids: tuple[str, ...] = ()
    task_ids: tuple[str, ...] = ()
    runs: dict[str, tuple[int, int]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class HeaderReading:
    """A stored header as one session object last installed it."""

    parts: object
    """What it held apart from its timestamps (see ``records.header_parts``)."""
    snapshot: HeaderSnapshot
    """The snapshot made from it; a save that changes the header replaces the session's."""
    tag: str | None
    """The store's tag for it, in stores that keep one."""

    def current_for(self, sync: SyncState) -> bool:
        """Whether no save of this object has moved the header since it was installed."""
        return self.snapshot is sync.snapshot


@dataclass
class HeaderChanges:
    """Header changes as merge operations; JSON values are already serialised."""

    created_at: datetime
    updated_at: datetime
    parent_id: str | None
    parent_changed: bool
    """Apply ``parent_id`` only if this writer changed it (or when creating the session): a
    stale copy must not undo a parent another writer set."""
    children_added: list[str] = field(default_factory=list)
    children_removed: list[str] = field(default_factory=list)
    tasks_added: list[str] = field(default_factory=list)
    tasks_removed: list[str] = field(default_factory=list)
    runs_upserted: dict[str, str] = field(default_factory=dict)
    runs_removed: list[str] = field(default_factory=list)
    state_set: dict[str, str] = field(default_factory=dict)
    state_removed: list[str] = field(default_factory=list)
    properties_set: dict[str, str] = field(default_factory=dict)
    properties_removed: list[str] = field(default_factory=list)

    def unchanged(self) -> bool:
        """Whether these changes leave every header part as it was (timestamps aside)."""
        return not (
            self.parent_changed
            or self.children_added
            or self.children_removed
            or self.tasks_added
            or self.tasks_removed
            or self.runs_upserted
            or self.runs_removed
            or self.state_set
            or self.state_removed
            or self.properties_set
            or self.properties_removed
        )


@dataclass
class WriteBatch:
    """Everything one save writes for one session."""

    session_id: str
    header: HeaderChanges
    appended: list[tuple[str, str]]
    """(event id, event JSON) in session order, then removal records (see ``removals``); a
    store skips ids it already holds."""
    updated: list[tuple[str, str]]
    """(event id, event JSON) of stored events edited since they were written."""
    updated_revisions: dict[str, int]
    events_end: int
    snapshot: HeaderSnapshot
    removals_end: int = 0
    must_exist: bool | None = False
    """True if this object saved or loaded the session here before: if the store no longer
    holds it (deleted or expired), the write raises ``SessionNotFound`` instead of recreating
    it. False for a new session: if the id is taken, ``SessionAlreadyExists``, as from
    ``Session.create``. None after a first write whose outcome is unknown (a retry)."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def event_json(event: SessionEvent[Any]) -> str:
    """The event as stored; a value no store can write raises ``InvalidInputError`` naming it.

    Values are checked when they enter an event; this catches what got past those checks
    (``model_construct``, say), so that no driver ever sees it.
    """
    try:
        return event.model_dump_json()
    except (ValueError, TypeError, RecursionError) as exc:
        ensure_json_value(event.message, f"event {event.id}: message")
        ensure_json_value(event.metadata, f"event {event.id}: metadata")
        raise InvalidInputError(f"event {event.id}", event, str(exc)) from exc


def copy_json(value: Any) -> Any:
    # A JSON round trip is a deep copy that cannot share mutable parts with the session.
    return json.loads(_dumps(value))


def changed_keys(current: dict[str, Any], stored: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The keys whose value ``current`` sets differently from ``stored``, and those it lacks."""
    if current == stored:
        return [], []
    changed = [key for key, value in current.items() if key not in stored or stored[key] != value]
    return changed, [key for key in stored if key not in current]


def _diff_keys(
    current: dict[str, Any], stored: dict[str, Any], prefix: str
) -> tuple[dict[str, str], list[str], dict[str, Any]]:
    changed_names, removed = changed_keys(current, stored)
    if not changed_names and not removed:
        return {}, [], stored
    changed: dict[str, str] = {}
    for key in changed_names:
        validate_key(key, prefix)
        changed[key] = _dumps(ensure_json_value(current[key], f"{prefix}[{key!r}]"))
    return changed, removed, {key: copy_json(value) for key, value in current.items()}


def diff_ids(current: list[str], stored: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The ids ``current`` adds to ``stored``, and those it drops, in their order."""
    if tuple(current) == stored:
        return [], []
    now, before = set(current), set(stored)
    return [i for i in current if i not in before], [i for i in stored if i not in now]


def run_marks(runs: list[SessionRun]) -> dict[str, tuple[int, int]]:
    """Each run's id with what tells whether it changed: the object and its revision."""
    return {run.id: (id(run), revision_of(run)) for run in runs}


def diff_runs(
    runs: list[SessionRun], stored: dict[str, tuple[int, int]]
) -> tuple[dict[str, tuple[int, int]], list[SessionRun], list[str]]:
    """The runs' marks, the runs added or changed since ``stored`` (marks), and the ids of
    those gone."""
    marks = run_marks(runs)
    changed = [run for run in runs if stored.get(run.id) != marks[run.id]]
    return marks, changed, [run_id for run_id in stored if run_id not in marks]


class SyncState:
    """One session object's sync with one store."""

    def __init__(
        self,
        store_token: object,
        events_written: int,
        snapshot: HeaderSnapshot,
        *,
        stored: bool | None = False,
    ):
        self.store_token = store_token
        self.stored = stored
        self.events_written = events_written
        self.removals_written = 0
        self.read_count = events_written
        """How many of the session's first events are, in store order, all it has read of the
        store's log (a refresh reads what follows)."""
        self.read_through: str | None = None
        """The id of the last stored row (an event or a removal record) it has read (None:
        nothing yet)."""
        self.snapshot = snapshot
        self.header_read: HeaderReading | None = None
        """The stored header this object last installed: while its snapshot is still current,
        a refresh that finds the same header keeps the session's header as it is."""
        self.edited_events: dict[str, SessionEvent[Any]] = {}
        self.lock = asyncio.Lock()

    def note_edit(self, event: SessionEvent[Any]) -> None:
        """Record that ``event`` changed; the next save rewrites it if it is already written."""
        self.edited_events[event.id] = event

    def note_removed(self, positions: list[int], event_ids: set[str]) -> None:
        """Events at ``positions`` of the session's list were taken out of it."""
        self.events_written -= sum(1 for position in positions if position < self.events_written)
        self.read_count -= sum(1 for position in positions if position < self.read_count)
        for event_id in event_ids:
            self.edited_events.pop(event_id, None)

    def prepare(self, session: Session[Any]) -> WriteBatch:
        """Serialise what this save must write; raises before anything is written."""
        new_events = session.events[self.events_written :]
        appended = [(event.id, event_json(event)) for event in new_events]
        for event_id, _ in appended:
            if event_id.startswith(REMOVAL_ID_PREFIX):
                raise InvalidInputError(
                    "event.id", event_id, f"must not start with {REMOVAL_ID_PREFIX!r}"
                )
        removals = session._removals[self.removals_written :]
        for ids, at in removals:
            appended.extend(removal_records(ids, at))
        new_ids = {event_id for event_id, _ in appended}
        edited = [e for e in self.edited_events.values() if e.id not in new_ids]
        updated = [(event.id, event_json(event)) for event in edited]
        revisions = {event.id: revision_of(event) for event in edited}
        header, snapshot = self._header_changes(session)
        return WriteBatch(
            session.id,
            header,
            appended,
            updated,
            revisions,
            len(session.events),
            snapshot,
            self.removals_written + len(removals),
            must_exist=self.stored,
        )

    def _header_changes(self, session: Session[Any]) -> tuple[HeaderChanges, HeaderSnapshot]:
        stored = self.snapshot
        children_added, children_removed = diff_ids(session.child_ids, stored.child_ids)
        tasks_added, tasks_removed = diff_ids(session.task_ids, stored.task_ids)
        state_set, state_removed, state_copy = _diff_keys(session.state, stored.state, "state")
        props = session.metadata.stored_properties()
        props_set, props_removed, props_copy = _diff_keys(
            props, stored.properties, "metadata.properties"
        )
        marks, changed_runs, runs_removed = diff_runs(session.runs, stored.runs)
        runs_upserted = {run.id: run.model_dump_json() for run in changed_runs}
        changes = HeaderChanges(
            created_at=session.metadata.created_at,
            updated_at=session.metadata.updated_at,
            parent_id=session.parent_id,
            parent_changed=session.parent_id != stored.parent_id,
            children_added=children_added,
            children_removed=children_removed,
            tasks_added=tasks_added,
            tasks_removed=tasks_removed,
            runs_upserted=runs_upserted,
            runs_removed=runs_removed,
            state_set=state_set,
            state_removed=state_removed,
            properties_set=props_set,
            properties_removed=props_removed,
        )
        if changes.unchanged():
            # The same object: a refresh that finds the stored header as it last installed it
            # knows, by identity, that no save of this object has moved it since.
            return changes, stored
        snapshot = HeaderSnapshot(
            parent_id=session.parent_id,
            child_ids=tuple(session.child_ids),
            task_ids=tuple(session.task_ids),
            runs=marks,
            state=state_copy,
            properties=props_copy,
        )
        return changes, snapshot

    def commit(self, batch: WriteBatch, session: Session[Any]) -> None:
        """Record that ``batch`` is written."""
        if batch.events_end > self.events_written:
            # Events appended to the list directly (not through add_event) are followed too.
            session.watch_events(session.events[self.events_written : batch.events_end])
            self.events_written = batch.events_end
        for event_id, revision in batch.updated_revisions.items():
            event = self.edited_events.get(event_id)
            if event is not None and revision_of(event) == revision:
                del self.edited_events[event_id]
        self.removals_written = max(self.removals_written, batch.removals_end)
        self.snapshot = batch.snapshot
        self.stored = True


def sync_state_for(session: Session[Any], store_token: object) -> SyncState:
    """The session's sync state with this store; a fresh one if it was synced elsewhere.

    A session object that no store has seen is new: saving it over a stored id raises
    ``SessionAlreadyExists``, as ``Session.create`` does.
    """
    sync = session._sync
    if not isinstance(sync, SyncState) or sync.store_token is not store_token:
        # A session that another store object saved or loaded may be stored here too: its
        # first save through this object merges into it, wherever it stands.
        stored = None if isinstance(sync, SyncState) and sync.stored is not False else False
        sync = SyncState(store_token, 0, HeaderSnapshot(), stored=stored)
        session._sync = sync
    return sync
