"""The PostgreSQL store's erasure and compaction: batched deletes, and ``VACUUM`` on the
schema's tables so that the space erased rows took is reclaimed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._listing import PostgresListing
from ._schema import LIVE

__all__ = ["PostgresMaintenance"]

_BATCH = 1000
"""Sessions deleted per statement by an erasure."""


class PostgresMaintenance(PostgresListing):
    """``erase`` in statements of ``_BATCH`` sessions, and ``compact``."""

    async def compact(self) -> None:
        """Run ``VACUUM`` on every table of the store's schema (erased rows are already gone
        from every query; this reclaims the space their old versions took)."""
        schema = self.schema

        async def vacuum(connection: Any) -> None:
            tables = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1", schema
            )
            for (table,) in tables:
                name = table.replace('"', '""')
                await connection.execute(f'VACUUM "{schema}"."{name}"')

        await self._run("compact", schema, vacuum)

    async def _erase_sessions(self, session_ids: Sequence[str]) -> int:
        # The other tables (events, summaries...) follow through ON DELETE CASCADE.
        sql = f'DELETE FROM "{self.schema}".sessions WHERE id = ANY($1::text[]) RETURNING {LIVE}'
        erased = 0
        for start in range(0, len(session_ids), _BATCH):
            chunk = list(session_ids[start : start + _BATCH])

            async def delete(connection: Any, chunk: list[str] = chunk) -> list[Any]:
                return list(await connection.fetch(sql, chunk))

            rows = await self._run("erase", chunk[0], delete)
            erased += sum(1 for row in rows if row[0])
        return erased
