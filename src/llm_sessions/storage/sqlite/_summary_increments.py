"""A save's ``SummaryDelta`` added to the SQLite summary columns without reading them first.

The counters live in the session's own row of ``sessions``, which every save rewrites (its
``updated_at``): the delta's increments join that statement's ``SET`` list, those of the row's
model (``sessions.model``, the session's first) included. A column the delta leaves as it is
stays out of the list, so the indexes on it are not rewritten (most appends move only the
``updated_at`` entries, and the cost and token entries when the events carry usage). Each other
model of the delta gets one ``INSERT ... ON CONFLICT DO UPDATE`` of increments in
``summary_models``, which updates an existing row in place.

Costs are added one at a time, in session order (``total + ? + ?`` is evaluated from the left),
so the totals equal those a count over the whole session adds up.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from .._summary_delta import SummaryDelta
from ._schema import _UPDATE_SESSION

__all__ = ["MAX_COSTS", "Increments", "add_models", "increments"]

MAX_COSTS = 16
"""More priced events than this in one save take the path that reads the row (one statement
text per count of costs: a bounded number of them stays in the statement cache)."""


@dataclass(slots=True)
class _ModelDelta:
    events: int
    tokens: int
    costs: list[float]
    priced: bool


class Increments(NamedTuple):
    """What ``increments`` adds to the upsert of a session's row."""

    statement: str
    """``_UPDATE_SESSION`` with the terms and ``WHERE id = ?``."""
    args: list[object]
    """The terms' arguments (after the update's own, before the session's id)."""
    row_model: str | None
    """The model the row counts from now on."""


def increments(delta: SummaryDelta, row_model: str | None) -> Increments | None:
    """The update of a session's row (``_UPDATE_SESSION``) with the terms that add ``delta``
    to its summary columns.

    Args:
        delta: what the save appends.
        row_model: the model whose counters the row keeps (``sessions.model``); None if the
            session has no token usage yet (its first model then becomes the row's).

    Returns:
        The statement and its arguments, or None when the save prices more than ``MAX_COSTS``
        events (the caller then reads and rewrites the row).
    """
    events, usages, has_errors, recount = delta
    args: list[object] = [events] if events else []
    if not usages:  # a message or a tool call: only the count moves
        shape = (events > 0, False, 0, has_errors, recount, False, False, 0, False)
        return Increments(_with_terms(shape), args, row_model)
    claim = row_model is None
    if claim:
        row_model = usages[0][0]
    tokens = mine = mine_tokens = 0
    costs: list[float] = []
    mine_costs: list[float] = []
    mine_unpriced = False
    for model, used, cost in usages:
        tokens += used
        if cost is not None:
            costs.append(cost)
        if model == row_model:
            mine += 1
            mine_tokens += used
            if cost is not None:
                mine_costs.append(cost)
            elif used:
                mine_unpriced = True
    if len(costs) + len(mine_costs) > MAX_COSTS:
        return None
    if tokens:
        args.append(tokens)
    args += costs
    if claim:
        args.append(row_model)
    if mine:
        args += [mine, mine_tokens, *mine_costs]
    shape = (
        events > 0, tokens > 0, len(costs), has_errors, recount,
        claim, mine > 0, len(mine_costs), mine_unpriced,
    )  # fmt: skip
    return Increments(_with_terms(shape), args, row_model)


@lru_cache(maxsize=256)
def _with_terms(shape: tuple[bool, bool, int, bool, bool, bool, bool, int, bool]) -> str:
    events, tokens, costs, has_errors, stale, claim, mine, mine_costs, mine_unpriced = shape
    terms = [_UPDATE_SESSION.rstrip()]
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
    if claim:
        terms.append("model = ?")
    if mine:
        terms += ["model_events = model_events + ?", "model_tokens = model_tokens + ?"]
    if mine_costs:
        terms.append("model_cost_usd = model_cost_usd" + " + ?" * mine_costs)
    if mine_unpriced:
        terms.append("model_priced = 0")
    terms.append("revision = revision + 1")
    return ", ".join(terms) + " WHERE id = ?"


def add_models(
    conn: sqlite3.Connection, session_id: str, delta: SummaryDelta, row_model: str | None
) -> None:
    """Add ``delta``'s usage of models other than ``row_model`` to the session's
    ``summary_models`` rows, one statement per model.

    Args:
        conn: the connection, in the save's transaction.
        session_id: the session saved.
        delta: what the save appended.
        row_model: the model the session's row counts (``increments`` added its usage).
    """
    usages = delta.usages
    if not usages or (len(usages) == 1 and usages[0][0] == row_model):
        return  # the common case: nothing but the row's model
    models: dict[str, _ModelDelta] = {}
    for name, tokens, cost in usages:
        if name == row_model:
            continue
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
