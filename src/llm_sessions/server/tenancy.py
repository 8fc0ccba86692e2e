"""A tenant's view of the store: every id it can see or make starts with the tenant's prefix.

The routes only ever hold a ``TenantStore``, so no route can forget the check: an id outside the
tenant's namespace reads as absent (the API answers 404, never confirming that it exists), and a
save outside it is refused. Without keys there is one tenant with the empty prefix: the whole
store, including sessions recorded by the library or the CLI.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, NoReturn, ParamSpec, TypeVar, cast
from uuid import uuid4

from ..exceptions import InvalidInputError
from ..storage import SessionStore
from ..storage._fleet_query import SessionPage, SessionQuery, UsageQuery
from ..storage._search_models import SearchPage
from ..storage._search_query import SearchQuery
from .errors import not_found

if TYPE_CHECKING:
    from ..models._session import Session
    from ..models._session_event import SessionEvent

__all__ = ["TenantStore"]


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _scoped(
    method: Callable[Concatenate[Any, _P], Awaitable[_R]],
    outside: Callable[[TenantStore, dict[str, Any]], _R],
) -> Callable[Concatenate[TenantStore, _P], Coroutine[Any, Any, _R]]:
    """The view's ``method``: the inner store's, its ``prefix`` narrowed to the tenant's.

    Args:
        method: A ``SessionStore`` method with a ``prefix`` argument; the call goes to the
            inner store's own (its override, if any).
        outside: What answers, given the view and the arguments, for a ``prefix`` no id of
            the tenant's can start with.

    Returns:
        The method, with ``method``'s parameters.
    """
    signature = inspect.signature(method)
    parameters = list(signature.parameters.values())[1:]  # without self
    signature = signature.replace(parameters=parameters)
    at = [parameter.name for parameter in parameters].index("prefix")
    by_position = parameters[at].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    default = parameters[at].default
    name = method.__name__

    async def scoped(view: TenantStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        # The arguments are bound only for ``outside``: a call within pays no binding.
        positional: tuple[Any, ...] = args
        keywords: dict[str, Any] = kwargs
        given = by_position and len(positional) > at
        within = view._within(positional[at] if given else keywords.get("prefix", default))
        if within is None:
            bound = signature.bind(*positional, **keywords)
            bound.apply_defaults()
            return outside(view, bound.arguments)
        if given:
            positional = (*positional[:at], within, *positional[at + 1 :])
        else:
            keywords = {**keywords, "prefix": within}
        return cast("_R", await getattr(view.inner, name)(*positional, **keywords))

    scoped.__name__, scoped.__qualname__ = name, f"TenantStore.{name}"
    scoped.__doc__ = method.__doc__
    return scoped


def _empty(
    check: Callable[..., object], empty: Callable[[], _R]
) -> Callable[[TenantStore, dict[str, Any]], _R]:
    """The answer for a prefix outside the tenant: ``empty()``, once ``check`` has passed the
    other arguments (so a bad one is still named)."""

    def answer(view: TenantStore, arguments: dict[str, Any]) -> _R:
        check(**{**arguments, "prefix": ""})
        return empty()

    return answer


def _unchecked(**arguments: object) -> None:
    """Nothing to check beyond the prefix."""


def _refuse(view: TenantStore, arguments: dict[str, Any]) -> NoReturn:
    """The answer of the methods that act: a prefix outside the tenant is refused."""
    raise InvalidInputError("prefix", arguments["prefix"], f"must be within {view.prefix!r}")


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

    def _within(self, prefix: object) -> str | None:
        """The id prefix that keeps ``prefix`` inside this tenant; None when none can."""
        if not isinstance(prefix, str):
            raise InvalidInputError("prefix", prefix, f"must be within {self.prefix!r}")
        if not prefix.startswith(self.prefix) and not self.prefix.startswith(prefix):
            return None
        return max(prefix, self.prefix, key=len)

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

    def rows_reader(self) -> Callable[..., Awaitable[list[str | bytes] | None]] | None:
        """``read_events`` giving the stored JSON rows of the events instead (a store of an
        event log has it: ``read_event_rows``); None when the store has no such read.

        Returns:
            The reader (same arguments as ``read_events``), or None.
        """
        reader = getattr(self.inner, "read_event_rows", None)
        if reader is None:
            return None

        async def read(session_id: str, **page: Any) -> list[str | bytes] | None:
            rows: list[str | bytes] | None = None
            if self.owns(session_id):
                rows = await reader(session_id, **page)
            return rows

        return read

    async def list_sessions(self, prefix: str = "") -> list[str]:
        """This tenant's session ids that start with ``prefix`` (a full id prefix).

        Args:
            prefix: Keep the ids that start with it.

        Returns:
            The ids.
        """
        within = self._within(prefix)
        return [] if within is None else await self.inner.list_sessions(within)

    # The methods that take an id prefix are the inner store's, the prefix narrowed by _scoped.
    find_sessions = _scoped(SessionStore.find_sessions, _empty(SessionQuery.checked, SessionPage))
    """A page of this tenant's session summaries (see ``SessionStore.find_sessions``); empty for
    a ``prefix`` outside its namespace."""

    search = _scoped(SessionStore.search, _empty(SearchQuery.checked, SearchPage))
    """Events of this tenant's sessions that match ``query`` (see ``SessionStore.search``);
    empty for a ``prefix`` outside its namespace."""

    usage = _scoped(SessionStore.usage, _empty(UsageQuery.checked, list))
    """Totals of this tenant's sessions (see ``SessionStore.usage``); no rows for a ``prefix``
    outside its namespace."""

    erase = _scoped(SessionStore.erase, _refuse)
    """Erase this tenant's matching sessions (see ``SessionStore.erase``); a ``prefix`` outside
    its namespace, or an id of another tenant's, is refused (``InvalidInputError``)."""

    apply_retention = _scoped(SessionStore.apply_retention, _refuse)
    """Apply a retention policy to this tenant's sessions only (see
    ``SessionStore.apply_retention``); a ``prefix`` outside its namespace is refused."""

    audit_log = _scoped(SessionStore.audit_log, _empty(_unchecked, list))
    """The audit records of this tenant's erasures (see ``SessionStore.audit_log``); none for a
    ``prefix`` outside its namespace."""

    async def close(self) -> None:
        """Closing a view leaves the shared store open."""
