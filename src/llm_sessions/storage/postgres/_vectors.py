"""Event vectors of a PostgreSQL store: the table ``llm_sessions_vectors`` of its schema.

Beside it, ``llm_sessions_vector_versions`` holds a number per session that every write of
its vectors bumps in the same transaction (what a reader keeping vectors checks). Both are
created on first use (a schema written by an older version gets them then) and are used
through the store's pool. Vectors are ``bytea`` (float32) compared with numpy; a
server with the ``vector`` extension could index them instead (not used here).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from .._vectors import EventFacts, Key, Loaded, VectorBackend, VectorRow, stack

__all__ = ["PostgresVectors"]

_TABLE = (
    'CREATE TABLE IF NOT EXISTS {t} (session_id text COLLATE "C" NOT NULL, '
    "event_id text NOT NULL, model text NOT NULL, dim integer NOT NULL, vector bytea NOT NULL, "
    "PRIMARY KEY (session_id, event_id)); "
    'CREATE TABLE IF NOT EXISTS {v} (session_id text COLLATE "C" PRIMARY KEY, '
    "version bigint NOT NULL)"
)


class PostgresVectors(VectorBackend):
    """The vectors of ``store`` (a ``PostgresSessionStore``), through its pool."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.table = f'"{store.schema}".llm_sessions_vectors'
        self.versions_table = f'"{store.schema}".llm_sessions_vector_versions'
        self._made = False

    async def _pool(self) -> Any:
        pool = await self.store._ready()
        if not self._made:
            await pool.execute(_TABLE.format(t=self.table, v=self.versions_table))
            self._made = True
        return pool

    async def _bump(self, connection: Any, session_id: str) -> None:
        await connection.execute(
            f"INSERT INTO {self.versions_table} VALUES ($1, 1) ON CONFLICT (session_id) "
            f"DO UPDATE SET version = {self.versions_table}.version + 1",
            session_id,
        )

    async def put(self, session_id: str, rows: Sequence[VectorRow]) -> None:
        pool = await self._pool()
        async with pool.acquire() as connection, connection.transaction():
            await connection.executemany(
                f"INSERT INTO {self.table} VALUES ($1, $2, $3, $4, $5) ON CONFLICT "
                "(session_id, event_id) DO UPDATE SET model = EXCLUDED.model, "
                "dim = EXCLUDED.dim, vector = EXCLUDED.vector",
                [(session_id, r.event_id, r.model, r.dim, r.data) for r in rows],
            )
            await self._bump(connection, session_id)

    async def drop(self, session_id: str, event_ids: Sequence[str] | None = None) -> int:
        pool = await self._pool()
        async with pool.acquire() as connection, connection.transaction():
            if event_ids is None:
                await connection.execute(
                    f"DELETE FROM {self.versions_table} WHERE session_id = $1", session_id
                )
                status = await connection.execute(
                    f"DELETE FROM {self.table} WHERE session_id = $1", session_id
                )
            else:
                await self._bump(connection, session_id)
                status = await connection.execute(
                    f"DELETE FROM {self.table} WHERE session_id = $1 "
                    "AND event_id = ANY($2::text[])",
                    session_id,
                    list(event_ids),
                )
        return int(status.split()[-1])

    async def event_ids(self, session_id: str, model: str | None = None) -> set[str]:
        pool = await self._pool()
        rows = await pool.fetch(
            f"SELECT event_id FROM {self.table} WHERE session_id = $1 "
            "AND ($2::text IS NULL OR model = $2)",
            session_id,
            model,
        )
        return {row[0] for row in rows}

    async def load(self, session_ids: Sequence[str], model: str, dim: int) -> Loaded:
        pool = await self._pool()
        rows = await pool.fetch(
            f"SELECT session_id, event_id, vector FROM {self.table} "
            "WHERE session_id = ANY($1::text[]) AND model = $2 AND dim = $3",
            list(session_ids),
            model,
            dim,
        )
        return stack([(r[0], r[1]) for r in rows], [r[2] for r in rows], dim)

    async def holding(self, session_ids: Sequence[str]) -> list[str]:
        return sorted(await self.versions(session_ids))

    async def versions(self, session_ids: Sequence[str]) -> dict[str, Hashable]:
        # Every write bumps its session's row, in its transaction.
        pool = await self._pool()
        rows = await pool.fetch(
            f"SELECT session_id, version FROM {self.versions_table} "
            "WHERE session_id = ANY($1::text[])",
            list(session_ids),
        )
        return {row[0]: row[1] for row in rows}

    async def facts(self, keys: Sequence[Key]) -> dict[Key, EventFacts]:
        pool = await self._pool()
        rows = await pool.fetch(
            "SELECT d.session_id, d.event_id, event_type, created_at, user_id, body "
            f'FROM "{self.store.schema}".search_docs d JOIN unnest($1::text[], $2::text[]) '
            "AS k (session_id, event_id) USING (session_id, event_id)",
            [key[0] for key in keys],
            [key[1] for key in keys],
        )
        return {(r[0], r[1]): EventFacts(r[2], r[3], r[4], r[5]) for r in rows}
