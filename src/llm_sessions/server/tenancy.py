"""A tenant's view of the store: every id it can see or make starts with the tenant's prefix.

The routes only ever hold a ``TenantStore``, so no route can forget the check: an id outside the
tenant's namespace reads as absent (the API answers 404, never confirming that it exists), and a
save outside it is refused. Without keys there is one tenant with the empty prefix: the whole
store, including sessions recorded by the library or the CLI.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from ..exceptions import InvalidInputError
from ..storage import AuditRecord, ErasureReceipt, Retention, RetentionReport, SessionStore
from ..storage._fleet_query import SessionPage, SessionQuery, UsageQuery, UsageRow
from ..storage._search_models import SearchPage
from ..storage._search_query import SearchQuery
from .errors import not_found

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from ..models._session import Session
    from ..models._session_event import SessionEvent

__all__ = ["TenantStore"]


class TenantStore(SessionStore):
    """``inner`` restricted to the ids that start with ``prefix``."""

    def __init__(
        self,
        inner: SessionStore,
        tenant: str | None,
        on_save: Callable[[str], None] | None = None,
    ) -> None:
        self.inner = inner
        self.tenant = tenant
        self.on_save = on_save
        """Called with the session's id after each save through this view."""
        self.prefix = f"{tenant}." if tenant else ""
        self._id_seed: str | None = None
        self._ids_made = 0

    def owns(self, session_id: str) -> bool:
        """Whether ``session_id`` is in this tenant's namespace.

        Args:
            session_id: The session's id.

        Returns:
            Whether it starts with ``<tenant>.``.
        """
        return session_id.startswith(self.prefix)

    def new_id(self, kind: str = "") -> str:
        """A fresh session id in this tenant's namespace, e.g. ``acme.conv_<hex>``.

        Args:
            kind: What goes between the tenant's prefix and the 32 hex digits (``conv_``,
                ``sess_``).

        Returns:
            The id: random, or derived from the seed ``seed_ids`` set.
        """
        return f"{self.prefix}{kind}{self._next_hex()}"

    def new_event_id(self, kind: str = "") -> str:
        """A fresh event id, ``kind`` then 32 hex digits."""
        return f"{kind}{self._next_hex()}"

    def seed_ids(self, seed: str) -> None:
        """Derive the ids ``new_id`` and ``new_event_id`` make from here on from ``seed``.

        The ids follow from the seed in order, so a request repeated with the same seed makes
        the same ids and finds what its first attempt wrote (see ``idempotency``).

        Args:
            seed: The seed; the server uses the tenant, the ``Idempotency-Key`` and a nonce
                kept with that key's record.
        """
        self._id_seed = seed
        self._ids_made = 0

    def _next_hex(self) -> str:
        if self._id_seed is None:
            return uuid4().hex
        self._ids_made += 1
        return hashlib.sha256(f"{self._id_seed}:{self._ids_made}".encode()).hexdigest()[:32]

    async def get(self, session_id: str) -> Session[Any] | None:
        """The session, or None if it is absent or not this tenant's.

        Args:
            session_id: The session's id.

        Returns:
            The session, or None.
        """
        if not self.owns(session_id):
            return None
        return await self.inner.get(session_id)

    async def require(self, session_id: str, what: str = "session") -> Session[Any]:
        """The session, or the API's 404 naming ``what`` (also for another tenant's id).

        Args:
            session_id: The session's id.
            what: What the 404 calls it.

        Returns:
            The session.

        Raises:
            ApiError: A 404 (``not_found``): absent, or another tenant's.
        """
        session = await self.get(session_id)
        if session is None:
            raise not_found(what, session_id)
        return session

    async def require_for_append(self, session_id: str, what: str = "session") -> Session[Any]:
        """The session as ``session_for_append`` gives it (its header, ready to take events),
        or the API's 404 naming ``what`` (also for another tenant's id).

        Args:
            session_id: The session's id.
            what: What the 404 calls it.

        Returns:
            The session, ready to take events.

        Raises:
            ApiError: A 404 (``not_found``): absent, or another tenant's.
        """
        session = await self.inner.session_for_append(session_id) if self.owns(session_id) else None
        if session is None:
            raise not_found(what, session_id)
        return session

    async def for_append(self, session_id: str, what: str = "session") -> Session[Any]:
        """The session to add events to and save: without a read where the store allows it
        (``unread_session_for_append``: then a save raises ``SessionNotFound`` for a session
        that is absent), else as ``require_for_append`` gives it.

        Args:
            session_id: The session's id.
            what: What the 404 calls it.

        Returns:
            The session, ready to take events.

        Raises:
            ApiError: A 404 (``not_found``): another tenant's, or found absent by a read.
        """
        if not self.owns(session_id):
            raise not_found(what, session_id)
        unread = self.inner.unread_session_for_append(session_id)
        return unread if unread is not None else await self.require_for_append(session_id, what)

    async def save(self, session: Session[Any]) -> None:
        """Save a session of this tenant's; an id outside its namespace is refused.

        Args:
            session: The session to save.

        Raises:
            InvalidInputError: Its id is outside this tenant's namespace.
        """
        if not self.owns(session.id):
            reason = f"must start with {self.prefix!r}, the prefix of this key's sessions"
            raise InvalidInputError("session_id", session.id, reason)
        await self.inner.save(session)
        if self.on_save is not None:
            self.on_save(session.id)

    async def delete(self, session_id: str) -> bool:
        """Delete the session if it is this tenant's; True if it existed.

        Args:
            session_id: The session's id.

        Returns:
            Whether it existed (False for another tenant's).
        """
        if not self.owns(session_id):
            return False
        return await self.inner.delete(session_id)

    async def list_sessions(self, prefix: str = "") -> list[str]:
        """This tenant's session ids that start with ``prefix`` (a full id prefix).

        Args:
            prefix: Keep the ids that start with it.

        Returns:
            The ids.
        """
        within = self._within(prefix)
        return [] if within is None else await self.inner.list_sessions(within)

    def _within(self, prefix: str) -> str | None:
        """The id prefix that keeps ``prefix`` inside this tenant; None when none can."""
        if not prefix.startswith(self.prefix) and not self.prefix.startswith(prefix):
            return None
        return max(prefix, self.prefix, key=len)

    async def find_sessions(
        self,
        where: Mapping[str, Any] | None = None,
        model: str | None = None,
        since: Any = None,
        until: Any = None,
        order: str = "-updated_at",
        limit: int = 50,
        cursor: str | None = None,
        prefix: str = "",
        min_cost: float | str | None = None,
    ) -> SessionPage:
        """A page of this tenant's session summaries (see ``SessionStore.find_sessions``).

        Args:
            where: Equality on ``user_id`` and top-level properties.
            model: Only sessions that used this model.
            since: Only sessions updated at or after this time.
            until: Only sessions updated before this time.
            order: The sort key, ``-`` first for descending.
            limit: The page size.
            cursor: The previous page's ``next_cursor``.
            prefix: Only ids that start with it (a full id prefix).
            min_cost: Only sessions whose priced cost (USD) is at least this.

        Returns:
            The page: only this tenant's sessions.

        Raises:
            InvalidInputError: An argument is not valid.
        """
        within = self._within(prefix)
        if within is None:  # still check the other arguments: a bad one is named
            SessionQuery.checked(where, model, since, until, order, limit, cursor, "", min_cost)
            return SessionPage()
        return await self.inner.find_sessions(
            where, model, since, until, order, limit, cursor, within, min_cost
        )

    async def search(
        self,
        query: str,
        where: Mapping[str, Any] | None = None,
        since: Any = None,
        until: Any = None,
        types: Any = None,
        limit: int = 20,
        cursor: str | None = None,
        prefix: str = "",
        mode: str = "text",
    ) -> SearchPage:
        """Events of this tenant's sessions that match ``query`` (see ``SessionStore.search``).

        Args:
            query: Words and quoted phrases.
            where: As for ``find_sessions``.
            since: Only events at or after this time.
            until: Only events before this time.
            types: Only events of these types.
            limit: The page size.
            cursor: The previous page's ``next_cursor``.
            prefix: Only ids that start with it (a full id prefix).
            mode: ``text``, ``semantic`` or ``hybrid`` (the inner store's embedder).

        Returns:
            The page: only hits in this tenant's sessions.

        Raises:
            InvalidInputError: An argument is not valid.
        """
        within = self._within(prefix)
        if within is None:
            SearchQuery.checked(query, where, since, until, types, limit, cursor, "", mode)
            return SearchPage()
        return await self.inner.search(
            query, where, since, until, types, limit, cursor, within, mode
        )

    async def usage(
        self,
        group_by: str | tuple[str, ...] | list[str] = ("user_id", "day"),
        where: Mapping[str, Any] | None = None,
        since: Any = None,
        until: Any = None,
        prefix: str = "",
    ) -> list[UsageRow]:
        """Totals of this tenant's sessions (see ``SessionStore.usage``).

        Args:
            group_by: What to group by.
            where: As for ``find_sessions``.
            since: As for ``find_sessions``.
            until: As for ``find_sessions``.
            prefix: As for ``find_sessions``.

        Returns:
            One row per group, counting only this tenant's sessions.

        Raises:
            InvalidInputError: An argument is not valid.
        """
        within = self._within(prefix)
        if within is None:
            UsageQuery.checked(group_by, where, since, until)
            return []
        return await self.inner.usage(group_by, where, since, until, within)

    async def read_events(
        self,
        session_id: str,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[SessionEvent[Any]] | None:
        """A page of the session's events (see ``SessionStore.read_events``), or None.

        Args:
            session_id: The session's id.
            after: Read the events after this event id.
            before: Read the events before this event id.
            limit: The most events to read.
            newest_first: Read from the end.

        Returns:
            The events, or None when the session is absent or another tenant's.
        """
        if not self.owns(session_id):
            return None
        return await self.inner.read_events(
            session_id, after=after, before=before, limit=limit, newest_first=newest_first
        )

    async def erase(
        self,
        where: Mapping[str, Any] | None = None,
        session_ids: Sequence[str] | None = None,
        *,
        all: bool = False,
        actor: str | None = None,
        prefix: str = "",
        dry_run: bool = False,
    ) -> ErasureReceipt:
        """Erase this tenant's matching sessions (see ``SessionStore.erase``).

        Args:
            where: ``user_id`` and/or ``root_id``; empty only with ``all``.
            session_ids: The sessions to erase; one of another tenant's is refused.
            all: Erase every session of this tenant.
            actor: Who asked, for the audit record.
            prefix: Only ids that start with it (a full id prefix, inside the tenant's).
            dry_run: Only work out what would be erased.

        Returns:
            The receipt.

        Raises:
            InvalidInputError: A bad filter, or an id outside this tenant's namespace.
        """
        within = self._within(prefix)
        if within is None:
            raise InvalidInputError("prefix", prefix, f"must be within {self.prefix!r}")
        return await self.inner.erase(
            where, session_ids, all=all, actor=actor, prefix=within, dry_run=dry_run
        )

    async def apply_retention(
        self,
        policy: Retention | None = None,
        now: datetime | None = None,
        *,
        prefix: str = "",
        dry_run: bool = False,
    ) -> RetentionReport:
        """Apply a retention policy to this tenant's sessions only (see
        ``SessionStore.apply_retention``).

        Args:
            policy: The ``Retention`` (None: the shared store's own).
            now: The time the limits count back from (None: now).
            prefix: Only ids that start with it (a full id prefix, inside the tenant's).
            dry_run: Only work out what would go.

        Returns:
            The report.

        Raises:
            InvalidInputError: No policy, a bad argument, or a prefix outside this tenant's.
        """
        within = self._within(prefix) if isinstance(prefix, str) else None
        if within is None:
            raise InvalidInputError("prefix", prefix, f"must be within {self.prefix!r}")
        return await self.inner.apply_retention(policy, now, prefix=within, dry_run=dry_run)

    async def audit_log(self, prefix: str = "") -> list[AuditRecord]:
        """The audit records of this tenant's erasures (see ``SessionStore.audit_log``).

        Args:
            prefix: Only erasures asked within this (inside the tenant's namespace).

        Returns:
            The records, oldest first.
        """
        within = self._within(prefix)
        return [] if within is None else await self.inner.audit_log(within)

    async def close(self) -> None:
        """Closing a view leaves the shared store open."""
