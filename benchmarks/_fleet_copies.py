"""Grows a PostgreSQL fleet for ``bench_fleet`` by copying rows the store's own saves wrote.

Session ``n`` of ``bench_fleet`` has user ``n % 100``, model ``n % 5`` and time ``START + n``
minutes, so session ``n + k * block`` (``block`` a multiple of 100) is session ``n`` with its
id and its times moved on by ``k * block``: the same events, the same totals. ``copy_blocks``
writes exactly that, in SQL: every row of the first ``block`` sessions, in every table of the
store's schema, once for each ``k``, with each session id (``id``, ``session_id``,
``root_id``) renamed and each session's ``created_at``/``updated_at`` moved (an event's own
time is left as it is, as a save of the later session would write a time of its own).
``bench_fleet`` checks the outcome on a sample from the copies against the same sessions saved
one by one. ``analyze`` gathers the planner's statistics, as autovacuum would after so many
new rows (a minute or so later on a quiet server).
"""

from __future__ import annotations

from typing import Any

from llm_sessions.storage import PostgresSessionStore

__all__ = ["analyze", "copy_blocks"]

_RENAMED = ("id", "session_id", "root_id")
_MOVED = {"sessions", "summaries"}
"""Tables whose ``created_at``/``updated_at`` are the session's (not an event's)."""
_SKIPPED = {"schema_version", "quarantine"}


def _value(table: str, column: str, block: int) -> str:
    if column in _RENAMED:
        number = f"(substr(t.{column}, 2)::bigint + k * {block})"
        return f"'s' || lpad({number}::text, 8, '0')"
    if table in _MOVED and column in ("created_at", "updated_at"):
        return f"t.{column} + make_interval(mins => k * {block})"
    return f"t.{column}"


async def copy_blocks(store: PostgresSessionStore, block: int, count: int) -> None:
    """Copy the rows of sessions ``0 .. block - 1`` until there are ``count`` sessions."""
    q = f'"{store.schema}"'

    async def copy(connection: Any) -> None:
        columns = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = $1 AND is_identity = 'NO' AND is_generated = 'NEVER'"
            " ORDER BY table_name, ordinal_position",
            store.schema,
        )
        tables: dict[str, list[str]] = {}
        for table, column in columns:
            if table not in _SKIPPED:
                tables.setdefault(table, []).append(column)
        for table, names in list(tables.items()):
            if "id" not in names and "session_id" not in names:
                del tables[table]  # not a session's row
        first = ["sessions", "summaries"]  # the rows the others refer to
        order = first + sorted(set(tables) - set(first))
        await connection.execute("SET statement_timeout = 0")  # the store's is 10 s
        async with connection.transaction():
            for table in order:
                names = tables[table]
                values = ", ".join(_value(table, column, block) for column in names)
                await connection.execute(
                    f"INSERT INTO {q}.{table} ({', '.join(names)})"
                    f" SELECT {values} FROM {q}.{table} t,"
                    f" generate_series(1, {count // block - 1}) AS k"
                )
        await connection.execute("RESET statement_timeout")

    pool = await store._ready(True)  # not through the store's guard: its timeout is 10 s
    async with pool.acquire() as connection:
        await copy(connection)


async def analyze(store: PostgresSessionStore) -> None:
    """``ANALYZE`` every table of the store's schema."""
    pool = await store._ready(True)
    async with pool.acquire() as connection:
        await connection.execute("SET statement_timeout = 0")
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1", store.schema
        )
        for (table,) in tables:
            await connection.execute(f'ANALYZE "{store.schema}".{table}')
        await connection.execute("RESET statement_timeout")
