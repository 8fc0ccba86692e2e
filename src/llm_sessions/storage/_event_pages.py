"""A page of a session's events from an event-log store, as events or as their stored rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..validation import validate_id
from ._event_page import EventPage
from ._records import event_id_of
from ._removals import is_removal_row, split_removals

if TYPE_CHECKING:
    from ..models._session_event import SessionEvent
    from ._encryption import RecordCipher
    from ._records import StoredPage

__all__ = ["PagedStore", "event_id_of_event", "page_of"]

_Row = TypeVar("_Row")


class PagedStore(Protocol):
    """What ``page_of`` uses of an ``EventLogStore``."""

    _cipher: RecordCipher

    def _ensure_open(self) -> None: ...

    async def _removals_and_page(
        self, session_id: str, page: EventPage
    ) -> tuple[list[str | bytes] | None, StoredPage | None]: ...

    async def _read_page(self, session_id: str, page: EventPage) -> StoredPage | None: ...


def event_id_of_event(event: SessionEvent[Any]) -> str:
    """The event's id."""
    return event.id


async def page_of(
    store: PagedStore,
    session_id: str,
    page: EventPage,
    decode: Callable[[list[str | bytes], str], list[_Row]],
    id_of: Callable[[_Row], str | None],
) -> list[_Row] | None:
    """The events of ``page`` as ``decode`` makes them of ``store``'s rows, without removal
    records and the events they remove (read on past those to fill the page).

    Args:
        store: The store.
        session_id: The session's id.
        page: What to read.
        decode: Makes the events of some rows (the rows and their location).
        id_of: An event's id.

    Returns:
        The events; None when the session is absent.
    """
    validate_id(session_id)
    store._ensure_open()
    removals, stored = await store._removals_and_page(session_id, page)
    if removals is None:
        return None
    removed = split_removals(removals, session_id)[1]
    events: list[_Row] = []
    while True:
        if stored is None:
            stored = await store._read_page(session_id, page)
        if stored is None:
            return None
        stored = store._cipher.open_page(stored)
        rows = [row for row in stored.events if not is_removal_row(row)]
        found = decode(rows, stored.location)
        kept = [event for event in found if id_of(event) not in removed] if removed else found
        events.extend(kept)
        last = event_id_of(stored.events[-1]) if stored.events else None
        if page.limit is None or len(stored.events) < page.limit or last is None:
            return events
        wanted = page.limit - len(kept)
        if wanted <= 0:
            return events
        # Removed events and removal records took places in the page: read on past them.
        if page.newest_first:
            page = replace(page, before=last, limit=wanted)
        else:
            page = replace(page, after=last, limit=wanted)
        stored = None
