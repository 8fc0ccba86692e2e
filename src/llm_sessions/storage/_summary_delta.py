"""What one save adds to a session's summary row, and how a store adds it.

A store that keeps summary rows in its own tables (SQLite, PostgreSQL) is handed a
``SummaryDelta`` with each write: the appended events' count, token usage and cost, counted
here from the events before they are serialised or sealed. The store adds it to the row in the
same transaction as the events. Removed or edited events cannot be subtracted that way, so
such a save marks the row for a recount from the stored log (``recount``), which the store
does before it next answers a listing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..models._event_type import EventType
from ..models._session_event import SessionEvent
from ..models._session_metadata import RESERVED_PROPERTIES
from ._summaries import ModelCount, failed_tool_call
from ._sync import HeaderChanges

__all__ = ["SummaryDelta", "Totals", "add_delta", "delta_of", "owner_keys_changed"]


class SummaryDelta(NamedTuple):
    """The appended events of one save, as a summary counts them (a tuple: one is made per
    save)."""

    events: int
    usages: tuple[tuple[str, int, float | None], ...]
    """(model, total tokens, cost or None when unpriced) of each event with token usage, in
    session order (costs are added one by one, as the session's own total adds them)."""
    has_errors: bool
    recount: bool
    """Events were removed or edited: the row must be recounted from the log."""


@dataclass
class Totals:
    """A summary row's counters."""

    events: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    has_errors: bool = False


def delta_of(events: Sequence[SessionEvent[Any]], recount: bool) -> SummaryDelta:
    """The delta of ``events`` (the events a save appends).

    Args:
        events: the appended events, in session order.
        recount: whether the save also removes or edits stored events.

    Returns:
        The ``SummaryDelta``.
    """
    usages: list[tuple[str, int, float | None]] = []
    has_errors = False
    for event in events:
        if event.type is EventType.TOOL_CALL and not has_errors:
            has_errors = failed_tool_call(event)
        usage = event.token_usage
        if usage is not None:
            usages.append((usage.model, usage.total_tokens, usage.estimated_cost_usd))
    return SummaryDelta(len(events), tuple(usages), has_errors, recount)


def add_delta(totals: Totals, models: dict[str, ModelCount], delta: SummaryDelta) -> None:
    """Add ``delta`` to a row's ``totals`` and per-model ``models`` (changed in place; a model
    seen for the first time gets a row).

    Args:
        totals: the row's counters.
        models: model -> its counters; must hold every model of ``delta`` the row has.
        delta: what the save appends.
    """
    totals.events += delta.events
    totals.has_errors = totals.has_errors or delta.has_errors
    for model, tokens, cost in delta.usages:
        row = models.setdefault(model, ModelCount())
        row.events += 1
        row.tokens += tokens
        totals.tokens += tokens
        if cost is not None:
            row.cost_usd += cost
            totals.cost_usd += cost
        elif tokens:
            row.priced = False


def owner_keys_changed(changes: HeaderChanges) -> bool:
    """Whether a save's header changes set or remove the stored ``user_id`` or root.

    Args:
        changes: the save's header changes.

    Returns:
        True if the summary row's owner must be read again.
    """
    reserved = RESERVED_PROPERTIES.values()
    return any(key in reserved for key in (*changes.properties_set, *changes.properties_removed))
