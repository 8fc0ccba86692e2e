"""Sessions in Redis: a header of small keys plus an append-only event list per session.

Every key of one session carries the session id as a Cluster hash tag (``P{id}:meta``,
``P{id}:events``, ... under the key prefix ``P``); the layout and the write script are in
``redis_script``. Keep braces out of the key prefix: a ``{`` there would become every key's
hash tag and put all sessions in one Cluster slot.

A save is one ``EVALSHA`` of a registered Lua script that applies the whole batch atomically;
a load is one ``MULTI`` of reads. ``list_sessions`` scans for ``P{*}:meta`` keys;
``find_sessions`` and ``usage`` read the index of sorted sets (see ``redis_index``).

``redis`` is an optional dependency (``pip install "llm-sessions[redis]"``), imported only when
a store is created.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from ...exceptions import (
    CorruptSessionData,
    EncryptionKeyError,
    InvalidInputError,
    SessionAlreadyExists,
    SessionNotFound,
    StorageError,
)
from ...models._session import Session
from ...validation import validate_id, validate_seconds
from .._base import StoreState
from .._event_page import EventPage, unknown_event
from .._faults import DEFAULT_TIMEOUT, check_timeout, storage_error, within
from .._options import StoreOptionArgs, StoreOptions
from .._prefix import check_prefix
from .._records import StoredPage, StoredSession, build_session, unreadable_rows
from .._reseal import SealedSwap
from .._sync import WriteBatch
from .._url_parts import parse_seconds, parse_timeout, split_query
from ._client import (
    _as_dict,
    _close_unawaited,
    _digest,
    _driver_errors,
    _ms,
    _ordered_runs,
    _pooled_client,
    _text,
    client_for_url,
    stored_header,
)
from ._index_query import RedisIndexQueries
from ._page_script import PAGE_SCRIPT, REMOVALS_AND_PAGE_SCRIPT, page_args, page_keys, page_reply
from ._script import (
    CORRUPT_REPLY,
    REMOVALS_SCRIPT,
    SINCE_SCRIPT,
    SWAP_SCRIPT,
    WRITE_SCRIPT,
    any_key_pattern,
    meta_key_pattern,
    removals_keys,
    script_args,
    session_id_of,
    session_keys,
    swap_keys_and_args,
)
from ._vacuum import MOVE_EVENTS_SCRIPT, MOVE_SESSION_SCRIPT, quarantine_keys, unlink_matching

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisSessionStore", "create_redis_session_store"]

_T = TypeVar("_T")
logger = logging.getLogger("llm_sessions.storage")


class RedisSessionStore(RedisIndexQueries):
    """Sessions in Redis, one hash-tagged group of keys per session (see ``redis_script``).

    ``redis_client`` is a ``redis.asyncio.Redis``; the store never closes an injected client
    unless ``owns_client=True`` (as ``from_url`` and ``create_redis_session_store`` do).
    ``expiration_seconds`` makes every save (re)start the session's time to live; without it a
    session lives until deleted or given a TTL with ``set_expiration``. ``timeout`` bounds
    every operation (``StorageError`` when it passes, for example while the server is frozen).
    """

    def __init__(
        self,
        redis_client: Redis,
        key_prefix: str = "session:",
        expiration_seconds: float | None = None,
        session_class: type[Session[Any]] = Session,
        *,
        owns_client: bool = False,
        **options: Unpack[StoreOptionArgs],
    ) -> None:
        super().__init__(StoreOptions(session_class, expiration_seconds, **options))
        if not isinstance(key_prefix, str):
            raise InvalidInputError("key_prefix", key_prefix, "must be a string")
        ttl_ms = _ms(self.expiration_seconds)
        self._ttl_ms = "" if ttl_ms is None else str(ttl_ms)
        self.client = redis_client
        self.key_prefix = key_prefix
        self._owns_client = owns_client
        self._where: str | None = None
        self._cluster = type(redis_client).__name__ == "RedisCluster"
        # A Cluster client maps its nodes on first use; doing that before the first
        # transaction keeps redis-py from mapping them on another event loop.
        self._initialize: Callable[[], Awaitable[Any]] | None = getattr(
            redis_client, "initialize", None
        )
        self._errors = _driver_errors()
        self._write_script = redis_client.register_script(WRITE_SCRIPT)
        self._page_script = redis_client.register_script(PAGE_SCRIPT)
        self._since_script = redis_client.register_script(SINCE_SCRIPT)
        self._removals_script = redis_client.register_script(REMOVALS_SCRIPT)
        self._both_script = redis_client.register_script(REMOVALS_AND_PAGE_SCRIPT)
        self._move_session = redis_client.register_script(MOVE_SESSION_SCRIPT)
        self._move_events = redis_client.register_script(MOVE_EVENTS_SCRIPT)
        self._swap_script = redis_client.register_script(SWAP_SCRIPT)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisSessionStore:
        """A store on a client it creates (and closes) from a ``redis://`` or ``rediss://`` URL:
        one server, Sentinel (``redis://s1:26379,s2:26379/mymaster``) or Cluster
        (``redis://n1:7000,n2:7000,n3:7000``), see ``llm_sessions.redis_urls``.

        The query may set ``key_prefix``, ``expiration_seconds`` and ``timeout`` (also the
        pool's socket timeouts); other query parameters and
        keyword arguments that are not the store's go to the connection pool
        (``redis.asyncio.BlockingConnectionPool.from_url``, at most 50 connections unless
        ``max_connections`` says otherwise). No connection is made until first use.
        """
        store_options, driver_url = split_query(
            url,
            {"key_prefix": str, "expiration_seconds": parse_seconds, "timeout": parse_timeout},
        )
        for name in (*_STORE_OPTIONS, *StoreOptionArgs.__optional_keys__):
            if name in kwargs:
                store_options[name] = kwargs.pop(name)
        timeout = check_timeout(store_options.get("timeout", DEFAULT_TIMEOUT))
        client, where = client_for_url(driver_url, kwargs, timeout)
        store = cls(client, owns_client=True, **store_options)
        store._where = where
        return store

    # -- the store contract ------------------------------------------------------------------

    async def delete(self, session_id: str) -> bool:
        validate_id(session_id)
        self._ensure_open()
        return await self._delete_session(session_id)

    async def list_sessions(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        self._ensure_open()
        pattern = meta_key_pattern(self.key_prefix, prefix)
        found: set[str] = set()

        async def scan() -> None:
            async for key in self.client.scan_iter(match=pattern, count=1000):
                found.add(session_id_of(self.key_prefix, _text(key)))

        await self._call("list sessions", self.key_prefix + "{*}", scan())
        return sorted(found)

    async def set_expiration(self, session_id: str, seconds: float | None) -> bool:
        """Expire all of the session's keys ``seconds`` from now (None: never), atomically."""
        validate_id(session_id)
        self._ensure_open()
        ttl_ms = _ms(validate_seconds(seconds, "seconds"))
        keys = self._keys(session_id)
        pipe = self._pipeline()
        pipe.exists(keys[0])
        for key in keys:
            if ttl_ms is None:
                pipe.persist(key)
            else:
                pipe.pexpire(key, ttl_ms)
        replies = await self._call("set expiration of", session_id, pipe.execute())
        return bool(replies[0])

    async def flush(self) -> None:
        """Nothing to do: every save is written to Redis before it returns (no write buffer)."""
        self._ensure_open()

    async def drop_all(self) -> int:
        """Delete every session key under this store's prefix; returns how many keys went.

        Only keys shaped like ``{prefix}{<id>}:<part>`` are touched.
        """
        self._ensure_open()
        drop = unlink_matching(self.client, any_key_pattern(self.key_prefix))
        return await self._call("drop the sessions under", self.key_prefix, drop)

    async def vacuum(self) -> int:
        """Move unreadable data aside (see ``redis_vacuum``) and rebuild the index of
        sessions (see ``redis_index``); returns how many sessions were affected."""
        self._ensure_open()
        affected = 0
        for session_id in await self.list_sessions():
            keys = self._keys(session_id)
            try:
                stored = await self._read(session_id)
                if stored is None:
                    continue
                build_session(self.session_class, session_id, replace(stored, events=[]), self)
            except CorruptSessionData:
                moving = self._move_session(keys=keys + quarantine_keys(keys))
                await self._call("quarantine", session_id, moving)
                affected += 1
                continue
            bad = unreadable_rows(self.session_class, stored.events)
            if bad:
                moved = quarantine_keys(keys)
                moving = self._move_events(
                    keys=[keys[7], keys[8], moved[7], keys[0], keys[10], moved[-1]], args=bad
                )
                await self._call("quarantine events of", session_id, moving)
                logger.warning("Moved %d unreadable event rows of %s", len(bad), stored.location)
                affected += 1
        if self._keeps_summary_rows():
            with suppress(EncryptionKeyError):  # sealed sessions: listings without the key refuse
                await self.rebuild_index()
        return affected

    async def close(self) -> None:
        """Close the client if this store created it; an injected client stays open."""
        if self.state is StoreState.CLOSED:
            return
        await super().close()
        if self._owns_client:
            await self._call("close the client of", self.key_prefix, self.client.aclose())

    # -- the event log -----------------------------------------------------------------------

    def _appends_unread(self) -> bool:
        return True  # no text index: the write script merges an empty header

    async def _read(self, session_id: str) -> StoredSession | None:
        return await self._read_since(session_id, None)

    async def _read_since(
        self, session_id: str, after: str | None, header_tag: str | None = None
    ) -> StoredSession | None:
        keys = self._keys(session_id)
        if after is None:
            meta, children, tasks, runs, run_order, state, props, events = keys[:8]
            pipe = self._pipeline()
            pipe.hgetall(meta)
            pipe.zrange(children, 0, -1)
            pipe.zrange(tasks, 0, -1)
            pipe.hgetall(runs)
            pipe.zrange(run_order, 0, -1)
            pipe.hgetall(state)
            pipe.hgetall(props)
            pipe.lrange(events, 0, -1)
            replies = await self._call("read", session_id, pipe.execute())
            header_fields, child_ids, task_ids, run_bodies, run_ids, state_raw, props_raw, rows = (
                replies
            )
        else:
            reply = await self._call("read", session_id, self._since_script(keys, [after]))
            if reply is None:
                return None
            if _text(reply[0]):
                raise unknown_event("after", after, session_id)
            meta_flat, child_ids, task_ids, runs_flat, run_ids, state_flat, props_flat, rows = (
                reply[1:]
            )
            header_fields, run_bodies, state_raw, props_raw = map(
                _as_dict, (meta_flat, runs_flat, state_flat, props_flat)
            )
        if not header_fields:
            return None
        fields = {_text(k): _text(v) for k, v in header_fields.items()}
        # The tag is a digest of the header's parts as read: when it is the reader's, decoding
        # them (thousands of children, say) would only give what the reader holds.
        parts = (child_ids, task_ids, run_bodies, run_ids, state_raw, props_raw)
        tag = _digest(fields.get("parent_id"), parts)
        unchanged = header_tag == tag
        header = stored_header(
            lambda: self._location(keys[0]),
            fields,
            [] if unchanged else child_ids,
            [] if unchanged else task_ids,
            [] if unchanged else _ordered_runs(run_bodies, run_ids),
            {} if unchanged else state_raw,
            {} if unchanged else props_raw,
        )
        return StoredSession(header, rows, self._location(keys[7]), tag, unchanged)

    async def _removal_rows(self, session_id: str) -> list[str | bytes] | None:
        call = self._removals_script(keys=removals_keys(self.key_prefix, session_id))
        rows: list[str | bytes] | None = await self._call("read", session_id, call)
        return rows

    async def _read_page(self, session_id: str, page: EventPage) -> StoredPage | None:
        if page == EventPage():  # the whole log, without a script copying every row
            keys = self._keys(session_id)
            pipe = self._pipeline()
            pipe.exists(keys[0])
            pipe.lrange(keys[7], 0, -1)
            found, rows = await self._call("read", session_id, pipe.execute())
            return StoredPage(rows, self._location(keys[7])) if found else None
        return (await self._page(session_id, page, False))[1]

    async def _removals_and_page(
        self, session_id: str, page: EventPage
    ) -> tuple[list[str | bytes] | None, StoredPage | None]:
        if page == EventPage():
            return await super()._removals_and_page(session_id, page)
        return await self._page(session_id, page, True)

    async def _page(
        self, session_id: str, page: EventPage, removals: bool
    ) -> tuple[list[str | bytes] | None, StoredPage | None]:
        """A page script's answer: the removal records too when ``removals``, in one call."""
        keys = page_keys(self.key_prefix, session_id)
        script = self._both_script if removals else self._page_script
        args = page_args(page.after, page.before, page.limit, page.newest_first)
        reply = await self._call("read", session_id, script(keys=keys, args=args))
        return page_reply(reply, page, session_id, self._location(keys[1]), removals)

    async def _write(self, batch: WriteBatch) -> None:
        validate_id(batch.session_id)  # the id names keys: never trust a forged one
        # Encoded here in one pass: redis-py would test each argument's type on the way.
        args = [arg.encode() for arg in script_args(batch, self._ttl_ms, self._index_arg())]
        keys = self._keys(batch.session_id)
        try:
            call = self._write_script(keys=keys, args=args)
            outcome = await self._call("write", batch.session_id, call)
        except StorageError as exc:
            reason = str(exc.__cause__)
            if not reason.startswith(CORRUPT_REPLY):
                raise
            location = self._location(keys[0])
            logger.warning("Unreadable session header at %s: %s", location, reason)
            raise CorruptSessionData(location, reason[len(CORRUPT_REPLY) :]) from exc.__cause__
        if outcome == 0:
            raise SessionNotFound(batch.session_id)  # deleted by another writer: stays deleted
        if outcome == -1:
            raise SessionAlreadyExists(batch.session_id)  # a new object over a stored one
        await self._after_write(batch.session_id)

    async def _swap_sealed(self, session_id: str, swaps: list[SealedSwap]) -> None:
        validate_id(session_id)
        keys, args = swap_keys_and_args(self.key_prefix, session_id, swaps)
        await self._call("re-encrypt", session_id, self._swap_script(keys=keys, args=args))

    # -- helpers -----------------------------------------------------------------------------

    def _pipeline(self) -> Any:
        """A MULTI/EXEC pipeline; on a Cluster a plain pipeline of the session's keys (one slot,
        one node, one round trip) because redis-py's asyncio Cluster transactions open
        connections on an event loop of their own. Writes are one atomic script either way."""
        return self.client.pipeline(transaction=not self._cluster)

    def _keys(self, session_id: str) -> list[str]:
        return session_keys(self.key_prefix, session_id)

    def _server(self) -> str:
        if self._where is not None:
            return self._where
        pool = getattr(self.client, "connection_pool", None)
        if pool is None:
            return type(self.client).__name__
        kwargs = pool.connection_kwargs
        if "path" in kwargs:
            return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
        return f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"

    def _location(self, key: str) -> str:
        return f"{self._server()} key {key!r}"

    async def _initialize_once(self, pending: Awaitable[Any]) -> None:
        assert self._initialize is not None
        try:
            await self._initialize()
        except BaseException:
            _close_unawaited(pending)
            raise
        self._initialize = None

    async def _call(self, action: str, subject: str, call: Awaitable[_T]) -> _T:
        try:
            if self._initialize is not None:
                await self._initialize_once(call)
            return await within(self.timeout, call)
        except self._errors as exc:
            where = f"Redis at {self._server()}"
            raise storage_error(where, action, subject, exc, self.timeout) from exc


_STORE_OPTIONS = (
    "key_prefix",
    "expiration_seconds",
    "session_class",
    "max_event_bytes",
    "timeout",
)


async def create_redis_session_store(
    host: str = "localhost",
    port: int = 6379,
    db: int = 0,
    password: str | None = None,
    key_prefix: str = "session:",
    expiration_seconds: float | None = None,
    **redis_kwargs: Any,
) -> RedisSessionStore:
    """Connect to Redis (checked with a ``PING``) and return a store that owns the client.

    ``redis_kwargs`` go to the connection pool (for example ``ssl=True``, ``username``,
    ``max_connections``, default 50); ``timeout`` (default 10 seconds) bounds every operation.
    An unreachable server raises ``StorageError`` from the driver's error.
    """
    session_class = redis_kwargs.pop("session_class", Session)
    timeout = check_timeout(redis_kwargs.pop("timeout", DEFAULT_TIMEOUT))
    client = _pooled_client(
        None, {"host": host, "port": port, "db": db, "password": password, **redis_kwargs}, timeout
    )
    store = RedisSessionStore(
        client,
        key_prefix=key_prefix,
        expiration_seconds=expiration_seconds,
        session_class=session_class,
        owns_client=True,
        timeout=timeout,
    )
    try:
        await within(timeout, client.ping())
    except _driver_errors() as exc:
        await client.aclose()
        raise StorageError(f"Redis at {host}:{port}/{db} does not answer: {exc}") from exc
    return store
