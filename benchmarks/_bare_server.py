"""The floor ``bench_server.py --baseline`` compares the server with: a minimal Starlette app.

Its append route parses the same request body, does the store's raw write (sqlite3 ``INSERT`` and
commit, redis-py ``RPUSH``, asyncpg ``INSERT``) and answers with a list of the same shape; its list
route reads a page of 20 rows after a cursor. An item's id is its row's position, so a page is one
indexed read on every store. Nothing else: no keys, limits, validation, ids, tokens or headers.

Configured from the environment (``BENCH_BARE_KIND``: ``sqlite``, ``redis`` or ``postgres``;
``BENCH_BARE_TARGET``: a file path or a URL; ``BENCH_BARE_PREFIX``: a key prefix or schema) and
served by uvicorn as ``_bare_server:app_from_environment`` (a factory).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def _item(position: int, item: dict[str, Any]) -> dict[str, Any]:
    part = {"type": "input_text", "text": item["content"], "annotations": None}
    return {
        "id": f"msg_{position}",
        "type": "message",
        "role": item["role"],
        "status": "completed",
        "content": [part],
        "phase": None,
    }


def _page(items: list[dict[str, Any]], has_more: bool) -> JSONResponse:
    return JSONResponse(
        {
            "object": "list",
            "data": items,
            "first_id": items[0]["id"] if items else None,
            "last_id": items[-1]["id"] if items else None,
            "has_more": has_more,
        }
    )


class _Sqlite:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS items (seq INTEGER PRIMARY KEY, conv TEXT, body TEXT)"
        )
        self.db.execute("CREATE INDEX IF NOT EXISTS items_conv ON items (conv, seq)")

    async def append(self, conv: str, bodies: list[str]) -> list[int]:
        positions = []
        self.db.execute("BEGIN")
        for body in bodies:
            cursor = self.db.execute("INSERT INTO items (conv, body) VALUES (?, ?)", (conv, body))
            positions.append(int(cursor.lastrowid or 0))
        self.db.execute("COMMIT")
        return positions

    async def page(self, conv: str, after: int, limit: int) -> list[tuple[int, str]]:
        sql = "SELECT seq, body FROM items WHERE conv = ? AND seq > ? ORDER BY seq LIMIT ?"
        return list(self.db.execute(sql, (conv, after, limit)))

    async def close(self) -> None:
        self.db.close()


class _Redis:
    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as redis

        self.client = redis.Redis.from_url(url)
        self.prefix = prefix

    async def append(self, conv: str, bodies: list[str]) -> list[int]:
        length = int(await self.client.rpush(self.prefix + conv, *bodies))
        return list(range(length - len(bodies), length))

    async def page(self, conv: str, after: int, limit: int) -> list[tuple[int, str]]:
        start = after + 1
        rows = await self.client.lrange(self.prefix + conv, start, start + limit - 1)
        return [(start + n, row.decode()) for n, row in enumerate(rows)]

    async def close(self) -> None:
        await self.client.aclose()


class _Postgres:
    def __init__(self, url: str, schema: str) -> None:
        self.url = url
        self.schema = schema
        self.pool: Any = None

    async def open(self) -> None:
        import asyncpg

        setup = await asyncpg.connect(self.url)
        await setup.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        await setup.execute(
            f"CREATE TABLE IF NOT EXISTS {self.schema}.items "
            "(seq BIGSERIAL PRIMARY KEY, conv TEXT, body TEXT)"
        )
        await setup.execute(
            f"CREATE INDEX IF NOT EXISTS items_conv ON {self.schema}.items (conv, seq)"
        )
        await setup.close()
        self.pool = await asyncpg.create_pool(self.url, min_size=2, max_size=10)

    async def append(self, conv: str, bodies: list[str]) -> list[int]:
        sql = f"INSERT INTO {self.schema}.items (conv, body) VALUES ($1, $2) RETURNING seq"
        async with self.pool.acquire() as connection, connection.transaction():
            return [int(await connection.fetchval(sql, conv, body)) for body in bodies]

    async def page(self, conv: str, after: int, limit: int) -> list[tuple[int, str]]:
        sql = (
            f"SELECT seq, body FROM {self.schema}.items WHERE conv = $1 AND seq > $2 "
            "ORDER BY seq LIMIT $3"
        )
        return [(row[0], row[1]) for row in await self.pool.fetch(sql, conv, after, limit)]

    async def close(self) -> None:
        await self.pool.close()


def app_from_environment() -> Starlette:
    """The bare app over the store the environment names."""
    kind = os.environ["BENCH_BARE_KIND"]
    target = os.environ["BENCH_BARE_TARGET"]
    prefix = os.environ.get("BENCH_BARE_PREFIX", "")
    store: Any = (
        _Sqlite(target)
        if kind == "sqlite"
        else _Redis(target, prefix)
        if kind == "redis"
        else _Postgres(target, prefix)
    )

    async def create(request: Request) -> JSONResponse:
        await request.body()
        body = {"id": f"conv_{uuid4().hex}", "object": "conversation", "metadata": {}}
        return JSONResponse({**body, "created_at": int(time.time())})

    async def append(request: Request) -> JSONResponse:
        items = json.loads(await request.body())["items"]
        bodies = [json.dumps(item) for item in items]
        positions = await store.append(request.path_params["conv"], bodies)
        return _page([_item(p, i) for p, i in zip(positions, items, strict=True)], False)

    async def page(request: Request) -> JSONResponse:
        after = request.query_params.get("after")
        limit = int(request.query_params.get("limit", 20))
        start = int(after.removeprefix("msg_")) if after else -1
        rows = await store.page(request.path_params["conv"], start, limit + 1)
        items = [_item(seq, json.loads(body)) for seq, body in rows[:limit]]
        return _page(items, len(rows) > limit)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if kind == "postgres":
            await store.open()
        yield
        await store.close()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/healthz", healthz),
        Route("/v1/conversations", create, methods=["POST"]),
        Route("/v1/conversations/{conv}/items", append, methods=["POST"]),
        Route("/v1/conversations/{conv}/items", page, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
