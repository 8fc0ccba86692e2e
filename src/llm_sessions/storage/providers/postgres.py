"""Sessions in PostgreSQL (asyncpg): a header row, its merge tables and an append-only event log.

All tables live in one schema (``llm_sessions`` unless told otherwise), created and versioned on
first use under an advisory lock, so two processes starting at once do not collide::

    schema_version  the layout version of this schema (a newer one than ours is refused)
    sessions        id, parent_id, created_at, updated_at, expires_at
    children/tasks  (session_id, id), ordered by an identity column
    runs            (session_id, run_id) -> run JSON, ordered by first insertion
    state/properties (session_id, key) -> value JSON
    events          identity seq (the log order), session_id, event_id (unique per session), body

Values are stored as ``json`` (the text exactly as written, validated), not ``jsonb``. A save is
one call of the schema's ``write_batch`` function: one round trip and one transaction, holding
the session row's lock so concurrent writers to one session append in commit order. A load is one
statement. ``asyncpg`` is an optional dependency (``pip install "llm-sessions[postgres]"``),
imported when the pool is first needed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ...exceptions import CorruptSessionData, InvalidInputError, StorageError
from ...models.session import Session
from ...validation import validate_id
from ..base import StoreState
from ..event_log import EventLogStore
from ..records import StoredHeader, StoredSession
from ..sync import WriteBatch

__all__ = ["SCHEMA_VERSION", "PostgresSessionStore"]

logger = logging.getLogger("llm_sessions.storage")
_T = TypeVar("_T")

SCHEMA_VERSION = 1
"""The table layout this version of llm_sessions writes and reads."""

DEFAULT_SCHEMA = "llm_sessions"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_TABLES = ("events", "state", "properties", "runs", "tasks", "children", "sessions")

_CREATE_V1 = """
CREATE TABLE {s}.sessions (
    id text COLLATE "C" PRIMARY KEY,
    parent_id text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    expires_at timestamptz
);
CREATE INDEX sessions_expires_at ON {s}.sessions (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE {s}.children (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    child_id text NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (session_id, child_id)
);
CREATE TABLE {s}.tasks (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    task_id text NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (session_id, task_id)
);
CREATE TABLE {s}.runs (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    run_id text NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    body json NOT NULL,
    PRIMARY KEY (session_id, run_id)
);
CREATE TABLE {s}.state (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    key text NOT NULL,
    value json NOT NULL,
    PRIMARY KEY (session_id, key)
);
CREATE TABLE {s}.properties (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    key text NOT NULL,
    value json NOT NULL,
    PRIMARY KEY (session_id, key)
);
CREATE TABLE {s}.events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    event_id text NOT NULL,
    body json NOT NULL,
    UNIQUE (session_id, event_id)
);
CREATE INDEX events_log ON {s}.events (session_id, seq);

CREATE FUNCTION {s}.write_batch(
    p_id text, p_created timestamptz, p_updated timestamptz, p_parent text, p_ttl float8,
    p_children_add text[], p_children_del text[], p_tasks_add text[], p_tasks_del text[],
    p_run_ids text[], p_run_bodies text[], p_runs_del text[],
    p_state_keys text[], p_state_values text[], p_state_del text[],
    p_prop_keys text[], p_prop_values text[], p_props_del text[],
    p_event_ids text[], p_event_bodies text[], p_edit_ids text[], p_edit_bodies text[],
    p_parent_changed boolean
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- An expired session is gone: a save after expiry starts it afresh.
    DELETE FROM {s}.sessions WHERE id = p_id AND expires_at <= now();
    -- Upserting the row locks it until commit: writers to one session queue here.
    INSERT INTO {s}.sessions AS s (id, parent_id, created_at, updated_at, expires_at)
    VALUES (p_id, p_parent, p_created, p_updated, now() + p_ttl * interval '1 second')
    ON CONFLICT (id) DO UPDATE SET
        parent_id = CASE WHEN p_parent_changed THEN excluded.parent_id ELSE s.parent_id END,
        updated_at = excluded.updated_at,
        expires_at = COALESCE(excluded.expires_at, s.expires_at);
    IF cardinality(p_children_add) > 0 THEN
        INSERT INTO {s}.children (session_id, child_id)
        SELECT p_id, c.id FROM unnest(p_children_add) WITH ORDINALITY AS c(id, n) ORDER BY c.n
        ON CONFLICT DO NOTHING;
    END IF;
    IF cardinality(p_children_del) > 0 THEN
        DELETE FROM {s}.children WHERE session_id = p_id AND child_id = ANY (p_children_del);
    END IF;
    IF cardinality(p_tasks_add) > 0 THEN
        INSERT INTO {s}.tasks (session_id, task_id)
        SELECT p_id, t.id FROM unnest(p_tasks_add) WITH ORDINALITY AS t(id, n) ORDER BY t.n
        ON CONFLICT DO NOTHING;
    END IF;
    IF cardinality(p_tasks_del) > 0 THEN
        DELETE FROM {s}.tasks WHERE session_id = p_id AND task_id = ANY (p_tasks_del);
    END IF;
    IF cardinality(p_run_ids) > 0 THEN
        INSERT INTO {s}.runs (session_id, run_id, body)
        SELECT p_id, r.id, r.body::json
        FROM unnest(p_run_ids, p_run_bodies) WITH ORDINALITY AS r(id, body, n) ORDER BY r.n
        ON CONFLICT (session_id, run_id) DO UPDATE SET body = excluded.body;
    END IF;
    IF cardinality(p_runs_del) > 0 THEN
        DELETE FROM {s}.runs WHERE session_id = p_id AND run_id = ANY (p_runs_del);
    END IF;
    IF cardinality(p_state_keys) > 0 THEN
        INSERT INTO {s}.state (session_id, key, value)
        SELECT p_id, v.key, v.value::json FROM unnest(p_state_keys, p_state_values) AS v(key, value)
        ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value;
    END IF;
    IF cardinality(p_state_del) > 0 THEN
        DELETE FROM {s}.state WHERE session_id = p_id AND key = ANY (p_state_del);
    END IF;
    IF cardinality(p_prop_keys) > 0 THEN
        INSERT INTO {s}.properties (session_id, key, value)
        SELECT p_id, v.key, v.value::json FROM unnest(p_prop_keys, p_prop_values) AS v(key, value)
        ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value;
    END IF;
    IF cardinality(p_props_del) > 0 THEN
        DELETE FROM {s}.properties WHERE session_id = p_id AND key = ANY (p_props_del);
    END IF;
    IF cardinality(p_event_ids) > 0 THEN
        INSERT INTO {s}.events (session_id, event_id, body)
        SELECT p_id, e.id, e.body::json
        FROM unnest(p_event_ids, p_event_bodies) WITH ORDINALITY AS e(id, body, n) ORDER BY e.n
        ON CONFLICT (session_id, event_id) DO NOTHING;
    END IF;
    IF cardinality(p_edit_ids) > 0 THEN
        UPDATE {s}.events AS e SET body = u.body::json
        FROM unnest(p_edit_ids, p_edit_bodies) AS u(id, body)
        WHERE e.session_id = p_id AND e.event_id = u.id;
    END IF;
END
$$;
"""

_LIVE = "(expires_at IS NULL OR expires_at > now())"

# One statement (one snapshot, one round trip): the header as a JSON object in the first row,
# then one row per event in log order. Rows are cheaper to fetch than one 10,000-element array.
_READ = """
SELECT header, body FROM (
    SELECT 0 AS part, 0::bigint AS seq, json_build_object(
        'parent_id', s.parent_id,
        'created_at', s.created_at,
        'updated_at', s.updated_at,
        'child_ids', ARRAY(SELECT child_id FROM {s}.children WHERE session_id = s.id ORDER BY seq),
        'task_ids', ARRAY(SELECT task_id FROM {s}.tasks WHERE session_id = s.id ORDER BY seq),
        'runs', ARRAY(SELECT body::text FROM {s}.runs WHERE session_id = s.id ORDER BY seq),
        'state', (SELECT json_object_agg(key, value) FROM {s}.state WHERE session_id = s.id),
        'properties',
            (SELECT json_object_agg(key, value) FROM {s}.properties WHERE session_id = s.id)
    )::text AS header, NULL::json AS body
    FROM {s}.sessions AS s
    WHERE s.id = $1 AND (s.expires_at IS NULL OR s.expires_at > now())
    UNION ALL
    SELECT 1, e.seq, NULL, e.body
    FROM {s}.events AS e
    WHERE e.session_id = $1 AND EXISTS (
        SELECT FROM {s}.sessions AS s
        WHERE s.id = $1 AND (s.expires_at IS NULL OR s.expires_at > now())
    )
) AS log
ORDER BY part, seq
"""

_WRITE = "SELECT {s}.write_batch(" + ", ".join(f"${n}" for n in range(1, 24)) + ")"


def _import_asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError as exc:
        raise ImportError(
            "The PostgreSQL session store needs the `asyncpg` package: "
            'pip install "llm-sessions[postgres]"'
        ) from exc
    return asyncpg


def _driver_errors(asyncpg: Any) -> tuple[type[BaseException], ...]:
    return (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def _check_schema(schema: object) -> str:
    if not isinstance(schema, str) or not _IDENTIFIER.fullmatch(schema):
        raise InvalidInputError(
            "schema",
            schema,
            "must be 1-63 letters, digits or underscores, not starting with a digit",
        )
    return schema


def _seconds(value: float | None, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, value, "must be a number of seconds (or None: never)")
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError(field, value, "must be > 0 and finite (or None: never)")
    return float(value)


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


class PostgresSessionStore(EventLogStore):
    """Sessions in PostgreSQL tables in ``schema`` (see the module docstring).

    ``dsn`` is an asyncpg DSN (``postgresql://user:password@host:port/db``). The connection pool
    (``min_size``..``max_size`` connections) and the tables are created on first use, never
    here. ``connect_timeout`` bounds how long an unreachable server can stall that first use;
    ``expiration_seconds`` makes every save (re)start the session's time to live.
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
        **connect_kwargs: Any,
    ) -> None:
        super().__init__(session_class=session_class, expiration_seconds=expiration_seconds)
        self.dsn = dsn
        self.schema = _check_schema(schema)
        self._ttl = _seconds(expiration_seconds, "expiration_seconds")
        self._pool_options: dict[str, Any] = {
            "min_size": min_size,
            "max_size": max_size,
            "timeout": _seconds(connect_timeout, "connect_timeout"),
            "reset": _keep_session,
            **connect_kwargs,
        }
        self._pool: Any = None
        self._schema_ready = False
        self._setup_lock = asyncio.Lock()
        self._errors: tuple[type[BaseException], ...] = (OSError, TimeoutError)
        q = f'"{self.schema}"'
        self._sql_read = _READ.format(s=q)
        self._sql_write = _WRITE.format(s=q)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> PostgresSessionStore:
        """A store for a ``postgresql://`` (or ``postgres://``) URL.

        The query may set ``schema`` and ``expiration_seconds``; the rest of the URL is the
        asyncpg DSN. Keyword arguments go to the constructor.
        """
        parts = urlsplit(url)
        options: dict[str, Any] = {}
        driver_query: list[tuple[str, str]] = []
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name == "schema":
                options[name] = value
            elif name == "expiration_seconds":
                options[name] = _parse_seconds(name, value)
            else:
                driver_query.append((name, value))
        dsn = urlunsplit(parts._replace(query=urlencode(driver_query)))
        return cls(dsn, **{**options, **kwargs})

    # -- the store contract ------------------------------------------------------------------

    async def delete(self, session_id: str) -> bool:
        validate_id(session_id)
        sql = f'DELETE FROM "{self.schema}".sessions WHERE id = $1 RETURNING {_LIVE}'
        live = await self._run("delete", session_id, lambda c: c.fetchval(sql, session_id))
        return bool(live)

    async def list_sessions(self, prefix: str = "") -> list[str]:
        sql = f'SELECT id FROM "{self.schema}".sessions WHERE id LIKE $1 AND {_LIVE} ORDER BY id'
        rows = await self._run(
            "list sessions", prefix, lambda c: c.fetch(sql, _like_prefix(prefix))
        )
        return [row[0] for row in rows]

    async def set_expiration(self, session_id: str, seconds: float | None) -> bool:
        """Expire the session ``seconds`` from now (None: never); True if it exists."""
        validate_id(session_id)
        ttl = _seconds(seconds, "seconds")
        sql = (
            f'UPDATE "{self.schema}".sessions '
            "SET expires_at = now() + $2::float8 * interval '1 second' "
            f"WHERE id = $1 AND {_LIVE}"
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
            names = ", ".join(f"public.{table}" for table in (*_TABLES, "schema_version"))
            sql = (
                f"DROP TABLE IF EXISTS {names} CASCADE; DROP FUNCTION IF EXISTS public.write_batch"
            )
        else:
            sql = f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'
        await self._run("drop", self.schema, lambda c: c.execute(sql), needs_tables=False)
        self._schema_ready = False

    async def close(self) -> None:
        """Close the connection pool (waiting for connections in use). Idempotent."""
        if self.state is StoreState.CLOSED:
            return
        await super().close()
        pool, self._pool = self._pool, None
        if pool is not None:
            await self._guard("close the pool of", self.schema, pool.close())

    # -- the event log -----------------------------------------------------------------------

    async def _read(self, session_id: str) -> StoredSession | None:
        rows = await self._run("read", session_id, lambda c: c.fetch(self._sql_read, session_id))
        if not rows or rows[0][0] is None:
            return None
        location = self._location(session_id)
        header = _stored_header(rows[0][0], location)
        return StoredSession(header, [row[1] for row in rows[1:]], location)

    async def _write(self, batch: WriteBatch) -> None:
        validate_id(batch.session_id)  # refuse a forged id as every other store does
        header = batch.header
        args = (
            batch.session_id,
            header.created_at,
            header.updated_at,
            header.parent_id,
            self._ttl,
            header.children_added,
            header.children_removed,
            header.tasks_added,
            header.tasks_removed,
            list(header.runs_upserted),
            list(header.runs_upserted.values()),
            header.runs_removed,
            list(header.state_set),
            list(header.state_set.values()),
            header.state_removed,
            list(header.properties_set),
            list(header.properties_set.values()),
            header.properties_removed,
            [event_id for event_id, _ in batch.appended],
            [body for _, body in batch.appended],
            [event_id for event_id, _ in batch.updated],
            [body for _, body in batch.updated],
            header.parent_changed,
        )
        await self._run("write", batch.session_id, lambda c: c.execute(self._sql_write, *args))

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
                return await operation(connection)

        return await self._guard(action, subject, attempt())

    async def _guard(self, action: str, subject: str, call: Awaitable[_T]) -> _T:
        try:
            return await call
        except self._errors as exc:
            raise StorageError(
                f"PostgreSQL at {_redact(self.dsn)} could not {action} {subject!r}: {exc}"
            ) from exc

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
        asyncpg = _import_asyncpg()
        self._errors = _driver_errors(asyncpg)
        return await asyncpg.create_pool(self.dsn, **self._pool_options)

    async def _migrate(self, pool: Any) -> None:
        async with pool.acquire() as connection:
            if await self._version(connection) == SCHEMA_VERSION:
                return
            async with connection.transaction():
                await connection.execute(
                    "SELECT pg_advisory_xact_lock(hashtext($1))", f"llm_sessions:{self.schema}"
                )
                version = await self._version(connection)
                if version > SCHEMA_VERSION:
                    raise StorageError(
                        f'Schema "{self.schema}" at {_redact(self.dsn)} has llm_sessions schema '
                        f"version {version}, newer than the {SCHEMA_VERSION} this version of "
                        "llm_sessions supports; upgrade llm-sessions or use another schema"
                    )
                if version == 0:
                    await self._create_v1(connection)

    async def _version(self, connection: Any) -> int:
        # Ask pg_tables (read with this statement's snapshot), not to_regclass: name lookups go
        # through a cache that waiting on an advisory lock does not refresh, so it could still
        # miss a table another process created meanwhile.
        exists = await connection.fetchval(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_tables "
            "WHERE schemaname = $1 AND tablename = 'schema_version')",
            self.schema,
        )
        if not exists:
            return 0
        version = await connection.fetchval(
            f'SELECT max(version) FROM "{self.schema}".schema_version'
        )
        return int(version or 0)

    async def _create_v1(self, connection: Any) -> None:
        q = f'"{self.schema}"'
        await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {q}")
        await connection.execute(_CREATE_V1.format(s=q))
        await connection.execute(f"CREATE TABLE {q}.schema_version (version integer NOT NULL)")
        await connection.execute(
            f"INSERT INTO {q}.schema_version (version) VALUES ($1)", SCHEMA_VERSION
        )

    def _location(self, session_id: str) -> str:
        return f'{_redact(self.dsn)} "{self.schema}".events session_id={session_id!r}'


def _stored_header(text: str, location: str) -> StoredHeader:
    try:
        fields = json.loads(text)
        return StoredHeader(
            created_at=datetime.fromisoformat(fields["created_at"]),
            updated_at=datetime.fromisoformat(fields["updated_at"]),
            parent_id=fields["parent_id"],
            child_ids=fields["child_ids"],
            task_ids=fields["task_ids"],
            runs=fields["runs"],
            state=fields["state"] or {},
            properties=fields["properties"] or {},
        )
    except (KeyError, TypeError, ValueError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        logger.warning("Unreadable session header at %s: %s", location, reason)
        raise CorruptSessionData(location, reason) from exc


def _parse_seconds(field: str, value: str) -> float | None:
    if value.lower() in ("", "none"):
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise InvalidInputError(field, value, "must be a number of seconds") from exc
