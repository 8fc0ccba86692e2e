"""A save's ``SummaryDelta`` added to the SQLite summary columns without reading them first.

The counters live in the session's own row of ``sessions``, which every save rewrites (its
``updated_at``): the delta's increments join that statement's ``SET`` list. A column the delta
leaves as it is stays out of the list, so the indexes on it are not rewritten (most appends
move only the ``updated_at`` entries, and the cost and token entries when the events carry
usage). Each model of the delta gets one ``INSERT ... ON CONFLICT DO UPDATE`` of increments,
which updates an existing row in place.

Costs are added one at a time, in session order (``total + ? + ?`` is evaluated from the left),
so the totals equal those a count over the whole session adds up.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import lru_cache

from .._summary_delta import SummaryDelta

__all__ = ["MAX_COSTS", "add_models", "increments"]

MAX_COSTS = 16
"""More priced events than this in one save take the path that reads the row (one statement
text per count of costs: a bounded number of them stays in the statement cache)."""


@dataclass(slots=True)
class _ModelDelta:
    events: int
    tokens: int
    costs: list[float]
    priced: bool


def increments(delta: SummaryDelta, statement: str) -> tuple[str, list[object]] | None:
    """``statement`` (an upsert of a session's row, ending in its ``SET`` list) with the terms
    that add ``delta`` to the row's summary columns, and their arguments (after its own).

    Args:
        delta: what the save appends.
        statement: the upsert.

    Returns:
        The statement and the terms' arguments, or None when the save prices more than
        ``MAX_COSTS`` events (the caller then reads and rewrites the row).
    """
    tokens = 0
    costs: list[float] = []
    for _, used, cost in delta.usages:
        tokens += used
        if cost is not None:
            costs.append(cost)
    if len(costs) > MAX_COSTS:
        return None
    args: list[object] = [delta.events] if delta.events else []
    if tokens:
        args.append(tokens)
    args += costs
    shape = (bool(delta.events), bool(tokens), len(costs), delta.has_errors, delta.recount)
    return _with_terms(statement, *shape), args


@lru_cache(maxsize=256)
def _with_terms(
    statement: str, events: bool, tokens: bool, costs: int, has_errors: bool, stale: bool
) -> str:
    terms = [statement.rstrip()]
    if events:
        terms.append("event_count = event_count + ?")
    if tokens:
        terms.append("total_tokens = total_tokens + ?")
    if costs:
        terms.append("total_cost_usd = total_cost_usd" + " + ?" * costs)
    if has_errors:
        terms.append("has_errors = 1")
    if stale:
        terms.append("stale = 1")
    terms.append("revision = revision + 1")
    return ", ".join(terms)


def add_models(conn: sqlite3.Connection, session_id: str, delta: SummaryDelta) -> None:
    """Add ``delta``'s usage to the session's ``summary_models`` rows, one statement per model.

    Args:
        conn: the connection, in the save's transaction.
        session_id: the session saved.
        delta: what the save appended.
    """
    if not delta.usages:
        return
    models: dict[str, _ModelDelta] = {}
    for name, tokens, cost in delta.usages:
        model = models.get(name)
        if model is None:
            model = models[name] = _ModelDelta(0, 0, [], True)
        model.events += 1
        model.tokens += tokens
        if cost is not None:
            model.costs.append(cost)
        elif tokens:
            model.priced = False
    for name, model in models.items():
        first = 0.0
        for cost in model.costs:
            first += cost
        conn.execute(
            _model_upsert(len(model.costs), model.priced),
            (session_id, name, model.events, model.tokens, first, int(model.priced), *model.costs),
        )


@lru_cache(maxsize=64)
def _model_upsert(costs: int, priced: bool) -> str:
    sets = ["events = events + excluded.events", "tokens = tokens + excluded.tokens"]
    if costs:
        sets.append("cost_usd = cost_usd" + " + ?" * costs)
    if not priced:
        sets.append("priced = 0")
    return (
        "INSERT INTO summary_models VALUES (?, ?, ?, ?, ?, ?)"
        f" ON CONFLICT (session_id, model) DO UPDATE SET {', '.join(sets)}"
    )
