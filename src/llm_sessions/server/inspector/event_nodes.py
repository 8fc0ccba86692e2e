"""The inspector's own JSON: a page of a session's event tree (``event_tree_data`` plus each
event's JSON), and the rest of a session's page from one load of the session.

One ``read_events`` call per page (the newest page first, then older ones as the reader scrolls,
or the events after the last one shown as the live tail reports them). A tool call whose reply
is on an older page comes as a root; the script moves it under the reply once that is loaded.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...api._forks import FORKED_FROM
from ...models import Session, SessionEvent
from ...views import event_tree_data
from ..dependencies import Scoped
from ..errors import ERROR_RESPONSES
from ..paging import read_one, read_page
from ..session_schema import event_out
from ..sessions import cost_out, segment_ids

__all__ = ["event_nodes", "forked_from", "router"]

router = APIRouter(prefix="/inspector/api", responses=ERROR_RESPONSES, include_in_schema=False)

_EventId = Annotated[str | None, Query(max_length=256)]


@router.get("/sessions/{session_id}/events")
async def event_page(
    session_id: str,
    store: Scoped,
    before: _EventId = None,
    after: _EventId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The ``limit`` events before ``before`` (default: the newest), or after ``after``, as
    tree nodes in session order, with the ids of the first and last of them; ``has_more``: more
    events lie beyond them."""
    if after is not None:
        events, has_more = await read_page(store, session_id, after=after, limit=limit, order="asc")
    else:
        newest_first, has_more = await read_page(
            store, session_id, after=before, limit=limit, order="desc", cursor_name="before"
        )
        events = newest_first[::-1]
    return {
        "nodes": event_nodes(events),
        "first_id": events[0].id if events else None,
        "last_id": events[-1].id if events else None,
        "has_more": has_more,
    }


@router.get("/sessions/{session_id}/events/{event_id}")
async def event_node(session_id: str, event_id: str, store: Scoped) -> dict[str, Any]:
    """One event as a tree node without children (``node``): what the page shows again when
    the live tail reports a new version of an event it shows (a reply growing as it streams)."""
    return {"node": event_nodes([await read_one(store, session_id, event_id)])[0]}


@router.get("/sessions/{session_id}/overview")
async def overview(session_id: str, store: Scoped) -> dict[str, Any]:
    """What the page shows beside the events, from one load of the session: its ``runs``, its
    ``cost`` (as ``/v1/sessions/{id}/cost``), the ``segments`` of its conversation and, for a
    fork, where it was ``forked_from`` (else None)."""
    session = await store.require(session_id)
    return {
        "runs": [run.model_dump(mode="json") for run in session.runs],
        "cost": (await cost_out(session)).model_dump(mode="json"),
        "segments": await segment_ids(store, session),
        "forked_from": forked_from(session),
    }


def forked_from(session: Session[Any]) -> dict[str, str | None] | None:
    """The ``session_id`` and ``event_id`` a fork was made at, from its ``forked_from``
    property; None for a session that is not a fork (or whose property is not that shape)."""
    origin = session.metadata.properties.get(FORKED_FROM)
    if not isinstance(origin, dict) or not isinstance(origin.get("session_id"), str):
        return None
    event_id = origin.get("event_id")
    return {
        "session_id": origin["session_id"],
        "event_id": event_id if isinstance(event_id, str) else None,
    }


def event_nodes(events: list[SessionEvent[Any]]) -> list[dict[str, Any]]:
    """The tree of ``events`` (see ``event_tree_data``, with tool calls' ``failures``), each
    node with its event's JSON."""
    by_id = {event.id: event for event in events}
    roots = event_tree_data(events, failures=True)
    stack = list(roots)
    while stack:
        node = stack.pop()
        node["event"] = event_out(by_id[node["id"]])
        stack.extend(node["children"])
    return roots
