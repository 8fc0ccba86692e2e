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
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInputError
from ..models._base import revision_of
from ..models._session_metadata import RESERVED_PROPERTIES
from ..validation import ensure_json_value, validate_key
from ._removals import REMOVAL_ID_PREFIX, removal_records

if TYPE_CHECKING:
    from ..models._session import Session
    from ..models._session_event import SessionEvent
    from ..models._session_run import SessionRun

__all__ = [
    "HeaderChanges",
    "HeaderReading",
    "HeaderSnapshot",
    "SyncState",
    "WriteBatch",
    "diff_runs",
    "header_changes",
    "unsaved_header_edits",
]

_RESERVED_NAMES = {key: name for name, key in RESERVED_PROPERTIES.items()}
"""Stored property name -> the ``SessionMetadata`` field kept under it."""


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
    """How a session's header differs from the one its store holds, as merge operations.

    The one diff of a header: a save writes it (``serialised``, as JSON texts, by
    ``SyncState.prepare``), and a refresh puts a session's unsaved changes back on top of the
    stored header it installs (``reapply``). Until serialised, runs and values are the
    session's own objects.
    """

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
    runs_upserted: dict[str, Any] = field(default_factory=dict)
    """Run id -> the run (its JSON text once serialised)."""
    runs_removed: list[str] = field(default_factory=list)
    state_set: dict[str, Any] = field(default_factory=dict)
    """Key -> value (its JSON text once serialised); so is ``properties_set``."""
    state_removed: list[str] = field(default_factory=list)
    properties_set: dict[str, Any] = field(default_factory=dict)
    properties_removed: list[str] = field(default_factory=list)

    def serialised(self) -> HeaderChanges:
        """These changes with runs and values as the JSON texts the stores write."""
        if not (self.runs_upserted or self.state_set or self.properties_set):
            return self  # nothing to serialise (an append): no copy
        return replace(
            self,
            runs_upserted={key: run.model_dump_json() for key, run in self.runs_upserted.items()},
            state_set={key: _dumps(value) for key, value in self.state_set.items()},
            properties_set={key: _dumps(value) for key, value in self.properties_set.items()},
        )

    def reapply(self, session: Session[Any]) -> None:
        """Make these changes again on ``session``'s header (the stored one, just read)."""
        if self.parent_changed:
            session.__dict__["parent_id"] = self.parent_id
        for ids, added, removed in (
            (session.child_ids, self.children_added, self.children_removed),
            (session.task_ids, self.tasks_added, self.tasks_removed),
        ):
            if added or removed:
                ids[:] = [i for i in ids if i not in removed] + [i for i in added if i not in ids]
        own_set, own_removed = self._reapply_owner(session)
        for values, set_values, removed_keys in (
            (session.state, self.state_set, self.state_removed),
            (session.metadata.properties, own_set, own_removed),
        ):
            values.update(set_values)
            for key in removed_keys:
                values.pop(key, None)
        if self.runs_upserted or self.runs_removed:
            mine = dict(self.runs_upserted)
            gone = self.runs_removed
            kept = [mine.pop(run.id, run) for run in session.runs if run.id not in gone]
            session.runs[:] = kept + list(mine.values())

    def _reapply_owner(self, session: Session[Any]) -> tuple[dict[str, Any], list[str]]:
        """Set ``user_id`` / ``root_id`` changed here (stored as reserved properties, see
        ``SessionMetadata``); the other property changes are returned."""
        own_set = dict(self.properties_set)
        own_removed = [key for key in self.properties_removed if key not in _RESERVED_NAMES]
        for key in self.properties_removed:
            if key in _RESERVED_NAMES:
                session.metadata.__dict__[_RESERVED_NAMES[key]] = None
        for key, name in _RESERVED_NAMES.items():
            if key in own_set:
                session.metadata.__dict__[name] = own_set.pop(key)
        return own_set, own_removed

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
    summary: Any = None
    """What the appended events add to the session's summary (a ``SummaryDelta``), for stores
    that keep summary rows; None when the store keeps none."""
    search: Any = None
    """What the save changes in the store's text index (an ``IndexChanges``), for stores
    that keep one; None when it keeps none or writes none."""
    header_unread: bool = False
    """The session object never read the stored header (``unread_session_for_append``):
    the batch changes no header part, and index rows leave the owner for the store to fill."""


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
    current: dict[str, Any], stored: dict[str, Any], prefix: str, check: bool
) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    changed_names, removed = changed_keys(current, stored)
    if not changed_names and not removed:
        return {}, [], stored
    if not check:  # a refresh's unsaved changes: the save that writes them checks them
        return {key: current[key] for key in changed_names}, removed, stored
    changed: dict[str, Any] = {}
    for key in changed_names:
        validate_key(key, prefix)
        changed[key] = ensure_json_value(current[key], f"{prefix}[{key!r}]")
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
        self.header_unread = False
        """Made without reading the stored header (see ``WriteBatch.header_unread``)."""

    def note_edit(self, event: SessionEvent[Any]) -> None:
        """Record that ``event`` changed; the next save rewrites it if it is already written."""
        self.edited_events[event.id] = event

    def note_removed(self, positions: list[int], event_ids: set[str]) -> None:
        """Events at ``positions`` of the session's list were taken out of it."""
        self.events_written -= sum(1 for position in positions if position < self.events_written)
        self.read_count -= sum(1 for position in positions if position < self.read_count)
        for event_id in event_ids:
            self.edited_events.pop(event_id, None)

    def prepare(
        self, session: Session[Any], removals: Sequence[tuple[list[str], datetime]]
    ) -> WriteBatch:
        """Serialise what this save must write; raises before anything is written.

        ``removals`` are all the removals made through this object, oldest first.
        """
        new_events = session.events[self.events_written :]
        appended = [(event.id, event_json(event)) for event in new_events]
        for event_id, _ in appended:
            if event_id.startswith(REMOVAL_ID_PREFIX):
                raise InvalidInputError(
                    "event.id", event_id, f"must not start with {REMOVAL_ID_PREFIX!r}"
                )
        removals = removals[self.removals_written :]
        for ids, at in removals:
            appended.extend(removal_records(ids, at))
        new_ids = {event_id for event_id, _ in appended}
        edited = [e for e in self.edited_events.values() if e.id not in new_ids]
        updated = [(event.id, event_json(event)) for event in edited]
        revisions = {event.id: revision_of(event) for event in edited}
        header, snapshot = header_changes(session, self.snapshot)
        return WriteBatch(
            session.id,
            header.serialised(),
            appended,
            updated,
            revisions,
            len(session.events),
            snapshot,
            self.removals_written + len(removals),
            must_exist=self.stored,
            header_unread=self.header_unread,
        )

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


def header_changes(
    session: Session[Any], stored: HeaderSnapshot, *, check: bool = True
) -> tuple[HeaderChanges, HeaderSnapshot]:
    """How ``session``'s header differs from ``stored``, and the snapshot a save of it leaves.

    With ``check`` (a save), keys and values are checked as the stores need them, raising
    ``InvalidInputError``; without it (a refresh noting unsaved changes) nothing is checked and
    the snapshot returned is ``stored``.
    """
    children_added, children_removed = diff_ids(session.child_ids, stored.child_ids)
    tasks_added, tasks_removed = diff_ids(session.task_ids, stored.task_ids)
    state_set, state_removed, state_copy = _diff_keys(session.state, stored.state, "state", check)
    props = session.metadata.stored_properties()
    props_set, props_removed, props_copy = _diff_keys(
        props, stored.properties, "metadata.properties", check
    )
    marks, changed_runs, runs_removed = diff_runs(session.runs, stored.runs)
    runs_upserted: dict[str, Any] = {run.id: run for run in changed_runs}
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
    if changes.unchanged() or not check:
        # Unchanged, the same object: a refresh that finds the stored header as it last installed it
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


def unsaved_header_edits(session: Session[Any], stored: HeaderSnapshot) -> HeaderChanges:
    """What ``session``'s header changes relative to ``stored`` (nothing is checked or
    serialised: values are the session's own objects, a run the caller keeps editing stays
    the session's run)."""
    return header_changes(session, stored, check=False)[0]
