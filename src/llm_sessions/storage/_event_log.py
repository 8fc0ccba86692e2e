"""The shared machinery of the durable stores: header plus append-only event log."""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from typing import TYPE_CHECKING, Any

from .. import telemetry
from ..exceptions import InvalidInputError, SessionNotFound, StorageError
from ..models._session import Session
from ..validation import validate_id
from ._base import SessionStore
from ._binding import binding_of, bound_sync, sync_state_for
from ._encryption import KeyInput, cipher_for
from ._event_page import EventPage
from ._event_pages import event_id_of_event, page_of
from ._options import DEFAULT_MAX_EVENT_BYTES, StoreOptions
from ._records import StoredPage, StoredSession, build_session, decode_events, event_id_of
from ._redaction import redact_events
from ._refresh import apply_refresh
from ._removals import is_removal_row
from ._reseal import SealedSwap, header_swaps
from ._search_index import index_changes
from ._summary_delta import delta_of
from ._sync import HeaderSnapshot, SyncState, WriteBatch

if TYPE_CHECKING:
    from ..models._session_event import SessionEvent

__all__ = ["DEFAULT_MAX_EVENT_BYTES", "EventLogStore"]

# A header record that a writer still holding an old key keeps rewriting is left to the next
# rotation after this many passes.
_RESEAL_PASSES = 3


class EventLogStore(SessionStore):
    """A store that keeps a session as a small header plus an append-only event log.

    Subclasses implement ``_read`` (header and events in log order) and ``_write`` (apply one
    ``WriteBatch`` atomically: merge the header changes, append the events whose ids are new,
    rewrite edited events, refresh the expiry). Saving costs the same at the 10th and the
    10,000th event, and concurrent writers to one session all land.

    ``max_event_bytes`` (None: no limit) caps the size of one event's JSON; a save with a larger
    event raises ``InvalidInputError`` naming the event, its size and the limit, and writes
    nothing.

    ``timeout`` (seconds) bounds every operation; one that takes longer, or that the backend
    fails, raises ``StorageError`` (see ``faults``).
    ``encryption_key`` (a key, or keys with the current one first; None: the environment's
    ``LLM_SESSIONS_ENCRYPTION_KEY``, if set) encrypts event bodies, runs, state values and
    properties at rest (see ``storage.encryption``); every read path opens them through the
    same codec.
    ``redact`` (see ``storage.redaction``) redacts each new event's message before its tokens
    are counted into the session or it is checked or written.
    """

    def __init__(self, options: StoreOptions | None = None) -> None:
        options = options if options is not None else StoreOptions()
        self.options = options
        self.session_class = options.session_class
        self.expiration_seconds = options.expiration_seconds
        self.max_event_bytes = options.max_event_bytes
        self.timeout = options.timeout
        self._cipher = cipher_for(options.encryption_key)
        self.redact = options.redact
        self.max_scan_events = options.max_scan_events

    async def get(self, session_id: str) -> Session[Any] | None:
        validate_id(session_id)
        self._ensure_open()
        async with telemetry.store_span("get", self, session_id):
            stored = await self._read(session_id)
            if stored is None:
                return None
            telemetry.annotate({"llm_sessions.store.events": len(stored.events)})
            stored = self._cipher.open_session(stored)
            session = build_session(self.session_class, session_id, stored, self)
        binding_of(session).store = self
        return session

    async def read_events(
        self,
        session_id: str,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[SessionEvent[Any]] | None:
        """A page of the session's events (see ``SessionStore.read_events``), reading only
        the page from the store."""
        page = EventPage.checked(after, before, limit, newest_first)

        def decode(rows: list[str | bytes], location: str) -> list[SessionEvent[Any]]:
            return decode_events(self.session_class, rows, location)

        return await page_of(self, session_id, page, decode, event_id_of_event)

    async def read_event_rows(
        self,
        session_id: str,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[str | bytes] | None:
        """``read_events``'s page (same arguments) as the stored JSON rows of its events,
        opened when encrypted, for a reader that serves them without building events.

        Returns:
            The rows, in the order asked for; None when the session is absent.

        Raises:
            InvalidInputError: ``after`` or ``before`` is not an event of the session.
        """
        page = EventPage.checked(after, before, limit, newest_first)

        def readable(rows: list[str | bytes], location: str) -> list[str | bytes]:
            return [row for row in rows if event_id_of(row) is not None]

        return await page_of(self, session_id, page, readable, event_id_of)

    async def _removals_and_page(
        self, session_id: str, page: EventPage
    ) -> tuple[list[str | bytes] | None, StoredPage | None]:
        """The session's removal records and the page's rows (None, None when it is absent);
        stores that can read both in one call override this."""
        removals = await self._removal_rows(session_id)
        if removals is None:
            return None, None
        return removals, await self._read_page(session_id, page)

    async def _removal_rows(self, session_id: str) -> list[str | bytes] | None:
        """The session's removal records (see ``removals``), or None if it is absent.

        This default reads the whole log; stores override it with a read of just the records.
        """
        stored = await self._read(session_id)
        return None if stored is None else [row for row in stored.events if is_removal_row(row)]

    async def refresh(self, session: Session[Any]) -> Session[Any] | None:
        """Bring ``session`` up to date in place and return it (None if the store no longer
        has it): the stored header, and the events stored after the last one it read, in
        store order, whoever wrote them; its own unsaved events stay at the end, and its
        unsaved header edits stay on top of the stored header, so the next save writes both.

        Reads the header and the new events only, so a caller that refreshes on every turn
        pays for what changed, not for the length of the session. A session this store did
        not read or write is loaded afresh, as by ``get``; so is one whose last read event is
        no longer stored. Edits that other writers make to events this object already read
        are seen by ``get``, not by a refresh.
        """
        self._ensure_open()
        sync = bound_sync(session, self)
        if sync is None:
            return await self.get(session.id)
        async with sync.lock:
            try:
                stored = await self._read_since(session.id, sync.read_through, _known_tag(sync))
            except InvalidInputError:  # the event it had read last is gone: start afresh
                stored = None
                fresh = await self.get(session.id)
            else:
                fresh = session if stored is not None else None
            if stored is not None:
                apply_refresh(session, sync, self._cipher.open_session(stored))
        if fresh is not None:
            binding_of(fresh).store = self
        return fresh

    async def session_for_append(self, session_id: str) -> Session[Any] | None:
        """The stored header and no events, synced as having read the log through its newest
        event: a refresh (done here) reads only what follows, and a save appends."""
        validate_id(session_id)
        self._ensure_open()
        try:
            newest, stored = await self._read_newest(session_id)
        except InvalidInputError:  # its newest event went meanwhile: the slower way below
            newest, stored = None, None
        session: Session[Any] = self.session_class(id=session_id)
        sync = SyncState(self, 0, HeaderSnapshot(), stored=True)
        binding_of(session).sync = sync
        if stored is not None:
            sync.read_through = newest
            async with sync.lock:
                apply_refresh(session, sync, self._cipher.open_session(stored))
            binding_of(session).store = self
            return session
        found, sync.read_through = await self._newest_event_id(session_id)
        return await self.refresh(session) if found else None

    def _appends_unread(self) -> bool:
        """Whether a save can append to a session whose header it has not read (see
        ``unread_session_for_append``): where the store indexes text, its write must find
        the session's owner itself."""
        return False

    def unread_session_for_append(self, session_id: str) -> Session[Any] | None:
        """A session with no header and no events, synced as stored: its save appends the
        events added, in one write, and raises ``SessionNotFound`` when the session is gone.
        None where this store must read the session first."""
        if not self._appends_unread():
            return None
        validate_id(session_id)
        self._ensure_open()
        session: Session[Any] = self.session_class(id=session_id)
        sync = SyncState(self, 0, HeaderSnapshot(), stored=True)
        sync.header_unread = True
        binding_of(session).sync = sync
        binding_of(session).store = self
        return session

    async def _read_newest(self, session_id: str) -> tuple[str | None, StoredSession | None]:
        """The id of the log's newest row when it is an event (no removal record can follow
        the event it removes, so it is not removed), with the stored header and the events
        stored after it; (None, None) when the session is absent or its newest row is not an
        event. Stores that can read both in one call override this."""
        newest = newest_event_of(await self._read_page(session_id, NEWEST_ROW), self._cipher)
        if newest is None:
            return None, None
        return newest, await self._read_since(session_id, newest)

    async def _newest_event_id(self, session_id: str) -> tuple[bool, str | None]:
        """Whether the session is stored, and the id of its newest event (None: no events)."""
        events = await self.read_events(session_id, limit=1, newest_first=True)
        if events is None:
            return False, None
        return True, events[0].id if events else None

    async def save(self, session: Session[Any]) -> None:
        self._ensure_open()
        if not isinstance(session, Session):
            raise InvalidInputError("session", session, "must be a Session")
        validate_id(session.id)  # also for sessions built without validation (model_construct)
        sync = sync_state_for(session, self)
        async with sync.lock:
            if self.redact is not None:
                await redact_events(session.events[sync.events_written :], self.redact)
            batch = sync.prepare(session, binding_of(session).removals)
            if self._keeps_summary_rows():
                new_events = session.events[sync.events_written : batch.events_end]
                recount = bool(batch.updated) or batch.removals_end > sync.removals_written
                batch.summary = delta_of(new_events, recount)
            elif self._summary_rows:
                # A sealed session keeps only a row marked stale, with no counts: a listing
                # without the key must refuse it (it cannot open it) rather than leave it out.
                batch.summary = delta_of([], True)
            if self._text_index and self._indexes_text():
                batch.search = index_changes(session, sync.events_written, batch)
            vectors = self._vector_index
            changes = None
            if vectors is not None:
                changes = batch.search or index_changes(session, sync.events_written, batch)
            self._check_sizes(batch)
            batch = self._cipher.seal_batch(batch)
            async with telemetry.store_span("save", self, session.id, _batch_attributes(batch)):
                try:
                    await self._write(batch)
                except StorageError:
                    if batch.must_exist is False:
                        sync.stored = None  # it may have landed: a retry may find it there
                    raise
            sync.commit(batch, session)
            if vectors is not None and changes is not None:
                rows = [(row.event_id, row.text) for row in changes.rows]
                vectors.note(session.id, rows, changes.dropped)
        binding_of(session).store = self

    def _search_refusal(self) -> str | None:
        if self.options.search_index == "off":
            return "the store was opened with search_index='off'"
        if self._cipher.current_id is not None and self.options.search_index != "plaintext":
            return (
                "the store is encrypted and keeps no plaintext text index; open it with "
                "search_index='plaintext' to index the events' text in clear (a trade-off)"
            )
        return None

    def _indexes_text(self) -> bool:
        """Whether saves write the text index (stores that keep one)."""
        return self._search_refusal() is None

    _text_index = False
    """Whether this store keeps a text index in its own tables (it is then handed the
    ``IndexChanges`` of each write, see ``search_index``)."""

    _summary_rows = False
    """Whether this store keeps a summary row per session in its own tables (it is then
    handed a ``SummaryDelta`` with each write)."""

    def _keeps_summary_rows(self) -> bool:
        # An encrypted store keeps none: user ids and properties are sealed at rest, and a
        # summary row would hold them in clear (listings load sessions whole instead).
        return self._summary_rows and self._cipher.current_id is None

    async def rotate_key(
        self, new_key: KeyInput, *, batch_size: int = 100, prefix: str = ""
    ) -> int:
        """Write with ``new_key`` from now on and re-encrypt every stored session with it.

        The keys this store held still read (records sealed with them by other writers stay
        readable); sessions are re-encrypted ``batch_size`` at a time. Each session's events
        are rewritten in place by one save, so events appended meanwhile are kept; its state
        values, properties and runs are rewritten only where they still hold what rotation
        read (see ``reseal``), so a change another writer makes meanwhile is never undone.
        Run it in the background with ``asyncio.create_task(store.rotate_key(key))``; run it
        again to re-encrypt what writers still holding the old key wrote meanwhile. Returns
        the number of sessions re-encrypted.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise InvalidInputError("batch_size", batch_size, "must be a whole number > 0")
        self._ensure_open()
        self._cipher = self._cipher.rotated(new_key)
        ids = await self.list_sessions(prefix)
        for start in range(0, len(ids), batch_size):
            for session_id in ids[start : start + batch_size]:
                await self._reseal(session_id)
            await asyncio.sleep(0)  # let other work run between batches
        return len(ids)

    async def _reseal(self, session_id: str) -> None:
        session = await self.get(session_id)
        if session is None:
            return
        sync = sync_state_for(session, self)
        for event in session.events:
            sync.note_edit(event)  # rewritten in place, sealed with the current key
        # The header as loaded is the snapshot: this save writes no header value.
        try:
            await self.save(session)
        except SessionNotFound:
            return  # deleted meanwhile
        last_event = session.events[-1].id if session.events else None
        for _ in range(_RESEAL_PASSES):
            try:  # the header, and only the events stored since
                stored = await self._read_since(session_id, last_event)
            except InvalidInputError:  # that event was removed meanwhile
                stored = await self._read(session_id)
            swaps = [] if stored is None else header_swaps(self._cipher, stored.header)
            if not swaps:
                return
            await self._swap_sealed(session_id, swaps)

    def _check_sizes(self, batch: WriteBatch) -> None:
        limit = self.max_event_bytes
        if limit is None:
            return
        for event_id, body in (*batch.appended, *batch.updated):
            # A character is at most 4 bytes in UTF-8: only long texts need encoding to measure.
            if len(body) * 4 > limit and (size := len(body.encode())) > limit:
                raise InvalidInputError(
                    f"event {event_id}",
                    f"<{size:,} bytes of JSON>",
                    f"the limit is {limit:,} bytes",
                )

    @abstractmethod
    async def _read(self, session_id: str) -> StoredSession | None:
        """The stored header and events, or None if absent or expired."""

    async def _read_page(self, session_id: str, page: EventPage) -> StoredPage | None:
        """The page's events, in the page's order, or None if the session is absent or
        expired; a cursor that is not an event of the session raises ``unknown_event``.

        This default reads the whole log; the stores override it with a read of the page.
        """
        stored = await self._read(session_id)
        if stored is None:
            return None
        positions = {event_id_of(row): n for n, row in enumerate(stored.events)}
        start, end = page.bounds(positions, len(stored.events), session_id)
        rows = list(stored.events[start:end])
        return StoredPage(rows[::-1] if page.newest_first else rows, stored.location)

    async def _read_since(
        self, session_id: str, after: str | None, header_tag: str | None = None
    ) -> StoredSession | None:
        """The stored header and the events stored after the event ``after`` (all of them
        for None), or None if the session is absent or expired; ``unknown_event`` if
        ``after`` is not one of its events.

        A store that keeps a header tag leaves the header parts out when ``header_tag`` is
        the session's current one (``StoredSession.header_unchanged``); the others ignore it.
        This default reads the whole log; the stores override it with a read of the tail.
        """
        stored = await self._read(session_id)
        if stored is None or after is None:
            return stored
        positions = {event_id_of(row): n for n, row in enumerate(stored.events)}
        start, _ = EventPage(after=after).bounds(positions, len(stored.events), session_id)
        return StoredSession(stored.header, stored.events[start:], stored.location)

    @abstractmethod
    async def _write(self, batch: WriteBatch) -> None:
        """Apply one batch atomically (see the class docstring)."""

    @abstractmethod
    async def _swap_sealed(self, session_id: str, swaps: list[SealedSwap]) -> None:
        """Apply ``swaps`` atomically: each replaces its record only if the record still
        holds the value it expects (see ``reseal``); a session that is gone is left alone."""


NEWEST_ROW = EventPage.checked(None, None, 1, True)
"""The page of the log's newest row."""


def newest_event_of(page: StoredPage | None, cipher: Any) -> str | None:
    """The id of the event in ``page``'s first row; None when there is none or it is a
    removal record.

    Args:
        page: A page read newest first (``NEWEST_ROW``), or None.
        cipher: The store's cipher, which opens sealed rows.

    Returns:
        The event id, or None.
    """
    rows = cipher.open_page(page).events if page is not None else []
    return event_id_of(rows[0]) if rows and not is_removal_row(rows[0]) else None


def _known_tag(sync: SyncState) -> str | None:
    """The header tag a refresh may name: only while the header it was read with is the one
    the session holds (no save of this object has moved it since)."""
    seen = sync.header_read
    return seen.tag if seen is not None and seen.current_for(sync) else None


def _batch_attributes(batch: WriteBatch) -> dict[str, int]:
    if not telemetry.is_enabled():
        return {}
    bodies = (*batch.appended, *batch.updated)
    return {
        "llm_sessions.store.events": len(batch.appended),
        "llm_sessions.store.bytes": sum(len(body.encode()) for _, body in bodies),
    }
