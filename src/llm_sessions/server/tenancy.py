"""A tenant's view of the store: every id it can see or make starts with the tenant's prefix.

The routes only ever hold a ``TenantStore``, so no route can forget the check: an id outside the
tenant's namespace reads as absent (the API answers 404, never confirming that it exists), and a
save outside it is refused. Without keys there is one tenant with the empty prefix: the whole
store, including sessions recorded by the library or the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

from ..exceptions import InvalidInputError
from ..storage import SessionStore
from .errors import not_found

if TYPE_CHECKING:
    from ..models.session import Session
    from ..models.session_event import SessionEvent

__all__ = ["TenantStore"]


class TenantStore(SessionStore):
    """``inner`` restricted to the ids that start with ``prefix``."""

    def __init__(self, inner: SessionStore, tenant: str | None) -> None:
        self.inner = inner
        self.tenant = tenant
        self.prefix = f"{tenant}." if tenant else ""

    def owns(self, session_id: str) -> bool:
        """Whether ``session_id`` is in this tenant's namespace."""
        return session_id.startswith(self.prefix)

    def new_id(self, kind: str = "") -> str:
        """A fresh session id in this tenant's namespace, e.g. ``acme.conv_<hex>``."""
        return f"{self.prefix}{kind}{uuid4().hex}"

    async def get(self, session_id: str) -> Session[Any] | None:
        """The session, or None if it is absent or not this tenant's."""
        if not self.owns(session_id):
            return None
        return await self.inner.get(session_id)

    async def require(self, session_id: str, what: str = "session") -> Session[Any]:
        """The session, or the API's 404 naming ``what`` (also for another tenant's id)."""
        session = await self.get(session_id)
        if session is None:
            raise not_found(what, session_id)
        return session

    async def require_for_append(self, session_id: str, what: str = "session") -> Session[Any]:
        """The session as ``session_for_append`` gives it (its header, ready to take events),
        or the API's 404 naming ``what`` (also for another tenant's id)."""
        session = await self.inner.session_for_append(session_id) if self.owns(session_id) else None
        if session is None:
            raise not_found(what, session_id)
        return session

    async def save(self, session: Session[Any]) -> None:
        """Save a session of this tenant's; an id outside its namespace is refused."""
        if not self.owns(session.id):
            reason = f"must start with {self.prefix!r}, the prefix of this key's sessions"
            raise InvalidInputError("session_id", session.id, reason)
        await self.inner.save(session)

    async def delete(self, session_id: str) -> bool:
        """Delete the session if it is this tenant's; True if it existed."""
        if not self.owns(session_id):
            return False
        return await self.inner.delete(session_id)

    async def list_sessions(self, prefix: str = "") -> list[str]:
        """This tenant's session ids that start with ``prefix`` (a full id prefix)."""
        if not prefix.startswith(self.prefix) and not self.prefix.startswith(prefix):
            return []
        return await self.inner.list_sessions(max(prefix, self.prefix, key=len))

    async def read_events(
        self,
        session_id: str,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[SessionEvent[Any]] | None:
        """A page of the session's events (see ``SessionStore.read_events``), or None."""
        if not self.owns(session_id):
            return None
        return await self.inner.read_events(
            session_id, after=after, before=before, limit=limit, newest_first=newest_first
        )

    async def close(self) -> None:
        """Closing a view leaves the shared store open."""
