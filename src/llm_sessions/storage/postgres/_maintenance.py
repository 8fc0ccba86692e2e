"""The PostgreSQL store's erasure and compaction: batched deletes, and ``VACUUM`` on the
schema's tables so that the space erased rows took is reclaimed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._erasure import ChainRow
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

    async def _chain_rows(self, roots: Sequence[str], prefix: str) -> list[ChainRow]:
        if not self._keeps_summary_rows():
            return await super()._chain_rows(roots, prefix)
        q = f'"{self.schema}"'
        sql = (
            f"SELECT s.id, s.parent_id, s.root_id, s.event_count FROM {q}.summaries s"
            f" JOIN {q}.sessions x ON x.id = s.id WHERE s.root_id = ANY($1::text[])"
            f" AND left(s.id, length($2)) = $2 AND (x.expires_at IS NULL OR x.expires_at > now())"
        )
        found: list[ChainRow] = []
        for start in range(0, len(roots), _BATCH):
            chunk = list(roots[start : start + _BATCH])

            async def read(connection: Any, chunk: list[str] = chunk) -> list[Any]:
                return list(await connection.fetch(sql, chunk, prefix))

            found.extend(ChainRow(*row) for row in await self._run("erase", chunk[0], read))
        return found

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
