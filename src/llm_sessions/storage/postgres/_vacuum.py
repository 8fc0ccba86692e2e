"""``PostgresSessionStore.vacuum()``: unreadable rows moved into a ``quarantine`` table.

The table is part of the store's versioned schema (``postgres_schema``); the store never reads
it. Each row keeps where it came from
(``source``: the table), the row itself as JSON, the reason and the time. A session whose
header cannot be read moves as a whole (every table's rows); from a readable session only the
event rows that are not one readable event move. One transaction per session.
"""

from __future__ import annotations

from typing import Any

from ._schema import TABLES

__all__ = ["move_events", "move_session"]

_COPY = (
    "INSERT INTO {s}.quarantine (session_id, source, row, reason)"
    " SELECT $1, '{table}', row_to_json(t), $2 FROM {s}.{table} t WHERE {where}"
)


async def move_session(connection: Any, schema: str, session_id: str, reason: str) -> None:
    """Move every row of the session into the quarantine table."""
    async with connection.transaction():
        for table in TABLES:
            column = "id" if table == "sessions" else "session_id"
            copy = _COPY.format(s=schema, table=table, where=f"{column} = $1")
            await connection.execute(copy, session_id, reason)
        for table in TABLES:  # children first: the order of TABLES
            column = "id" if table == "sessions" else "session_id"
            await connection.execute(
                f"DELETE FROM {schema}.{table} WHERE {column} = $1", session_id
            )


async def move_events(connection: Any, schema: str, session_id: str, seqs: list[int]) -> None:
    """Move these event rows (by ``seq``) into the quarantine table."""
    async with connection.transaction():
        where = "session_id = $1 AND seq = ANY($3::bigint[])"
        copy = _COPY.format(s=schema, table="events", where=where)
        await connection.execute(copy, session_id, "unreadable event", seqs)
        await connection.execute(
            f"DELETE FROM {schema}.events WHERE session_id = $1 AND seq = ANY($2::bigint[])",
            session_id,
            seqs,
        )
        # Its summary counted the events moved out: recounted before the next listing.
        await connection.execute(
            f"UPDATE {schema}.summaries SET stale = true WHERE id = $1", session_id
        )
