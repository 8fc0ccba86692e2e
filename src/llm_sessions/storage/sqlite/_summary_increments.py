"""A save's ``SummaryDelta`` added to the SQLite summary rows without reading them first.

The session's ``summaries`` row gets one ``UPDATE`` of increments, written for the delta: a
column the delta leaves as it is stays out of the ``SET`` list, so the indexes on it are not
rewritten (most appends move only the ``updated_at`` entries, and the cost and token entries
when the events carry usage). Each model of the delta gets one ``INSERT ... ON CONFLICT DO
UPDATE`` of increments, which updates an existing row in place.

Costs are added one at a time, in session order (``total + ? + ?`` is evaluated from the left),
so the totals equal those a count over the whole session adds up.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from .._summary_delta import SummaryDelta

__all__ = ["add_in_place"]

MAX_COSTS = 16
"""More priced events than this in one save take the path that reads the row (one statement
text per count of costs: a bounded number of them stays in the statement cache)."""


@dataclass
class _ModelDelta:
    events: int = 0
    tokens: int = 0
    costs: list[float] = field(default_factory=list)
    priced: bool = True


def add_in_place(
    conn: sqlite3.Connection, session_id: str, delta: SummaryDelta, stale: bool
) -> bool:
    """Add ``delta`` to the session's existing summary rows; False (nothing written) when the
    session has no summary row yet, or the save prices too many events for this path.

    Args:
        conn: the connection, in the save's transaction (after the session's row is written).
        session_id: the session saved.
        delta: what the save appended.
        stale: the row must be recounted from the log (events removed, edited or retried).

    Returns:
        Whether the rows were updated.
    """
    models = _by_model(delta)
    costs = [cost for model in models.values() for cost in model.costs]
    if len(costs) > MAX_COSTS:
        return False
    sets = ["updated_at = (SELECT updated_at FROM sessions WHERE id = ?1)"]
    args: list[object] = [session_id]
    if delta.events:
        sets.append(f"event_count = event_count + ?{len(args) + 1}")
        args.append(delta.events)
    tokens = sum(model.tokens for model in models.values())
    if tokens:
        sets.append(f"total_tokens = total_tokens + ?{len(args) + 1}")
        args.append(tokens)
    if costs:
        sets.append("total_cost_usd = total_cost_usd" + " + ?" * len(costs))
    if delta.has_errors:
        sets.append("has_errors = 1")
    if stale:
        sets.append("stale = 1")
    sql = f"UPDATE summaries SET {', '.join(sets)}, revision = revision + 1 WHERE id = ?1"
    if conn.execute(sql, [*args, *costs]).rowcount == 0:
        return False
    for name, model in models.items():
        _add_model(conn, session_id, name, model)
    return True


def _by_model(delta: SummaryDelta) -> dict[str, _ModelDelta]:
    models: dict[str, _ModelDelta] = {}
    for name, tokens, cost in delta.usages:
        model = models.setdefault(name, _ModelDelta())
        model.events += 1
        model.tokens += tokens
        if cost is not None:
            model.costs.append(cost)
        elif tokens:
            model.priced = False
    return models


def _add_model(conn: sqlite3.Connection, session_id: str, name: str, model: _ModelDelta) -> None:
    first = 0.0
    for cost in model.costs:
        first += cost
    sets = ["events = events + excluded.events", "tokens = tokens + excluded.tokens"]
    if model.costs:
        sets.append("cost_usd = cost_usd" + " + ?" * len(model.costs))
    if not model.priced:
        sets.append("priced = 0")
    conn.execute(
        "INSERT INTO summary_models VALUES (?, ?, ?, ?, ?, ?)"
        f" ON CONFLICT (session_id, model) DO UPDATE SET {', '.join(sets)}",
        (session_id, name, model.events, model.tokens, first, int(model.priced), *model.costs),
    )
