"""The PostgreSQL store's erasure and compaction: batched deletes, and ``VACUUM`` on the
schema's tables so that the space erased rows took is reclaimed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ...models._session_metadata import USER_ID_PROPERTY
from .._blobs import BLOB_PREFIX, SEALED_MARK, refs_in_rows
from .._erasure import ChainRow
from ._listing import PostgresListing
from ._schema import LIVE

__all__ = ["PostgresMaintenance"]

_BATCH = 500
"""Sessions deleted (or roots read) per statement by an erasure."""
_WORKERS = 1
"""Batches an erasure deletes at once, each on a connection of its own. One: the batches never
wait for each other, but two at once kept both of a 2-core server's cores busy, and other
users' appends then waited for a core (their p99 11× its value without the erasure, against
about 1× with one batch of 500 at a time, in ``bench_erase.py``)."""
_KEYS = ("user_id", "root_id")
"""The summary columns an erasure matches on (indexed)."""


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

    async def _rows_where(self, key: str, values: Sequence[str], prefix: str) -> list[ChainRow]:
        if not self._keeps_summary_rows() or key not in _KEYS:
            return await super()._rows_where(key, values, prefix)
        q = f'"{self.schema}"'
        sql = (
            f"SELECT s.id, s.parent_id, s.root_id, s.user_id, s.event_count FROM {q}.summaries s"
            f" JOIN {q}.sessions x ON x.id = s.id WHERE s.{key} = ANY($1::text[])"
            " AND left(s.id, length($2)) = $2 AND (x.expires_at IS NULL OR x.expires_at > now())"
        )
        found: list[ChainRow] = []
        for start in range(0, len(values), _BATCH):
            chunk = list(values[start : start + _BATCH])

            async def read(connection: Any, chunk: list[str] = chunk) -> list[Any]:
                return list(await connection.fetch(sql, chunk, prefix))

            found.extend(ChainRow(*row) for row in await self._run("erase", chunk[0], read))
        if key == "user_id":
            found.extend(await self._quarantined_of(list(values), prefix))
        return found

    async def _quarantined_of(self, users: list[str], prefix: str) -> list[ChainRow]:
        """The sessions ``vacuum`` set aside whole (header unreadable) whose moved
        ``properties`` rows name one of ``users``: their summary went with their session row,
        their quarantined rows still hold their owner."""
        sql = (
            "SELECT session_id, row->>'value' FROM"
            f" \"{self.schema}\".quarantine WHERE source = 'properties'"
            " AND row->>'key' = $1 AND row->>'value' = ANY($2::text[])"
            " AND left(session_id, length($3)) = $3"
        )
        rows = await self._run(
            "erase", users[0], lambda c: c.fetch(sql, USER_ID_PROPERTY, users, prefix)
        )
        return [ChainRow(sid, None, sid, user, 0) for sid, user in dict(rows).items()]

    async def _blob_refs(self, session_ids: Sequence[str] | None) -> set[str] | None:
        if self._cipher.current_id is not None:
            return None
        sql = (
            f'SELECT body::text FROM "{self.schema}".events'
            " WHERE (strpos(body::text, $1) > 0 OR strpos(body::text, $2) > 0)"
        )
        chunks = (
            [None]
            if session_ids is None
            else [list(session_ids[at : at + _BATCH]) for at in range(0, len(session_ids), _BATCH)]
        )
        found: set[str] = set()
        for chunk in chunks:

            async def read(connection: Any, chunk: list[str] | None = chunk) -> list[Any]:
                if chunk is None:
                    return list(await connection.fetch(sql, BLOB_PREFIX, SEALED_MARK))
                where = sql + " AND session_id = ANY($3::text[])"
                return list(await connection.fetch(where, BLOB_PREFIX, SEALED_MARK, chunk))

            named = refs_in_rows(row[0] for row in await self._run("read blobs of", "", read))
            if named is None:
                return None
            found |= named
        return found

    async def _erase_sessions(self, session_ids: Sequence[str]) -> int:
        # One statement per batch: the sessions' other rows go through the trigger on
        # ``sessions`` (see ``_cascade``), set-based; the rows ``vacuum`` moved aside go too.
        q = f'"{self.schema}"'
        quarantine = f"DELETE FROM {q}.quarantine WHERE session_id = ANY($1::text[])"
        sessions = f"DELETE FROM {q}.sessions WHERE id = ANY($1::text[]) RETURNING {LIVE}"
        gate = asyncio.Semaphore(_WORKERS)

        async def delete(connection: Any, chunk: list[str]) -> list[Any]:
            async with connection.transaction():
                rows = list(await connection.fetch(sessions, chunk))
                await connection.execute(quarantine, chunk)
                return rows

        async def batch(chunk: list[str]) -> int:
            async with gate:
                rows = await self._run("erase", chunk[0], lambda c: delete(c, chunk))
            return sum(1 for row in rows if row[0])

        chunks = [list(session_ids[at : at + _BATCH]) for at in range(0, len(session_ids), _BATCH)]
        return sum(await asyncio.gather(*(batch(chunk) for chunk in chunks)))
