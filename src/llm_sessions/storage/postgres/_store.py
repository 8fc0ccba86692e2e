"""Sessions in PostgreSQL (asyncpg): a header row, its merge tables and an append-only event log.

All tables live in one schema (``llm_sessions`` unless told otherwise), created and versioned on
first use under an advisory lock, so two processes starting at once do not collide. The tables,
the ``write_batch`` function and the statements are in ``postgres_schema``.

A save is one call of the schema's ``write_batch`` function: one round trip and one transaction,
holding the session row's lock so concurrent writers to one session append in commit order. A
load is one statement. ``asyncpg`` is an optional dependency
(``pip install "llm-sessions[postgres]"``), imported when the pool is first needed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ...exceptions import (
    CorruptSessionData,
    InvalidInputError,
    SessionAlreadyExists,
    SessionNotFound,
    StorageError,
)
from ...models._session import Session
from ...validation import validate_id, validate_seconds
from .._base import StoreState
from .._event_page import EventPage, unknown_event
from .._faults import storage_error, within
from .._options import StoreOptions, take_options
from .._prefix import check_prefix
from .._records import StoredPage, StoredSession, build_session, unreadable_rows
from .._reseal import SealedSwap
from .._sync import WriteBatch
from .._url_parts import parse_seconds, parse_timeout, split_query
from ._driver import driver_errors, import_asyncpg
from ._maintenance import PostgresMaintenance
from ._schema import (
    LIVE,
    NEW_TAG,
    PAGE_REMOVALS,
    READ,
    READ_PAGE,
    READ_SINCE,
    SCHEMA_VERSION,
    TABLES,
    installed_version,
    migrate,
    page_bounds,
    stored_header,
    write_args,
)
from ._search import WRITE, WRITE_UNREAD, backfill_index, index_args
from ._summary_schema import SUMMARY_TABLES, summary_args
from ._vacuum import move_events, move_session

__all__ = ["SCHEMA_VERSION", "PostgresSessionStore"]

logger = logging.getLogger("llm_sessions.storage")
_T = TypeVar("_T")

DEFAULT_SCHEMA = "llm_sessions"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


# Where key rotation's swaps go: (place, table, key column, value column).
_SWAP_TABLES = (
    ("state", "state", "key", "value"),
    ("properties", "properties", "key", "value"),
    ("runs", "runs", "run_id", "body"),
)


def _check_schema(schema: object) -> str:
    if not isinstance(schema, str) or not _IDENTIFIER.fullmatch(schema):
        raise InvalidInputError(
            "schema",
            schema,
            "must be 1-63 letters, digits or underscores, not starting with a digit",
        )
    return schema


def _like_prefix(prefix: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", prefix) + "%"


def _redact(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.password is None:
        return urlunsplit(parts._replace(query=""))
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc}", query=""))


async def _keep_session(connection: Any) -> None:
    """Skip asyncpg's reset query on release: the pool is the store's own and no operation
    leaves session state behind (no LISTEN, settings or session-level locks). An open
    transaction is still rolled back by asyncpg itself."""


def _row_count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


class PostgresSessionStore(PostgresMaintenance):
    """Sessions in PostgreSQL tables in ``schema`` (see the module docstring).

    ``dsn`` is an asyncpg DSN (``postgresql://user:password@host:port/db``). The connection pool
    (``min_size``..``max_size`` connections) and the tables are created on first use, never
    here. ``connect_timeout`` bounds how long an unreachable server can stall that first use;
    ``expiration_seconds`` makes every save (re)start the session's time to live. ``timeout``
    bounds every operation (waiting for a row lock included): when it passes, the operation
    raises ``StorageError`` and its connection is dropped from the pool, as is any connection
    that fails for a reason other than an error the server reported.
    """

    def __init__(
        self,
        dsn: str,
        schema: str = DEFAULT_SCHEMA,
        session_class: type[Session[Any]] = Session,
        expiration_seconds: float | None = None,
        *,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 5.0,
        **settings: Any,
    ) -> None:
        connect_kwargs = dict(settings)
        super().__init__(
            StoreOptions(session_class, expiration_seconds, **take_options(connect_kwargs))
        )
        self.dsn = dsn
        self.schema = _check_schema(schema)
        self._ttl = self.expiration_seconds
        self._pool_options: dict[str, Any] = {
            "min_size": min_size,
            "max_size": max_size,
            "timeout": validate_seconds(connect_timeout, "connect_timeout"),
            "reset": _keep_session,
            **connect_kwargs,
            # The server gives up too, so a statement stuck on a lock ends cleanly on its side.
            "server_settings": {
                "statement_timeout": str(math.ceil(self.timeout * 1000)),
                **connect_kwargs.get("server_settings", {}),
            },
        }
        self._pool: Any = None
        self._schema_ready = False
        self._setup_lock = asyncio.Lock()
        self._errors: tuple[type[BaseException], ...] = (OSError, TimeoutError)
        self._server_error: type[BaseException] = Exception
        q = f'"{self.schema}"'
        self._sql_read = READ.format(s=q)
        self._sql_read_since = READ_SINCE.format(s=q)
        self._sql_write = WRITE.format(s=q)
        self._sql_write_unread = WRITE_UNREAD.format(s=q)
        self._sql_pages = {
            (removals, newest, after, before): READ_PAGE.format(
                s=q,
                live=LIVE,
                order="DESC" if newest else "ASC",
                bounds=page_bounds(after, before),
                removals=PAGE_REMOVALS.format(s=q) if removals else "",
            )
            for removals in (False, True)
            for newest in (False, True)
            for after in (False, True)
            for before in (False, True)
        }

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> PostgresSessionStore:
        """A store for a ``postgresql://`` (or ``postgres://``) URL.

        The query may set ``schema``, ``expiration_seconds`` and ``timeout``; the rest of the
        URL is the asyncpg DSN. Keyword arguments go to the constructor.
        """
        options, dsn = split_query(
            url, {"schema": str, "expiration_seconds": parse_seconds, "timeout": parse_timeout}
        )
        return cls(dsn, **{**options, **kwargs})

    # -- the store contract ------------------------------------------------------------------

    async def delete(self, session_id: str) -> bool:
        validate_id(session_id)
        sql = f'DELETE FROM "{self.schema}".sessions WHERE id = $1 RETURNING {LIVE}'
        live = await self._run("delete", session_id, lambda c: c.fetchval(sql, session_id))
        return bool(live)

    async def list_sessions(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        sql = f'SELECT id FROM "{self.schema}".sessions WHERE id LIKE $1 AND {LIVE} ORDER BY id'
        rows = await self._run(
            "list sessions", prefix, lambda c: c.fetch(sql, _like_prefix(prefix))
        )
        return [row[0] for row in rows]

    async def set_expiration(self, session_id: str, seconds: float | None) -> bool:
        """Expire the session ``seconds`` from now (None: never); True if it exists."""
        validate_id(session_id)
        ttl = validate_seconds(seconds, "seconds")
        sql = (
            f'UPDATE "{self.schema}".sessions '
            "SET expires_at = now() + $2::float8 * interval '1 second' "
            f"WHERE id = $1 AND {LIVE}"
        )
        status = await self._run(
            "set expiration of", session_id, lambda c: c.execute(sql, session_id, ttl)
        )
        return _row_count(status) > 0

    async def prune_expired(self) -> int:
        """Delete every expired session (and its events); returns how many went."""
        sql = f'DELETE FROM "{self.schema}".sessions WHERE expires_at <= now()'
        status = await self._run("prune expired sessions in", self.schema, lambda c: c.execute(sql))
        return _row_count(status)

    async def drop_all(self) -> None:
        """Drop this store's schema with every table in it (in ``public``: only our objects).

        Works on a schema of any version; a later use of the store creates the tables again.
        """
        if self.schema == "public":
            tables = ("search_docs", *SUMMARY_TABLES, *TABLES, "quarantine", "schema_version")
            names = ", ".join(f"public.{table}" for table in tables)
            sql = (
                f"DROP TABLE IF EXISTS {names} CASCADE; DROP FUNCTION IF EXISTS public.write_batch;"
                " DROP FUNCTION IF EXISTS public.keep_summary, public.keep_index,"
                " public.drop_session_rows"
            )
        else:
            sql = f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'
        await self._run("drop", self.schema, lambda c: c.execute(sql), needs_tables=False)
        self._schema_ready = False

    async def vacuum(self) -> int:
        """Move unreadable rows into the schema's ``quarantine`` table (see
        ``postgres_vacuum``); returns how many sessions were affected."""
        affected = 0
        for session_id in await self.list_sessions():
            affected += await self._vacuum_session(session_id)
        return affected

    async def _vacuum_session(self, session_id: str) -> bool:
        q = f'"{self.schema}"'
        try:
            stored = await self._read(session_id)
            if stored is None:
                return False
            build_session(self.session_class, session_id, replace(stored, events=[]), self)
        except CorruptSessionData as exc:
            move = partial(move_session, schema=q, session_id=session_id, reason=exc.reason)
            await self._run("quarantine", session_id, move)
            return True
        sql = f"SELECT seq, body::text FROM {q}.events WHERE session_id = $1 ORDER BY seq"
        rows = await self._run("read events of", session_id, lambda c: c.fetch(sql, session_id))
        bad = [rows[n][0] for n in unreadable_rows(self.session_class, [r[1] for r in rows])]
        if bad:
            move = partial(move_events, schema=q, session_id=session_id, seqs=bad)
            await self._run("quarantine events of", session_id, move)
        return bool(bad)

    async def close(self) -> None:
        """Close the connection pool (waiting for connections in use). Idempotent."""
        if self.state is StoreState.CLOSED:
            return
        await super().close()
        pool, self._pool = self._pool, None
        if pool is not None:
            await self._guard("close the pool of", self.schema, pool.close())

    # -- the event log -----------------------------------------------------------------------

    def _appends_unread(self) -> bool:
        # The write reads the owner for the index rows (from plaintext properties only).
        return self._cipher.current_id is None or not self._indexes_text()

    async def _read(self, session_id: str) -> StoredSession | None:
        return await self._read_since(session_id, None)

    async def _read_since(
        self, session_id: str, after: str | None, header_tag: str | None = None
    ) -> StoredSession | None:
        args: tuple[str | None, ...] = (
            (session_id,) if after is None else (session_id, after, header_tag)
        )
        sql = self._sql_read if after is None else self._sql_read_since
        rows = await self._run("read", session_id, lambda c: c.fetch(sql, *args))
        if not rows or rows[0][0] is None:
            return None
        if not rows[0][2]:
            raise unknown_event("after", str(after), session_id)
        location = self._location(session_id)
        header, tag, unchanged = stored_header(rows[0][0], location)
        return StoredSession(header, [row[1] for row in rows[1:]], location, tag, unchanged)

    async def _read_page(self, session_id: str, page: EventPage) -> StoredPage | None:
        return (await self._page_and_removals(session_id, page, False))[1]

    async def _removals_and_page(
        self, session_id: str, page: EventPage
    ) -> tuple[list[str | bytes] | None, StoredPage | None]:
        return await self._page_and_removals(session_id, page, True)

    async def _page_and_removals(
        self, session_id: str, page: EventPage, removals: bool
    ) -> tuple[list[str | bytes] | None, StoredPage | None]:
        """The session's removal records (none unless ``removals``) and the page's rows, in
        one statement; (None, None) when the session is absent."""
        key = (removals, page.newest_first, page.after is not None, page.before is not None)
        sql = self._sql_pages[key]
        args = (session_id, page.after, page.before, page.limit)
        rows = await self._run("read", session_id, lambda c: c.fetch(sql, *args))
        status = next(row for row in rows if row["part"] == 0)
        if not status["live"]:
            return None, None
        for name, seq in (("after", "after_seq"), ("before", "before_seq")):
            event_id = getattr(page, name)
            if event_id is not None and status[seq] is None:
                raise unknown_event(name, event_id, session_id)
        # UNION ALL keeps each branch's order in practice; sorting makes it certain.
        events = sorted((r for r in rows if r["part"] == 1), key=lambda row: row["seq"])
        if page.newest_first:
            events.reverse()
        records = sorted((r for r in rows if r["part"] == 2), key=lambda row: row["seq"])
        stored = StoredPage([row["body"] for row in events], self._location(session_id))
        return [row["body"] for row in records], stored

    async def _write(self, batch: WriteBatch) -> None:
        validate_id(batch.session_id)  # refuse a forged id as every other store does
        args = (*write_args(batch, self._ttl), *summary_args(batch), *index_args(batch.search))
        sql = self._sql_write_unread if batch.header_unread else self._sql_write
        outcome = await self._run("write", batch.session_id, lambda c: c.fetchval(sql, *args))
        if outcome == 0:
            raise SessionNotFound(batch.session_id)  # deleted by another writer: stays deleted
        if outcome == -1:
            raise SessionAlreadyExists(batch.session_id)  # a new object over a stored one

    async def _swap_sealed(self, session_id: str, swaps: list[SealedSwap]) -> None:
        validate_id(session_id)
        statements = []
        for place, table, column, value in _SWAP_TABLES:
            mine = [swap for swap in swaps if swap.place == place]
            if mine:
                sql = (
                    f'UPDATE "{self.schema}".{table} t SET {value} = v.new::json'
                    " FROM unnest($2::text[], $3::text[], $4::text[]) AS v (key, expected, new)"
                    f" WHERE t.session_id = $1 AND t.{column} = v.key"
                    f" AND t.{value}::jsonb = v.expected::jsonb"
                )
                columns = ([s.key for s in mine], [s.expected for s in mine], [s.new for s in mine])
                statements.append((sql, columns))

        new_tag = f'UPDATE "{self.schema}".sessions SET header_tag = {NEW_TAG} WHERE id = $1'

        async def swap(connection: Any) -> None:
            async with connection.transaction():
                await connection.execute(new_tag, session_id)  # readers look again
                for sql, columns in statements:
                    await connection.execute(sql, session_id, *columns)

        await self._run("re-encrypt", session_id, swap)

    # -- connections and the schema -----------------------------------------------------------

    async def _run(
        self,
        action: str,
        subject: str,
        operation: Callable[[Any], Awaitable[_T]],
        *,
        needs_tables: bool = True,
    ) -> _T:
        self._ensure_open()
        pool = await self._ready(needs_tables)

        async def attempt() -> _T:
            async with pool.acquire() as connection:
                try:
                    return await operation(connection)
                except BaseException as exc:
                    if not isinstance(exc, self._server_error):
                        connection.terminate()  # broken or interrupted: never reuse it
                    raise

        return await self._guard(action, subject, attempt())

    async def _guard(self, action: str, subject: str, call: Awaitable[_T]) -> _T:
        try:
            return await within(self.timeout, call)
        except self._errors as exc:
            where = f"PostgreSQL at {_redact(self.dsn)}"
            raise storage_error(where, action, subject, exc, self.timeout) from exc

    async def _ready(self, needs_tables: bool = True) -> Any:
        if self._pool is not None and (self._schema_ready or not needs_tables):
            return self._pool
        async with self._setup_lock:
            if self._pool is None:
                self._pool = await self._guard("connect for", self.schema, self._create_pool())
            if needs_tables and not self._schema_ready:
                await self._guard("prepare schema", self.schema, self._migrate(self._pool))
                self._schema_ready = True
        return self._pool

    async def _create_pool(self) -> Any:
        asyncpg = import_asyncpg()
        self._errors = driver_errors(asyncpg)
        self._server_error = asyncpg.PostgresError
        return await asyncpg.create_pool(self.dsn, **self._pool_options)

    async def _migrate(self, pool: Any) -> None:
        async with pool.acquire() as connection:
            if await installed_version(connection, self.schema) == SCHEMA_VERSION:
                return
            async with connection.transaction():
                await connection.execute(
                    "SELECT pg_advisory_xact_lock(hashtext($1))", f"llm_sessions:{self.schema}"
                )
                version = await installed_version(connection, self.schema)
                if version > SCHEMA_VERSION:
                    raise StorageError(
                        f'Schema "{self.schema}" at {_redact(self.dsn)} has llm_sessions schema '
                        f"version {version}, newer than the {SCHEMA_VERSION} this version of "
                        "llm_sessions supports; upgrade llm-sessions or use another schema"
                    )
                if version < SCHEMA_VERSION:
                    await migrate(connection, self.schema, version)
                if 0 < version < 6 and self._indexes_text():
                    await backfill_index(connection, self.schema, self.session_class, self._cipher)

    def _location(self, session_id: str) -> str:
        return f'{_redact(self.dsn)} "{self.schema}".events session_id={session_id!r}'
