"""The rows of the inspector's sessions page: newest first, filtered, one page at a time.

Read from the store's session summaries (``find_sessions``), never from events: the page asks
for summaries newest first with the filters (user, a property, model, dates, id prefix) and
folds every session of one chain (segments of an infinite conversation, forks, children: one
``root_id``) into one row, listed at its newest matching session. A row's totals add up every
session of its chain, read with one more ``find_sessions`` by ``root_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ...exceptions import InvalidInputError
from ...storage._fleet_checks import MAX_LIMIT, scalar_from_text
from ...storage._summaries import SessionSummary
from ..tenancy import TenantStore

__all__ = ["PAGE_SIZE", "SessionFilter", "SessionPage", "SessionRow", "list_page", "page_number"]

PAGE_SIZE = 50
MAX_PAGE = 100_000
SHOWN_PROPERTIES = 3
"""How many of a row's properties the page shows."""


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions to list: id prefix (after the tenant's), update dates (UTC, inclusive),
    a model that must appear in the session's usage, a user and one property ``KEY=VALUE``."""

    prefix: str = ""
    since: date | None = None
    until: date | None = None
    model: str = ""
    user: str = ""
    prop: str = ""

    @classmethod
    def parse(
        cls, prefix: str, since: str, until: str, model: str, user: str = "", prop: str = ""
    ) -> SessionFilter:
        """The filter from query text; a bad date or property raises ``InvalidInputError``
        naming it."""
        found = cls(
            prefix=prefix.strip(),
            since=_date("since", since),
            until=_date("until", until),
            model=model.strip(),
            user=user.strip(),
            prop=prop.strip(),
        )
        if found.since and found.until and found.since > found.until:
            raise InvalidInputError("until", until, f"must not be before since={since}")
        found.where()
        return found

    def where(self) -> dict[str, Any]:
        """The ``where`` of ``find_sessions``: the user and the property."""
        conditions: dict[str, Any] = {}
        if self.prop:
            key, sign, value = self.prop.partition("=")
            if not sign or not key.strip() or key.strip() in ("user_id", "root_id"):
                raise InvalidInputError("property", self.prop, "must be KEY=VALUE (a property)")
            conditions[key.strip()] = scalar_from_text(value.strip())
        if self.user:
            conditions["user_id"] = self.user
        return conditions

    def query(self, store: TenantStore) -> dict[str, Any]:
        """The arguments of ``find_sessions`` this filter asks for."""
        until = self.until + timedelta(days=1) if self.until else None
        return {
            "where": self.where(),
            "model": self.model or None,
            "since": datetime.combine(self.since, time(), UTC) if self.since else None,
            "until": datetime.combine(until, time(), UTC) if until else None,
            "prefix": store.prefix + self.prefix,
        }


@dataclass(frozen=True)
class SessionRow:
    """One line of the sessions page: a session, or a chain of several (``segments``,
    oldest first; ``id`` is the one listed, the totals are the chain's)."""

    id: str
    updated: datetime
    events: int
    tokens: int
    priced_cost_usd: float
    unpriced_models: list[str]
    models: list[str]
    segments: tuple[str, ...] = ()
    user_id: str | None = None
    properties: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, listed: SessionSummary, chain: list[SessionSummary]) -> SessionRow:
        """The row of ``listed``, totalled over ``chain`` (every session of its root)."""
        every = chain if len(chain) > 1 else [listed]
        every = sorted(every, key=lambda part: (part.created_at, part.id))
        shown = sorted(listed.properties.items())[:SHOWN_PROPERTIES]
        return cls(
            id=listed.id,
            updated=max(part.updated_at for part in every),
            events=sum(part.event_count for part in every),
            tokens=sum(part.total_tokens for part in every),
            priced_cost_usd=sum(part.total_cost_usd for part in every),
            unpriced_models=sorted({name for part in every for name in part.unpriced_models}),
            models=sorted({name for part in every for name in part.models}),
            segments=tuple(part.id for part in every) if len(every) > 1 else (),
            user_id=listed.user_id,
            properties=tuple(shown),
        )


@dataclass(frozen=True)
class SessionPage:
    """A page of rows, its number (1-based) and whether a next page exists."""

    rows: list[SessionRow]
    number: int
    has_more: bool


async def list_page(store: TenantStore, wanted: SessionFilter, number: int) -> SessionPage:
    """Page ``number`` (1-based, ``PAGE_SIZE`` rows) of the tenant's sessions, newest first."""
    if number < 1 or number > MAX_PAGE:
        raise InvalidInputError("page", number, f"must be a whole number from 1 to {MAX_PAGE}")
    query = wanted.query(store)
    skip = (number - 1) * PAGE_SIZE
    listed: list[SessionSummary] = []
    roots: set[str] = set()
    cursor = None
    while True:
        page = await store.find_sessions(**query, limit=PAGE_SIZE * 2, cursor=cursor)
        for summary in page.items:
            if summary.root_id in roots:
                continue  # its chain is listed at a newer session
            roots.add(summary.root_id)
            if len(roots) > skip + PAGE_SIZE:
                return SessionPage(await _rows(store, listed), number, has_more=True)
            if len(roots) > skip:
                listed.append(summary)
        if page.next_cursor is None:
            return SessionPage(await _rows(store, listed), number, has_more=False)
        cursor = page.next_cursor


async def _rows(store: TenantStore, listed: list[SessionSummary]) -> list[SessionRow]:
    rows = []
    for summary in listed:
        chain = await _chain(store, summary.root_id)
        rows.append(SessionRow.of(summary, chain or [summary]))
    return rows


async def _chain(store: TenantStore, root_id: str) -> list[SessionSummary]:
    """Every session of the tenant's with root ``root_id``."""
    chain: list[SessionSummary] = []
    cursor = None
    while True:
        page = await store.find_sessions(
            where={"root_id": root_id}, limit=MAX_LIMIT, cursor=cursor, prefix=store.prefix
        )
        chain.extend(page.items)
        if page.next_cursor is None:
            return chain
        cursor = page.next_cursor


def page_number(text: str) -> int:
    """A page number from query text; anything but a whole number from 1 to ``MAX_PAGE``
    raises ``InvalidInputError`` naming ``page``."""
    digits = text.strip()
    number = int(digits) if digits.isascii() and digits.isdigit() else None
    if number is None or not 1 <= number <= MAX_PAGE:
        raise InvalidInputError("page", text, f"must be a whole number from 1 to {MAX_PAGE}")
    return number


def _date(field: str, text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(field, text, "must be a date written YYYY-MM-DD") from None
