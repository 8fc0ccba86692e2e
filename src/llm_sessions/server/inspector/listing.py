"""The rows of the inspector's sessions page: filtered, sorted, one page at a time.

Read from the store's session summaries (``find_sessions``), never from events: the page asks
for summaries in the order chosen (newest activity first by default) with the filters (user, a
property, model, dates, least cost, id prefix) and folds every session of one chain (segments
of an infinite conversation, forks, children: one ``root_id``) into one row. A chain is listed
where its first matching session falls in the order, and its row adds up every session of it,
read with one more ``find_sessions`` by ``root_id``.

Pages follow keyset cursors (``find_sessions``'s own), never offsets: the next page starts
after the last row's session, the previous one before the first row's, read in the reverse
order; a chain is listed on the page of the session that lists it, so paging either way shows
each chain once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ...exceptions import InvalidInputError
from ...storage._fleet_checks import (
    MAX_LIMIT,
    check_min_cost,
    check_order,
    encode_cursor,
    scalar_from_text,
)
from ...storage._fleet_query import SessionQuery
from ...storage._summaries import SessionSummary
from ..tenancy import TenantStore

__all__ = [
    "DEFAULT_ORDER",
    "PAGE_SIZE",
    "SessionFilter",
    "SessionPage",
    "SessionRow",
    "check_page_order",
    "list_page",
    "reversed_order",
]

PAGE_SIZE = 50
SHOWN_PROPERTIES = 3
"""How many of a row's properties the page shows."""
DEFAULT_ORDER = "-updated_at"
_READ_AHEAD = PAGE_SIZE * 2


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions to list: id prefix (after the tenant's), update dates (UTC, inclusive),
    a model that must appear in the session's usage, a user, one property ``KEY=VALUE`` and
    the least priced cost (USD)."""

    prefix: str = ""
    since: date | None = None
    until: date | None = None
    model: str = ""
    user: str = ""
    prop: str = ""
    min_cost: float | None = None

    @classmethod
    def parse(
        cls,
        prefix: str,
        since: str,
        until: str,
        model: str,
        user: str = "",
        prop: str = "",
        min_cost: str = "",
    ) -> SessionFilter:
        """The filter from query text; a bad date, property or cost raises
        ``InvalidInputError`` naming it."""
        found = cls(
            prefix=prefix.strip(),
            since=_date("since", since),
            until=_date("until", until),
            model=model.strip(),
            user=user.strip(),
            prop=prop.strip(),
            min_cost=check_min_cost(min_cost.strip() or None),
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
            "min_cost": self.min_cost,
        }


@dataclass(frozen=True)
class SessionRow:
    """One line of the sessions page: a session, or a chain of several (``segments``,
    oldest first; ``id`` is the one listed, the totals are the chain's)."""

    id: str
    created: datetime
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
            created=every[0].created_at,
            updated=max(part.updated_at for part in every),
            events=sum(part.event_count for part in every),
            tokens=sum(part.total_tokens for part in every),
            priced_cost_usd=sum(part.total_cost_usd for part in every),
            unpriced_models=sorted({name for part in every for name in part.unpriced_models}),
            models=sorted({name for part in every for name in part.models}),
            segments=tuple(part.id for part in every) if len(every) > 1 else (),
            user_id=listed.user_id or next((p.user_id for p in every if p.user_id), None),
            properties=tuple(shown),
        )


@dataclass(frozen=True)
class SessionPage:
    """A page of rows in ``order``, with the cursors of the pages after and before it (None
    where there is none)."""

    rows: list[SessionRow]
    order: str
    next_cursor: str | None
    previous_cursor: str | None


def check_page_order(order: str) -> str:
    """A sort order of the page (``updated_at``, ``created_at``, ``cost``, ``tokens``, ``-``
    first for descending); anything else raises ``InvalidInputError`` naming ``order``."""
    key, descending = check_order(order.strip() or DEFAULT_ORDER)
    return f"-{key}" if descending else key


def reversed_order(order: str) -> str:
    """The same sort key the other way round."""
    return order[1:] if order.startswith("-") else f"-{order}"


async def list_page(
    store: TenantStore,
    wanted: SessionFilter,
    order: str = DEFAULT_ORDER,
    after: str | None = None,
    before: str | None = None,
) -> SessionPage:
    """A page of ``PAGE_SIZE`` rows of the tenant's sessions in ``order``: the first, the one
    after the cursor ``after``, or the one before the cursor ``before``.

    Raises:
        InvalidInputError: A cursor that is not one of this page's (named ``after`` or
            ``before``), or an order that is not a sort key.
    """
    order = check_page_order(order)
    query = wanted.query(store)
    local = SessionQuery.checked(**query, order=order)
    if before is not None:
        backwards = reversed_order(order)
        found, more = await _scan(store, query, local, backwards, _cursor(before, backwards))
        if found:
            found.reverse()
            first = _cursor_at(found[0][0], backwards, local) if more else None
            last = _cursor_at(found[-1][0], order, local)
            return SessionPage([SessionRow.of(*one) for one in found], order, last, first)
        after = None  # nothing before it any more: the first page
    found, more = await _scan(store, query, local, order, _cursor(after, order, "after"))
    following = _cursor_at(found[-1][0], order, local) if more else None
    previous: str | None = None
    if after is not None and found:
        previous = _cursor_at(found[0][0], reversed_order(order), local)
    return SessionPage([SessionRow.of(*one) for one in found], order, following, previous)


def _cursor(text: str | None, order: str, field: str = "before") -> str | None:
    if text is None:
        return None
    try:
        SessionQuery.checked(order=order, cursor=text)
    except InvalidInputError:
        raise InvalidInputError(field, text, "is not a cursor of this page's order") from None
    return text


def _cursor_at(row: SessionSummary, order: str, local: SessionQuery) -> str:
    return encode_cursor(order, local.keyset(row))


_Found = list[tuple[SessionSummary, list[SessionSummary]]]


async def _scan(
    store: TenantStore,
    query: dict[str, Any],
    local: SessionQuery,
    order: str,
    cursor: str | None,
) -> tuple[_Found, bool]:
    """Up to ``PAGE_SIZE`` listed sessions (with their chains) from ``cursor`` on in
    ``order``, and whether more follow."""
    found: _Found = []
    chains: dict[str, tuple[str, list[SessionSummary]]] = {}
    while True:
        page = await store.find_sessions(**query, order=order, limit=_READ_AHEAD, cursor=cursor)
        for summary in page.items:
            known = chains.get(summary.root_id)
            if known is None:
                chain = await _chain(store, summary.root_id) or [summary]
                known = chains[summary.root_id] = (_listed_at(summary, chain, local), chain)
            if known[0] != summary.id:
                continue  # its chain is listed at another of its sessions
            if len(found) == PAGE_SIZE:
                return found, True
            found.append((summary, known[1]))
        if page.next_cursor is None:
            return found, False
        cursor = page.next_cursor


def _listed_at(summary: SessionSummary, chain: list[SessionSummary], local: SessionQuery) -> str:
    """The id of the session a chain is listed at: the first of its matching sessions in the
    page's order (``local``), whichever way the page is read."""
    matching = [part for part in chain if local.filter.matches(part)]
    if not matching:
        return summary.id
    pick = max if local.descending else min
    return pick(matching, key=local.keyset).id


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


def _date(field: str, text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(field, text, "must be a date written YYYY-MM-DD") from None
