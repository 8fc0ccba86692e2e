"""Questions across sessions, answered from summaries: ``find_sessions`` and ``usage``.

``SessionQuery`` and ``UsageQuery`` hold checked arguments (see ``_fleet_checks``); ``find_in``
and ``usage_in`` answer them over any iterable of ``SessionSummary`` rows. That is the memory
store's implementation, the base store's fallback, and what the contract tests compare every
store's own answer with.

Both filter by ``since`` (inclusive) and ``until`` (exclusive) on ``updated_at``: a session
counts in the window of its latest activity, and ``usage`` groups by the ``day`` and ``month``
(UTC) of it.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ._fleet_checks import (
    Keyset,
    check_group_by,
    check_id_prefix,
    check_limit,
    check_min_cost,
    check_model,
    check_order,
    check_time_range,
    check_where,
    decode_cursor,
    encode_cursor,
)
from ._summaries import SessionSummary

__all__ = [
    "SessionPage",
    "SessionQuery",
    "UsageQuery",
    "UsageRow",
    "find_in",
    "usage_in",
    "usage_rows_from",
]


class SessionPage(BaseModel):
    """One page of ``find_sessions``: the summaries, and the cursor of the next page (None on
    the last page)."""

    items: list[SessionSummary] = Field(default_factory=list)
    next_cursor: str | None = None


class UsageRow(BaseModel):
    """Totals of one group of sessions (``key``: the group's value of each ``group_by`` name).

    Grouped by ``model``, a row counts the sessions that used the model and that model's events,
    tokens and cost; events without token usage are in the row whose model is None.
    """

    key: dict[str, Any]
    sessions: int = 0
    events: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    unpriced_models: list[str] = Field(default_factory=list)


def _json_equal(stored: Any, wanted: Any) -> bool:
    """JSON equality: true is not 1, and 1 is 1.0."""
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored == wanted
    if isinstance(stored, int | float) and isinstance(wanted, int | float):
        return stored == wanted
    return type(stored) is type(wanted) and stored == wanted


def _column(row: SessionSummary, name: str) -> Any:
    """What ``where`` compares for ``name``: a summary column or a top-level property."""
    if name == "user_id":
        return row.user_id
    if name == "root_id":
        return row.root_id
    return row.properties.get(name)


@dataclass(frozen=True)
class _Filter:
    where: dict[str, Any]
    model: str | None
    since: datetime | None
    until: datetime | None
    prefix: str = ""
    min_cost: float | None = None

    def matches(self, row: SessionSummary) -> bool:
        if not row.id.startswith(self.prefix):
            return False
        if self.min_cost is not None and row.total_cost_usd < self.min_cost:
            return False
        if self.since is not None and row.updated_at < self.since:
            return False
        if self.until is not None and row.updated_at >= self.until:
            return False
        if self.model is not None and self.model not in row.models:
            return False
        for name, wanted in self.where.items():
            stored = _column(row, name)
            if not _json_equal(stored, wanted):
                return False
        return True


@dataclass(frozen=True)
class SessionQuery:
    """Checked arguments of ``find_sessions``."""

    filter: _Filter
    order: str
    key: str
    descending: bool
    limit: int
    after: Keyset | None

    @classmethod
    def checked(
        cls,
        where: object = None,
        model: object = None,
        since: object = None,
        until: object = None,
        order: object = "-updated_at",
        limit: object = 50,
        cursor: object = None,
        prefix: object = "",
        min_cost: object = None,
    ) -> SessionQuery:
        """The query, or ``InvalidInputError`` naming the first argument that is not valid."""
        key, descending = check_order(order)
        start, end = check_time_range(since, until)
        chosen = _Filter(
            check_where(where),
            check_model(model),
            start,
            end,
            check_id_prefix(prefix),
            check_min_cost(min_cost),
        )
        return cls(
            chosen,
            f"-{key}" if descending else key,
            key,
            descending,
            check_limit(limit),
            decode_cursor(cursor, f"-{key}" if descending else key),
        )

    def keyset(self, row: SessionSummary) -> Keyset:
        """Where ``row`` sits in this query's order: its sort value, then its id."""
        value: Any
        if self.key == "updated_at":
            value = row.updated_at
        elif self.key == "created_at":
            value = row.created_at
        elif self.key == "cost":
            value = row.total_cost_usd
        else:
            value = row.total_tokens
        return value, row.id

    def after_cursor(self, row: SessionSummary) -> bool:
        """Whether ``row`` comes after the cursor's session (every row without a cursor)."""
        if self.after is None:
            return True
        keyset = self.keyset(row)
        return keyset < self.after if self.descending else keyset > self.after

    def page(self, rows: list[SessionSummary]) -> SessionPage:
        """The page of ``rows`` (matching, after the cursor, sorted, ``limit`` + 1 at most):
        a next cursor only when a row is left over."""
        if len(rows) <= self.limit:
            return SessionPage(items=rows)
        items = rows[: self.limit]
        next_cursor = encode_cursor(self.order, self.keyset(items[-1]))
        return SessionPage(items=items, next_cursor=next_cursor)


def find_in(rows: Iterable[SessionSummary], query: SessionQuery) -> SessionPage:
    """The page of ``rows`` that ``query`` asks for.

    Args:
        rows: summaries of every session of the store.
        query: the checked query.

    Returns:
        The ``SessionPage``.
    """
    chosen = (r for r in rows if query.filter.matches(r) and query.after_cursor(r))
    pick = heapq.nlargest if query.descending else heapq.nsmallest
    return query.page(pick(query.limit + 1, chosen, key=query.keyset))


@dataclass(frozen=True)
class UsageQuery:
    """Checked arguments of ``usage``."""

    group_by: tuple[str, ...]
    filter: _Filter

    @classmethod
    def checked(
        cls,
        group_by: object = ("user_id", "day"),
        where: object = None,
        since: object = None,
        until: object = None,
        prefix: object = "",
    ) -> UsageQuery:
        """The query, or ``InvalidInputError`` naming the first argument that is not valid."""
        names = check_group_by(group_by)
        start, end = check_time_range(since, until)
        return cls(names, _Filter(check_where(where), None, start, end, check_id_prefix(prefix)))


@dataclass
class _Totals:
    sessions: int = 0
    events: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    unpriced: frozenset[str] = frozenset()


def _shares(row: SessionSummary, by_model: bool) -> list[tuple[str | None, _Totals]]:
    """What ``row`` adds to totals: one share, or with ``by_model`` one per model (and one for
    events without token usage)."""
    if not by_model:
        unpriced = frozenset(row.unpriced_models)
        return [(None, _Totals(1, row.event_count, row.total_tokens, row.total_cost_usd, unpriced))]
    shares: list[tuple[str | None, _Totals]] = []
    counted = 0
    for name, model in row.model_usage.items():
        unpriced = frozenset() if model.priced else frozenset({name})
        shares.append((name, _Totals(1, model.events, model.tokens, model.cost_usd, unpriced)))
        counted += model.events
    if counted < row.event_count or not shares:
        shares.append((None, _Totals(1, row.event_count - counted)))
    return shares


def _group_value(row: SessionSummary, name: str, model: str | None) -> Any:
    if name == "user_id":
        return row.user_id
    if name == "model":
        return model
    if name == "day":
        return row.updated_at.date().isoformat()
    if name == "month":
        return row.updated_at.strftime("%Y-%m")
    return row.properties.get(name)


def _ident(value: Any) -> Any:
    """A hashable stand-in for a group value that tells apart what JSON tells apart (a text
    is itself; anything else its JSON text, so true is not 1 and 1 is not 1.0)."""
    if value is None or type(value) is str:
        return value
    return (json.dumps(value, sort_keys=True, default=str),)


def _sort_key(values: tuple[Any, ...]) -> tuple[tuple[int, str], ...]:
    return tuple((0, "") if v is None else (1, json.dumps(v, sort_keys=True)) for v in values)


def usage_in(rows: Iterable[SessionSummary], query: UsageQuery) -> list[UsageRow]:
    """Totals of ``rows`` by ``query.group_by``, one ``UsageRow`` per group, sorted by key.

    Args:
        rows: summaries of every session of the store.
        query: the checked query.

    Returns:
        The rows (none when no session matches).
    """
    if _plain(query):
        return _plain_usage(rows, query)
    return _grouped_usage(rows, query)


def _grouped_usage(rows: Iterable[SessionSummary], query: UsageQuery) -> list[UsageRow]:
    """``usage_in`` for any query: each row's shares into the groups of its values."""
    by_model = "model" in query.group_by
    names = query.group_by
    groups: dict[tuple[Any, ...], tuple[tuple[Any, ...], _Totals]] = {}
    for row in rows:
        if not query.filter.matches(row):
            continue
        for model, share in _shares(row, by_model):
            values = tuple(_group_value(row, name, model) for name in names)
            ident = tuple(_ident(value) for value in values)
            held = groups.get(ident)
            if held is None:
                held = groups[ident] = (values, _Totals())
            totals = held[1]
            totals.sessions += share.sessions
            totals.events += share.events
            totals.tokens += share.tokens
            totals.cost_usd += share.cost_usd
            if share.unpriced:
                totals.unpriced |= share.unpriced
    ordered = sorted(groups.values(), key=lambda group: _sort_key(group[0]))
    return [
        UsageRow(
            key=dict(zip(query.group_by, values, strict=True)),
            sessions=totals.sessions,
            events=totals.events,
            tokens=totals.tokens,
            cost_usd=totals.cost_usd,
            unpriced_models=sorted(totals.unpriced),
        )
        for values, totals in ordered
    ]


_PLAIN_GROUPS = frozenset({"user_id", "day", "month", "model"})


def _plain(query: UsageQuery) -> bool:
    """Whether ``query`` groups and filters by summary columns only (no property)."""
    chosen = query.filter
    return (
        set(query.group_by) <= _PLAIN_GROUPS
        and set(chosen.where) <= {"user_id"}
        and chosen.model is None
        and chosen.min_cost is None
    )


def _plain_usage(rows: Iterable[SessionSummary], query: UsageQuery) -> list[UsageRow]:
    """``usage_in`` for a ``_plain`` query: the same totals, without the general grouping's
    per-row work (its keys are texts or None, so they are their own identity)."""
    chosen, names = query.filter, query.group_by
    by_user = "user_id" in chosen.where
    user = chosen.where.get("user_id")
    if by_user and user is not None and not isinstance(user, str):
        return []  # a user id is a text or None: nothing equals anything else
    by_model = "model" in names
    days: dict[Any, str] = {}
    totals: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        updated = row.updated_at
        if (
            (by_user and row.user_id != user)
            or (chosen.since is not None and updated < chosen.since)
            or (chosen.until is not None and updated >= chosen.until)
            or not row.id.startswith(chosen.prefix)
        ):
            continue
        moment = updated.date()
        day = days.get(moment) or days.setdefault(moment, moment.isoformat())
        values = {"user_id": row.user_id, "day": day, "month": day[:7], "model": None}
        if not by_model:
            held = totals.setdefault(tuple(values[n] for n in names), [0, 0, 0, 0.0, set()])
            held[0] += 1
            held[1] += row.event_count
            held[2] += row.total_tokens
            held[3] += row.total_cost_usd
            held[4].update(row.unpriced_models)
            continue
        counted = 0
        for name, model in row.model_usage.items():
            values["model"] = name
            held = totals.setdefault(tuple(values[n] for n in names), [0, 0, 0, 0.0, set()])
            held[0] += 1
            held[1] += model.events
            held[2] += model.tokens
            held[3] += model.cost_usd
            if not model.priced:
                held[4].add(name)
            counted += model.events
        if counted < row.event_count or not row.model_usage:
            values["model"] = None
            held = totals.setdefault(tuple(values[n] for n in names), [0, 0, 0, 0.0, set()])
            held[0] += 1
            held[1] += row.event_count - counted
    return usage_rows_from(names, totals)


def usage_rows_from(
    names: tuple[str, ...], totals: dict[tuple[Any, ...], list[Any]]
) -> list[UsageRow]:
    """``UsageRow``s from totals a store added up, sorted by key as ``usage_in`` sorts them.

    Args:
        names: the ``group_by`` names.
        totals: the group's values -> [sessions, events, tokens, cost, unpriced model set].

    Returns:
        The rows.
    """
    return [
        UsageRow(
            key=dict(zip(names, key, strict=True)),
            sessions=held[0],
            events=held[1],
            tokens=held[2],
            cost_usd=held[3],
            unpriced_models=sorted(held[4]),
        )
        for key, held in sorted(totals.items(), key=lambda item: _sort_key(item[0]))
    ]
