"""The rows of the inspector's sessions page: newest first, filtered, one page at a time.

Ordering needs each session's last update (its newest event's time, or its creation time when it
has no events: ``Session.last_update_time``). That costs one one-event page read per session of
the tenant (``read_events(limit=1, newest_first=True)``), plus a whole load for empty sessions
(cheap: they have no events). Only the sessions on the page shown are loaded whole, for their
tokens, cost and models; with a model filter, sessions are loaded newest first until the page is
full, since a session's models are known only once it is loaded.

An infinite conversation is one row, at its newest segment: a segment whose successor is listed
is left out. Each later segment begins with a summary naming the one before it
(``metadata["summarizes"]``), so one more one-event read per session (its oldest event) finds
them without loading any. A row's segments are loaded to total their events, tokens and cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ...exceptions import InvalidInputError
from ...interop import conversation_of
from ...models import EventType, Session, TokenSummary
from ...models._base import as_utc
from ..tenancy import TenantStore

__all__ = ["PAGE_SIZE", "SessionFilter", "SessionPage", "SessionRow", "list_page", "page_number"]

PAGE_SIZE = 50
MAX_PAGE = 100_000


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions to list: id prefix (after the tenant's), update dates (UTC, inclusive)
    and a model that must appear in the session's usage."""

    prefix: str = ""
    since: date | None = None
    until: date | None = None
    model: str = ""

    @classmethod
    def parse(cls, prefix: str, since: str, until: str, model: str) -> SessionFilter:
        """The filter from query text; a bad date raises ``InvalidInputError`` naming it."""
        found = cls(
            prefix=prefix.strip(),
            since=_date("since", since),
            until=_date("until", until),
            model=model.strip(),
        )
        if found.since and found.until and found.since > found.until:
            raise InvalidInputError("until", until, f"must not be before since={since}")
        return found

    def admits_time(self, moment: datetime) -> bool:
        """Whether a session last updated at ``moment`` is in the date range."""
        moment = as_utc(moment)
        if self.since and moment < datetime.combine(self.since, time(), tzinfo=UTC):
            return False
        if self.until:
            return moment < datetime.combine(self.until + timedelta(days=1), time(), tzinfo=UTC)
        return True


@dataclass(frozen=True)
class SessionRow:
    """One line of the sessions page: a session, or a conversation of several segments
    (``segments``, oldest first; ``id`` is the one listed, the totals are the conversation's)."""

    id: str
    updated: datetime
    events: int
    tokens: int
    priced_cost_usd: float
    unpriced_models: list[str]
    models: list[str]
    segments: tuple[str, ...] = ()

    @classmethod
    def of(cls, session: Session[Any], segments: list[Session[Any]] | None = None) -> SessionRow:
        """The row of a loaded session, or of the conversation of ``segments`` it is one of."""
        every = segments if segments and len(segments) > 1 else [session]
        summary = TokenSummary.of(event.token_usage for part in every for event in part.events)
        return cls(
            id=session.id,
            updated=max(part.last_update_time for part in every),
            events=sum(len(part.events) for part in every),
            tokens=summary.total_tokens,
            priced_cost_usd=summary.total_estimated_cost_usd,
            unpriced_models=list(summary.unpriced_models),
            models=sorted(name for name in summary.usage_by_model if name),
            segments=tuple(part.id for part in every) if len(every) > 1 else (),
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
    ordered = []
    continued: set[str] = set()  # segments whose successor is listed
    for session_id in await store.list_sessions(store.prefix + wanted.prefix):
        moment, loaded = await _last_update(store, session_id)
        if moment is not None and wanted.admits_time(moment):
            ordered.append((moment, session_id, loaded))
            continued.update(await _summarized(store, session_id))
    ordered = [item for item in ordered if item[1] not in continued]
    ordered.sort(key=lambda item: (-item[0].timestamp(), item[1]))
    skip = (number - 1) * PAGE_SIZE
    rows: list[SessionRow] = []
    matched = 0
    for _, session_id, loaded in ordered:
        if not wanted.model and matched < skip:
            matched += 1  # no model filter: sessions before the page are never loaded
            continue
        session = loaded or await store.get(session_id)
        if session is None:
            continue  # deleted since it was listed
        row = await _row(store, session)
        if wanted.model and wanted.model not in row.models:
            continue
        matched += 1
        if matched > skip + PAGE_SIZE:
            return SessionPage(rows, number, has_more=True)
        if matched > skip:
            rows.append(row)
    return SessionPage(rows, number, has_more=False)


async def _last_update(
    store: TenantStore, session_id: str
) -> tuple[datetime | None, Session[Any] | None]:
    """The session's last update time, and the session itself when it had to be loaded."""
    newest = await store.read_events(session_id, limit=1, newest_first=True)
    if newest is None:
        return None, None
    if newest:
        return newest[0].timestamp, None
    session = await store.get(session_id)
    return (None, None) if session is None else (session.last_update_time, session)


async def _summarized(store: TenantStore, session_id: str) -> list[str]:
    """The segment before ``session_id``, named by the summary it begins with (or nothing)."""
    oldest = await store.read_events(session_id, limit=1)
    if not oldest or oldest[0].type is not EventType.SUMMARY:
        return []
    summarizes = oldest[0].metadata.get("summarizes")
    return [summarizes] if isinstance(summarizes, str) and summarizes != session_id else []


async def _row(store: TenantStore, session: Session[Any]) -> SessionRow:
    """The row of ``session`` with the tenant's segments of its conversation."""
    segments = await conversation_of(store, session)
    return SessionRow.of(session, [part for part in segments if store.owns(part.id)])


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
