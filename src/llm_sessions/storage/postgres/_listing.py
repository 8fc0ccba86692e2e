"""The PostgreSQL store's listings and totals, read from its summary rows.

A page is one keyset query on an index of its order (``(sort value, id)`` compared as a row),
joined with ``sessions`` for expiry; properties come from the ``properties`` table, compared
as ``jsonb`` (so ``true`` is not ``1``). Totals are ``GROUP BY`` queries.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ...models._session_metadata import RESERVED_PROPERTIES
from .._fleet_checks import encode_cursor
from .._fleet_query import SessionPage, SessionQuery, UsageQuery, UsageRow, usage_rows_from
from .._search_models import SearchHit, SearchPage
from .._search_query import SearchQuery
from .._search_scan import page_of_hits, scope_ids
from .._summaries import ModelTotals, SessionSummary
from .._summary_listing import SummaryListing
from ._search import search_rows

__all__ = ["PostgresListing"]

_T = TypeVar("_T")
_RESERVED = ", ".join(f"'{key}'" for key in RESERVED_PROPERTIES.values())
_SORT = {
    "updated_at": ("s.updated_at", "timestamptz"),
    "created_at": ("s.created_at", "timestamptz"),
    "cost": ("s.total_cost_usd", "float8"),
    "tokens": ("s.total_tokens", "bigint"),
}


class _Args(list[Any]):
    def __call__(self, value: Any, cast: str = "") -> str:
        self.append(value)
        return f"${len(self)}{'::' + cast if cast else ''}"


class PostgresListing(SummaryListing):
    """``SummaryListing``'s reads and recounts on the PostgreSQL store's pool, and
    ``search`` from its text index."""

    schema: str
    _text_index = True

    async def _search(self, query: SearchQuery) -> SearchPage:
        if query.scoped and not self._keeps_summary_rows():
            scope = await scope_ids(self, query)
            if not scope:
                return SearchPage()
            found = await self._run(
                "search", self.schema, lambda c: search_rows(c, self.schema, query, scope)
            )
            return page_of_hits(query, found)
        hits = await self._run("search", self.schema, lambda c: self._search_on(c, query, True))
        if hits is None:  # summary rows wait for a recount (as ``find_sessions`` does)
            await self._recount_stale()
            hits = await self._run(
                "search", self.schema, lambda c: self._search_on(c, query, False)
            )
        return page_of_hits(query, hits or [])

    async def _search_on(
        self, connection: Any, query: SearchQuery, unless_stale: bool
    ) -> list[SearchHit] | None:
        """The hits, on one connection: the sessions a ``where`` selects are read from the
        summary rows first (None when ``unless_stale`` and some wait for a recount)."""
        if not query.scoped:
            return await search_rows(connection, self.schema, query, None)
        q = f'"{self.schema}"'
        args = _Args()
        sessions = SessionQuery.checked(where=query.where, prefix=query.prefix)
        where = " AND ".join(self._where(sessions.filter, args))
        stale, scope = await connection.fetchrow(
            # From the (partial) index of stale rows, whatever the statistics say.
            f"SELECT EXISTS (SELECT FROM {q}.summaries s WHERE s.stale AND s.id NOT IN"
            f"  (SELECT id FROM {q}.sessions WHERE expires_at <= now())),"
            f" ARRAY (SELECT s.id FROM {q}.summaries s JOIN {q}.sessions x ON x.id = s.id"
            f"  WHERE {where})",
            *args,
        )
        if unless_stale and stale:
            return None
        return await search_rows(connection, self.schema, query, scope) if scope else []

    @abstractmethod
    async def _run(
        self,
        action: str,
        subject: str,
        operation: Callable[[Any], Awaitable[_T]],
        *,
        needs_tables: bool = True,
    ) -> _T:
        """Run ``operation(connection)`` with the store's guards."""

    def _where(self, query_filter: Any, args: _Args) -> list[str]:
        q = f'"{self.schema}"'
        where = ["(x.expires_at IS NULL OR x.expires_at > now())"]  # first (see _usage_sql)
        if query_filter.since is not None:
            where.append(f"s.updated_at >= {args(query_filter.since, 'timestamptz')}")
        if query_filter.until is not None:
            where.append(f"s.updated_at < {args(query_filter.until, 'timestamptz')}")
        if query_filter.model is not None:
            where.append(
                f"EXISTS (SELECT FROM {q}.summary_models m"
                f" WHERE m.session_id = s.id AND m.model = {args(query_filter.model, 'text')})"
            )
        if query_filter.prefix:
            length = args(len(query_filter.prefix), "integer")
            where.append(f"left(s.id, {length}) = {args(query_filter.prefix, 'text')}")
        if query_filter.min_cost is not None:
            where.append(f"s.total_cost_usd >= {args(query_filter.min_cost, 'float8')}")
        for name, wanted in query_filter.where.items():
            if name in ("user_id", "root_id"):  # columns (the names are reserved properties)
                where.append(
                    f"s.{name} IS NULL"
                    if wanted is None
                    else f"s.{name} = {args(wanted, 'text')}"
                    if isinstance(wanted, str)
                    else "FALSE"
                )
                continue
            found = (
                f"SELECT FROM {q}.properties p WHERE p.session_id = s.id"
                f" AND p.key = {args(name, 'text')}"
            )
            if wanted is None:
                where.append(f"NOT EXISTS ({found} AND json_typeof(p.value) <> 'null')")
            else:
                where.append(
                    f"EXISTS ({found} AND p.value::jsonb = {args(json.dumps(wanted), 'jsonb')})"
                )
        return where

    def _stale_sql(self) -> str:
        """SQL for "some live session's row awaits a recount". The stale rows (the partial
        index on ``stale``, usually empty) lead, each looking its session up: as a join, a
        table without statistics yet was scanned whole and probed per session."""
        q = f'"{self.schema}"'
        return (
            f"EXISTS (SELECT FROM {q}.summaries t WHERE t.stale AND (SELECT y.expires_at IS NULL"
            f" OR y.expires_at > now() FROM {q}.sessions y WHERE y.id = t.id))"
        )

    async def _summary_page(self, query: SessionQuery, if_fresh: bool) -> SessionPage | None:
        q = f'"{self.schema}"'
        args = _Args()
        where = self._where(query.filter, args)
        column, cast = _SORT[query.key]
        direction = "DESC" if query.descending else "ASC"
        if query.after is not None:
            value, after_id = query.after
            compare = "<" if query.descending else ">"
            where.append(f"({column}, s.id) {compare} ({args(value, cast)}, {args(after_id)})")
        # One statement, one trip: the page, each row's properties and models, and whether a
        # row awaits a recount (an InitPlan, evaluated once).
        sql = (
            "SELECT s.id, s.parent_id, s.root_id, s.user_id, s.created_at, s.updated_at,"
            " s.event_count, s.total_tokens, s.total_cost_usd, s.has_errors,"
            f" (SELECT json_object_agg(key, value) FROM {q}.properties p"
            f"   WHERE p.session_id = s.id AND p.key NOT IN ({_RESERVED}))::text,"
            " (SELECT json_agg(json_build_array(m.model, m.events, m.tokens, m.cost_usd,"
            f"   m.priced)) FROM {q}.summary_models m WHERE m.session_id = s.id)::text,"
            f" {'(SELECT ' + self._stale_sql() + ')' if if_fresh else 'false'}"
            f" FROM {q}.summaries s JOIN {q}.sessions x ON x.id = s.id"
            f" WHERE {' AND '.join(where)}"
            f" ORDER BY {column} {direction}, s.id {direction} LIMIT {args(query.limit + 1)}"
        )
        rows = await self._run("list sessions in", self.schema, lambda c: c.fetch(sql, *args))
        if if_fresh and (rows[0][12] if rows else await self._any_stale()):
            return None
        items = [_summary(row, _models(row[11])) for row in rows]
        if len(items) <= query.limit:
            return SessionPage(items=items)
        items = items[: query.limit]
        cursor = encode_cursor(query.order, query.keyset(items[-1]))
        return SessionPage(items=items, next_cursor=cursor)

    async def _any_stale(self) -> bool:
        sql = f"SELECT {self._stale_sql()}"
        found = await self._run("find stale summaries in", self.schema, lambda c: c.fetchval(sql))
        return bool(found)

    async def _summary_totals(self, query: UsageQuery, if_fresh: bool) -> list[UsageRow] | None:
        statements = [self._usage_sql(query, part) for part in _parts(query)]
        # SET LOCAL jit = off, and whether a row awaits a recount, in one trip.
        stale = self._stale_sql() if if_fresh else "false"
        setup = f"SELECT set_config('jit', 'off', true), {stale}"

        async def read(connection: Any) -> list[list[Any]] | None:
            async with connection.transaction(readonly=True, isolation="repeatable_read"):
                # The estimate of a rollup's per-group lookups passes the JIT threshold, and
                # compiling (tens of ms) costs more than the few thousand rows it reads.
                if (await connection.fetchrow(setup))[1]:
                    return None
                return [await connection.fetch(sql, *args) for sql, args in statements]

        results = await self._run("total sessions in", self.schema, read)
        if results is None:
            return None
        names = query.group_by
        totals: dict[tuple[Any, ...], list[Any]] = {}
        for rows in results:
            for row in rows:
                key = tuple(_key_value(name, row[n]) for n, name in enumerate(names))
                held = totals.setdefault(key, [0, 0, 0, 0.0, set()])
                sessions, events, tokens, cost, unpriced = tuple(row)[len(names) :]
                held[0] += sessions
                held[1] += events or 0
                held[2] += tokens or 0
                held[3] += cost or 0.0
                held[4].update(unpriced or ())
        return usage_rows_from(names, totals)

    def _usage_sql(self, query: UsageQuery, part: str) -> tuple[str, _Args]:
        q = f'"{self.schema}"'
        args = _Args()
        keys = [
            "NULL::text" if (part == "rest" and name == "model") else self._group(name, args)
            for name in query.group_by
        ]
        where = self._where(query.filter, args)
        # Expired sessions (few, and indexed) are looked up once, not each row's session.
        where[0] = f"s.id NOT IN (SELECT id FROM {q}.sessions WHERE expires_at <= now())"
        source = f"{q}.summaries s"
        if part == "models":
            source += f" JOIN {q}.summary_models m ON m.session_id = s.id"
            measures = (
                "count(*), sum(m.events), sum(m.tokens), sum(m.cost_usd),"
                " array_agg(m.model) FILTER (WHERE NOT m.priced)"
            )
        elif part == "rest":
            # Each session's models added up once (NULL: it has none), behind an OFFSET 0
            # that keeps the planner from adding them up again per use.
            named = "".join(f"{key} AS k{n}, " for n, key in enumerate(keys))
            inner = (
                f"SELECT {named}s.event_count AS events, (SELECT sum(events)"
                f" FROM {q}.summary_models WHERE session_id = s.id) AS counted"
                f" FROM {source} WHERE {' AND '.join(where)} OFFSET 0"
            )
            outer = "".join(f"k{n}, " for n in range(len(keys)))
            keys_at = range(len(keys))
            grouped = f" GROUP BY {', '.join(str(n + 1) for n in keys_at)}" if keys else ""
            sql = (
                f"SELECT {outer}count(*), sum(events - coalesce(counted, 0)), 0, 0.0,"
                f" NULL::text[] FROM ({inner}) t WHERE counted IS NULL OR events > counted{grouped}"
            )
            return sql, args
        else:
            measures = (
                "count(*), sum(s.event_count), sum(s.total_tokens), sum(s.total_cost_usd),"
                f" (SELECT array_agg(DISTINCT m.model) FROM {q}.summary_models m"
                f"  WHERE m.session_id = ANY(array_agg(s.id)) AND NOT m.priced)"
            )
        listed = "".join(f"{key}, " for key in keys)
        grouped = f" GROUP BY {', '.join(str(n + 1) for n in range(len(keys)))}" if keys else ""
        return f"SELECT {listed}{measures} FROM {source} WHERE {' AND '.join(where)}{grouped}", args

    def _group(self, name: str, args: _Args) -> str:
        if name == "user_id":
            return "s.user_id"
        if name in ("day", "month"):
            form = "YYYY-MM-DD" if name == "day" else "YYYY-MM"
            return f"to_char(s.updated_at AT TIME ZONE 'UTC', '{form}')"
        if name == "model":
            return "m.model"
        return (
            f'(SELECT p.value::jsonb::text FROM "{self.schema}".properties p'
            f" WHERE p.session_id = s.id AND p.key = {args(name, 'text')})"
        )

    async def _stale_summaries(self, limit: int) -> list[tuple[str, int]]:
        q = f'"{self.schema}"'
        sql = (
            f"SELECT s.id, s.revision FROM {q}.summaries s JOIN {q}.sessions x ON x.id = s.id"
            " WHERE s.stale AND (x.expires_at IS NULL OR x.expires_at > now())"
            " ORDER BY s.id LIMIT $1"
        )
        rows = await self._run(
            "find stale summaries in", self.schema, lambda c: c.fetch(sql, limit)
        )
        return [(row[0], row[1]) for row in rows]

    async def _recount_summary(
        self, revision: int, summary: SessionSummary, root: str | None
    ) -> bool:
        q = f'"{self.schema}"'
        update = (
            f"UPDATE {q}.summaries SET parent_id = $3, root_id = coalesce($4, (SELECT root_id"
            f" FROM {q}.summaries WHERE id = $3), $3, $1), user_id = $5, event_count = $6,"
            " total_tokens = $7, total_cost_usd = $8, has_errors = $9, stale = false,"
            " revision = revision + 1 WHERE id = $1 AND revision = $2"
        )
        usage = summary.model_usage
        models = (
            f"INSERT INTO {q}.summary_models SELECT $1, * FROM"
            " unnest($2::text[], $3::bigint[], $4::bigint[], $5::float8[], $6::boolean[])"
        )

        async def write(connection: Any) -> bool:
            async with connection.transaction():
                status = await connection.execute(
                    update, summary.id, revision, summary.parent_id, root, summary.user_id,
                    summary.event_count, summary.total_tokens, summary.total_cost_usd,
                    summary.has_errors,
                )  # fmt: skip
                if status != "UPDATE 1":
                    return False
                await connection.execute(
                    f"DELETE FROM {q}.summary_models WHERE session_id = $1", summary.id
                )
                await connection.execute(
                    models, summary.id, list(usage), [m.events for m in usage.values()],
                    [m.tokens for m in usage.values()], [m.cost_usd for m in usage.values()],
                    [m.priced for m in usage.values()],
                )  # fmt: skip
                return True

        return await self._run("recount the summary of", summary.id, write)


def _parts(query: UsageQuery) -> tuple[str, ...]:
    return ("models", "rest") if "model" in query.group_by else ("sessions",)


def _key_value(name: str, value: Any) -> Any:
    if value is None or name in ("user_id", "day", "month", "model"):
        return value
    return json.loads(value)


def _models(text: str | None) -> dict[str, ModelTotals]:
    """A row's models, from the JSON array of ``[model, events, tokens, cost, priced]``."""
    found: dict[str, ModelTotals] = {}
    for model, events, tokens, cost, priced in json.loads(text) if text else ():
        found[model] = ModelTotals(events=events, tokens=tokens, cost_usd=cost, priced=priced)
    return found


def _summary(row: Any, models: dict[str, ModelTotals]) -> SessionSummary:
    properties = json.loads(row[10]) if row[10] else {}
    return SessionSummary(
        id=row[0],
        parent_id=row[1],
        root_id=row[2],
        user_id=row[3],
        created_at=row[4],
        updated_at=row[5],
        event_count=row[6],
        total_tokens=row[7],
        total_cost_usd=row[8],
        unpriced_models=sorted(name for name, m in models.items() if not m.priced),
        models=sorted(models),
        has_errors=row[9],
        properties=properties,
        model_usage=dict(sorted(models.items())),
    )
