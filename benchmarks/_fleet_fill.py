"""Fills a store for ``bench_fleet`` fast: the store's own ``save``, many sessions per trip.

Each session goes through the store's ``save`` unchanged (its checks, its summary delta, its
search rows, its write arguments); only the last step, the one call to the database, is held
back and then sent with a few thousand others: on SQLite the store's own ``_write_sync`` for
each, inside one transaction instead of one each; on PostgreSQL the store's own
``write_batch(...)`` statement with each save's arguments, as one ``executemany`` in one
transaction; on Redis the store's own write script with each save's keys and arguments, in one
pipeline. The rows written are those the store's own saves write, by construction;
``same_answers`` checks it on a sample all the same (a store filled by plain saves must answer
``find_sessions`` and ``usage`` alike).
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from llm_sessions.models import Session
from llm_sessions.storage import (
    PostgresSessionStore,
    RedisSessionStore,
    SessionStore,
    SQLiteSessionStore,
)

__all__ = ["batched_fill", "same_answers"]


class _OneTransaction:
    """A SQLite connection on which the store's own ``BEGIN IMMEDIATE``/``COMMIT`` are no-ops
    (the caller holds one transaction around many saves)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, *args: Any) -> Any:
        if sql in ("BEGIN IMMEDIATE", "COMMIT"):
            return None
        return self._connection.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


class _Recorder:
    """Stands for a PostgreSQL connection: keeps what ``fetchval`` was asked, answers 1."""

    def __init__(self) -> None:
        self.sql = ""
        self.args: list[tuple[Any, ...]] = []

    async def fetchval(self, sql: str, *args: Any) -> int:
        self.sql = sql
        self.args.append(args)
        return 1


async def _saved_with(
    store: SessionStore, name: str, stand_in: Any, sessions: list[Session[Any]]
) -> None:
    """Run the store's own ``save`` on each session with its attribute ``name`` replaced by
    ``stand_in`` (which keeps what would have been sent), then put the attribute back."""
    own = store.__dict__.get(name)
    setattr(store, name, stand_in)
    try:
        for session in sessions:
            await store.save(session)
    finally:
        if own is None:
            delattr(store, name)
        else:
            setattr(store, name, own)


async def _sqlite(store: SQLiteSessionStore, sessions: list[Session[Any]]) -> Awaitable[Any]:
    batches: list[Any] = []

    async def keep(batch: Any) -> None:
        batches.append(batch)

    await _saved_with(store, "_write", keep, sessions)

    def write_all() -> None:
        real = store._conn()
        one = _OneTransaction(real)
        store._conn = lambda: one  # type: ignore[assignment, method-assign, return-value]
        try:
            real.execute("BEGIN IMMEDIATE")
            for batch in batches:
                store._write_sync(batch)
            real.execute("COMMIT")
        finally:
            del store._conn

    return store._run(write_all)


async def _postgres(store: PostgresSessionStore, sessions: list[Session[Any]]) -> Awaitable[Any]:
    recorder = _Recorder()
    run = store._run

    async def record(action: str, subject: str, operation: Callable[[Any], Any], **_: Any) -> Any:
        if action != "write":
            return await run(action, subject, operation, **_)
        return await operation(recorder)

    await _saved_with(store, "_run", record, sessions)

    async def write_all() -> None:
        pool = await store._ready(True)  # not through the store's guard: its timeout is 10 s
        async with pool.acquire() as connection, connection.transaction():
            await connection.executemany(recorder.sql, recorder.args)

    return write_all()


async def _redis(store: RedisSessionStore, sessions: list[Session[Any]]) -> Awaitable[Any]:
    calls: list[tuple[list[str], list[Any]]] = []
    script = store._write_script

    async def one() -> int:
        return 1

    def record(keys: list[str], args: list[Any]) -> Any:
        calls.append((keys, args))
        return one()

    await _saved_with(store, "_write_script", record, sessions)

    async def write_all() -> None:
        pipe = store.client.pipeline(transaction=False)
        for keys, args in calls:
            await script(keys=keys, args=args, client=pipe)
        replies = await pipe.execute()
        if any(reply != 1 for reply in replies):
            raise RuntimeError(f"a write script refused a fleet session: {replies[:5]}")

    return write_all()


async def batched_fill(
    store: SessionStore, sessions: Iterable[Session[Any]], per_trip: int = 2000
) -> None:
    """Save ``sessions`` into ``store`` through its own ``save``, ``per_trip`` at a time (the
    next trip's saves prepared while the last one is written)."""
    write: Any
    if isinstance(store, SQLiteSessionStore):
        write = _sqlite
    elif isinstance(store, PostgresSessionStore):
        write = _postgres
    elif isinstance(store, RedisSessionStore):
        write = _redis
    else:
        raise TypeError(f"no batched fill for {type(store).__name__}")
    chunk: list[Session[Any]] = []
    sending: asyncio.Future[Any] | None = None
    for session in itertools.chain(sessions, [None]):
        if session is not None:
            chunk.append(session)
        if chunk and (session is None or len(chunk) == per_trip):
            send = await write(store, chunk)
            if sending is not None:
                await sending
            sending = asyncio.ensure_future(send)
            await asyncio.sleep(0)  # under way (a SQLite trip on the store's thread)
            chunk = []
    if sending is not None:
        await sending


async def same_answers(filled: SessionStore, reference: SessionStore, prefix: str) -> None:
    """Raise unless ``filled`` and ``reference`` list and total the sessions under ``prefix``
    alike (``reference`` holds the same sessions, written by plain saves)."""
    for order in ("-updated_at", "cost"):
        mine = await filled.find_sessions(prefix=prefix, order=order, limit=1000)
        theirs = await reference.find_sessions(prefix=prefix, order=order, limit=1000)
        if mine.items != theirs.items or not mine.items:
            raise RuntimeError(f"the batched fill lists {prefix!r} otherwise ({order})")
    for group in (("user_id", "model"), ("day",)):
        if await filled.usage(group, prefix=prefix) != await reference.usage(group, prefix=prefix):
            raise RuntimeError(f"the batched fill totals {prefix!r} otherwise ({group})")
