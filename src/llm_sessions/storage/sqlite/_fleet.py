"""``find_sessions`` and ``usage`` in SQL over the SQLite store's summary rows.

A page is one keyset query on an index of its order (``(sort value, id)``, compared as a row
value) over the summary columns of ``sessions``; totals are ``GROUP BY`` queries.
Both answer what ``_fleet_query.find_in`` / ``usage_in`` answer over a full load.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from ...models._session_metadata import split_reserved
from .._fleet_checks import encode_cursor
from .._fleet_query import SessionPage, SessionQuery, UsageQuery, UsageRow, usage_rows_from
from .._summaries import ModelTotals, SessionSummary
from ._schema import _stamp

__all__ = ["find_page", "session_ids_sql", "usage_rows"]

_SORT_COLUMNS = {
    "updated_at": "s.updated_at",
    "created_at": "s.created_at",
    "cost": "s.total_cost_usd",
    "tokens": "s.total_tokens",
}
_COLUMNS = (
    "s.id, s.parent_id, s.root_id, s.user_id, s.created_at, s.updated_at, s.event_count,"
    " s.total_tokens, s.total_cost_usd, s.has_errors, s.properties, s.model, s.model_events,"
    " s.model_tokens, s.model_cost_usd, s.model_priced"
)
_OTHERS = "(SELECT {} FROM summary_models WHERE session_id = s.id{})"
"""A measure of a session's models but the one its row counts (``sessions.model``)."""
_FROM = "sessions s"


def _path(name: str) -> str:
    return "$." + json.dumps(name)


def _equals(name: str, wanted: Any, args: list[Any]) -> str:
    """SQL for "property ``name`` equals ``wanted``" with JSON's equality (true is not 1)."""
    if name in ("user_id", "root_id"):  # columns, not properties (the names are reserved)
        if wanted is None:
            return f"s.{name} IS NULL"
        if not isinstance(wanted, str):
            return "0"
        args.append(wanted)
        return f"s.{name} = ?"
    path = _path(name)
    kind = "json_type(s.properties, ?)"
    if wanted is None:
        args.append(path)
        return f"coalesce({kind}, 'null') = 'null'"
    if isinstance(wanted, bool):
        args.append(path)
        return f"{kind} = '{'true' if wanted else 'false'}'"
    types = "('integer', 'real')" if isinstance(wanted, int | float) else "('text')"
    args.extend([path, path, wanted])
    return f"{kind} IN {types} AND json_extract(s.properties, ?) = ?"


def _prefix_condition(prefix: str, args: list[Any]) -> str:
    """SQL for "the id starts with ``prefix``": a range of the id index when it can be one
    (text compares by code point: the ids that start with ``prefix`` are those from it up to
    it with its last character the next one), else a comparison of each id's start."""
    last = ord(prefix[-1])
    if last < 0x10FFFF and not 0xD7FF <= last < 0xE000:
        args.extend([prefix, prefix[:-1] + chr(last + 1)])
        return "s.id >= ? AND s.id < ?"
    args.extend([len(prefix), prefix])
    return "substr(s.id, 1, ?) = ?"


def _conditions(query_filter: Any, now: float) -> tuple[list[str], list[Any]]:
    where = ["(s.expires_at IS NULL OR s.expires_at > ?)"]
    args: list[Any] = [now]
    if query_filter.since is not None:
        where.append("s.updated_at >= ?")
        args.append(_stamp(query_filter.since))
    if query_filter.until is not None:
        where.append("s.updated_at < ?")
        args.append(_stamp(query_filter.until))
    if query_filter.model is not None:
        where.append(
            "(s.model = ? OR EXISTS"
            " (SELECT 1 FROM summary_models m WHERE m.session_id = s.id AND m.model = ?))"
        )
        args += [query_filter.model, query_filter.model]
    if query_filter.prefix:
        where.append(_prefix_condition(query_filter.prefix, args))
    if query_filter.min_cost is not None:
        where.append("s.total_cost_usd >= ?")
        args.append(query_filter.min_cost)
    for name, wanted in query_filter.where.items():
        where.append(f"({_equals(name, wanted, args)})")
    return where, args


def _summary(row: tuple[Any, ...], models: dict[str, ModelTotals]) -> SessionSummary:
    try:
        stored = json.loads(row[10])
    except ValueError:
        stored = {}
    _, properties = split_reserved(stored if isinstance(stored, dict) else {})
    return SessionSummary(
        id=row[0],
        parent_id=row[1],
        root_id=row[2],
        user_id=row[3],
        created_at=datetime.fromisoformat(row[4]),
        updated_at=datetime.fromisoformat(row[5]),
        event_count=row[6],
        total_tokens=row[7],
        total_cost_usd=row[8],
        unpriced_models=sorted(name for name, m in models.items() if not m.priced),
        models=sorted(models),
        has_errors=bool(row[9]),
        properties=properties,
        model_usage=dict(sorted(models.items())),
    )


def _models_of(conn: sqlite3.Connection, ids: list[str]) -> dict[str, dict[str, ModelTotals]]:
    found: dict[str, dict[str, ModelTotals]] = {session_id: {} for session_id in ids}
    if ids:
        rows = conn.execute(
            "SELECT session_id, model, events, tokens, cost_usd, priced FROM summary_models"
            f" WHERE session_id IN ({','.join('?' * len(ids))})",
            ids,
        )
        for session_id, model, events, tokens, cost, priced in rows:
            found[session_id][model] = ModelTotals(
                events=events, tokens=tokens, cost_usd=cost, priced=bool(priced)
            )
    return found


def session_ids_sql(query_filter: Any, now: float) -> tuple[str, list[Any]]:
    """A subquery of the ids of the sessions ``find_page`` lists for ``query_filter`` (as a
    search's scope), and its arguments."""
    where, args = _conditions(query_filter, now)
    return f"SELECT s.id FROM {_FROM} WHERE {' AND '.join(where)}", args


def find_page(conn: sqlite3.Connection, query: SessionQuery, now: float) -> SessionPage:
    """The page ``query`` asks for, read from the summary rows.

    Args:
        conn: the store's connection.
        query: the checked query.
        now: the current time (seconds since the epoch), for expiry.

    Returns:
        The ``SessionPage``.
    """
    where, args = _conditions(query.filter, now)
    column = _SORT_COLUMNS[query.key]
    direction = "DESC" if query.descending else "ASC"
    if query.after is not None:
        value, after_id = query.after
        where.append(f"({column}, s.id) {'<' if query.descending else '>'} (?, ?)")
        args.extend([_stamp(value) if isinstance(value, datetime) else value, after_id])
    sql = (
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE {' AND '.join(where)}"
        f" ORDER BY {column} {direction}, s.id {direction} LIMIT ?"
    )
    rows = conn.execute(sql, [*args, query.limit + 1]).fetchall()
    models = _models_of(conn, [row[0] for row in rows])
    for row in rows:
        if row[11] is not None:
            events, tokens, cost, priced = row[12:16]
            models[row[0]][row[11]] = ModelTotals(
                events=events, tokens=tokens, cost_usd=cost, priced=bool(priced)
            )
    items = [_summary(row, models[row[0]]) for row in rows]
    if len(items) <= query.limit:
        return SessionPage(items=items)
    items = items[: query.limit]
    return SessionPage(items=items, next_cursor=encode_cursor(query.order, query.keyset(items[-1])))


def _group_column(name: str, args: list[Any]) -> str:
    if name == "user_id":
        return "s.user_id"
    if name == "day":
        return "substr(s.updated_at, 1, 10)"
    if name == "month":
        return "substr(s.updated_at, 1, 7)"
    args.append(_path(name))
    return "json_quote(s.properties -> ?)"


def _key_value(name: str, value: Any) -> Any:
    if value is None or name in ("user_id", "day", "month", "model"):
        return value
    return json.loads(value)  # a property, as the JSON text SQLite returns for it


def usage_rows(conn: sqlite3.Connection, query: UsageQuery, now: float) -> list[UsageRow]:
    """Totals by ``query.group_by``, one row per group, in the order ``usage_in`` sorts them.

    Args:
        conn: the store's connection.
        query: the checked query.
        now: the current time (seconds since the epoch), for expiry.

    Returns:
        The ``UsageRow`` list.
    """
    names = query.group_by
    by_model = "model" in names
    totals: dict[tuple[Any, ...], list[Any]] = {}
    for sql, args in _usage_queries(query, now, by_model):
        for row in conn.execute(sql, args):
            key = tuple(_key_value(name, value) for name, value in zip(names, row, strict=False))
            held = totals.setdefault(key, [0, 0, 0, 0.0, set()])
            sessions, events, tokens, cost, unpriced = row[len(names) :]
            held[0] += sessions
            held[1] += events or 0
            held[2] += tokens or 0
            held[3] += cost or 0.0
            held[4].update(name for name in (unpriced or "").split("\x1f") if name)
    return usage_rows_from(names, totals)


def _usage_queries(query: UsageQuery, now: float, by_model: bool) -> list[tuple[str, list[Any]]]:
    """The SQL whose rows add up to the totals: per model (the one each session's row counts,
    and the others) and the rest, or per session."""
    queries = []
    for part in ("row models", "other models", "rest") if by_model else ("sessions",):
        group_args: list[Any] = []
        keys = []
        for name in query.group_by:
            if name != "model":
                keys.append(_group_column(name, group_args))
            else:
                keys.append({"row models": "s.model", "other models": "m.model"}.get(part, "NULL"))
        where, where_args = _conditions(query.filter, now)
        sql = _USAGE_PARTS[part](keys, where)
        queries.append((sql, group_args + where_args))
    return queries


def _grouped(select: str, keys: list[str], where: list[str]) -> str:
    """``SELECT keys, select FROM ... WHERE ... GROUP BY keys`` (by position: a key's
    parameters are bound once, in the select list)."""
    listed = ", ".join(keys) + ", " if keys else ""
    grouped = f" GROUP BY {', '.join(str(n + 1) for n in range(len(keys)))}" if keys else ""
    return f"SELECT {listed}{select} WHERE {' AND '.join(where)}{grouped}"


def _row_models(keys: list[str], where: list[str]) -> str:
    measures = (
        "count(*), sum(s.model_events), sum(s.model_tokens), sum(s.model_cost_usd),"
        " group_concat(CASE WHEN s.model_priced THEN NULL ELSE s.model END, char(31))"
    )
    return _grouped(f"{measures} FROM {_FROM}", keys, [*where, "s.model IS NOT NULL"])


def _other_models(keys: list[str], where: list[str]) -> str:
    measures = (
        "count(*), sum(m.events), sum(m.tokens), sum(m.cost_usd),"
        " group_concat(CASE WHEN m.priced THEN NULL ELSE m.model END, char(31))"
    )
    source = f"{_FROM} JOIN summary_models m ON m.session_id = s.id"
    return _grouped(f"{measures} FROM {source}", keys, where)


def _rest(keys: list[str], where: list[str]) -> str:
    # Events without token usage, and sessions with no model at all (as usage_in): each
    # session's models added up once (NULL: it has none), in a subquery that an OFFSET keeps
    # from being flattened (which would add them up again per use).
    named = "".join(f"{key} AS k{n}, " for n, key in enumerate(keys))
    others = _OTHERS.format("sum(events)", "")
    counted = (
        f"CASE WHEN s.model IS NULL THEN {others} ELSE s.model_events + coalesce({others}, 0) END"
    )
    inner = (
        f"SELECT {named}s.event_count AS events, {counted} AS counted FROM {_FROM}"
        f" WHERE {' AND '.join(where)} LIMIT -1 OFFSET 0"
    )
    outer = [f"k{n}" for n in range(len(keys))]
    return _grouped(
        f"count(*), sum(events - coalesce(counted, 0)), 0, 0.0, NULL FROM ({inner})",
        outer,
        ["(counted IS NULL OR events > counted)"],
    )


def _sessions(keys: list[str], where: list[str]) -> str:
    others = _OTHERS.format("group_concat(model, char(31))", " AND priced = 0")
    mine = "CASE WHEN s.model_priced THEN NULL ELSE s.model END"
    unpriced = f"nullif(coalesce({mine}, '') || char(31) || coalesce({others}, ''), char(31))"
    measures = (
        "count(*), sum(s.event_count), sum(s.total_tokens), sum(s.total_cost_usd),"
        f" group_concat({unpriced}, char(31))"
    )
    return _grouped(f"{measures} FROM {_FROM}", keys, where)


_USAGE_PARTS = {
    "row models": _row_models,
    "other models": _other_models,
    "rest": _rest,
    "sessions": _sessions,
}
