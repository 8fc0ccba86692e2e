"""Header edits a session holds that its store does not have yet, kept across a refresh.

A refresh puts the stored header in place of the session's. Edits made to the header since the
last save or read (state and property keys set or removed, children and tasks added or removed,
runs added, changed or removed, a new parent) would be dropped with it, silently: the next save
would find nothing to write. ``unsaved_header_edits`` notes them before the refresh and
``HeaderEdits.reapply`` puts them back on top of the stored header afterwards, as a save would
merge them into the store, so the next save still writes them. Values are the session's own
objects, not copies: a run the caller keeps editing stays the session's run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models.session import Session
from ..models.session_metadata import RESERVED_PROPERTIES
from ..models.session_run import SessionRun
from .sync import HeaderSnapshot, changed_keys, diff_ids, diff_runs

__all__ = ["HeaderEdits", "unsaved_header_edits"]

_RESERVED = frozenset(RESERVED_PROPERTIES.values())


@dataclass(frozen=True)
class HeaderEdits:
    """The difference between a session's header and the stored one it was read or saved as."""

    parent: tuple[str | None] | None
    """``(parent_id,)`` if the parent changed, else None."""
    children: tuple[list[str], list[str]]
    tasks: tuple[list[str], list[str]]
    state: tuple[dict[str, Any], list[str]]
    properties: tuple[dict[str, Any], list[str]]
    runs: tuple[list[SessionRun], list[str]]
    owner: dict[str, Any] = field(default_factory=dict)
    """``user_id`` / ``root_id`` set since (stored apart from the properties, see
    ``SessionMetadata``)."""

    def reapply(self, session: Session[Any]) -> None:
        """Make these edits again on ``session``'s header (the stored one, just read)."""
        if self.parent is not None:
            session.__dict__["parent_id"] = self.parent[0]
        for ids, (added, removed) in (
            (session.child_ids, self.children),
            (session.task_ids, self.tasks),
        ):
            if added or removed:
                ids[:] = [i for i in ids if i not in removed] + [i for i in added if i not in ids]
        for values, (set_values, removed_keys) in (
            (session.state, self.state),
            (session.metadata.properties, self.properties),
        ):
            values.update(set_values)
            for key in removed_keys:
                values.pop(key, None)
        session.metadata.__dict__.update(self.owner)
        upserted, removed_runs = self.runs
        if upserted or removed_runs:
            mine = {run.id: run for run in upserted}
            kept = [mine.pop(run.id, run) for run in session.runs if run.id not in removed_runs]
            session.runs[:] = kept + list(mine.values())


def unsaved_header_edits(session: Session[Any], stored: HeaderSnapshot) -> HeaderEdits:
    """What ``session``'s header changes relative to ``stored`` (nothing is serialised)."""
    state_set, state_removed = changed_keys(session.state, stored.state)
    props = session.metadata.stored_properties()
    props_set, props_removed = changed_keys(props, stored.properties)
    _, changed_runs, removed_runs = diff_runs(session.runs, stored.runs)
    return HeaderEdits(
        parent=(session.parent_id,) if session.parent_id != stored.parent_id else None,
        children=diff_ids(session.child_ids, stored.child_ids),
        tasks=diff_ids(session.task_ids, stored.task_ids),
        state=({key: session.state[key] for key in state_set}, state_removed),
        properties=(
            {key: props[key] for key in props_set if key not in _RESERVED},
            [key for key in props_removed if key not in _RESERVED],
        ),
        owner={name: props[key] for name, key in RESERVED_PROPERTIES.items() if key in props_set},
        runs=(changed_runs, removed_runs),
    )
