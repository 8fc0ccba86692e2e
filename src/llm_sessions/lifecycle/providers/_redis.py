"""The Redis provider: one pooled ``redis.asyncio`` client per factory.

The URL may name one server, a Sentinel-watched primary (``redis://s1:26379,s2:26379/mymaster``)
or a Cluster (``redis://n1:7000,n2:7000,n3:7000``); see ``llm_sessions.redis_urls``.

The client is created on first use (never at import or construction time) with ``from_url`` and
shared by every context the factory opens, so N operations reuse the pool's connections instead
of opening N. ``await factory.aclose()`` releases it; the next use opens a fresh pool.

A pool belongs to the event loop that opened it. Close the factory before that loop ends; if the
loop has already closed, the next use on a new loop abandons the old pool (Python reports its
sockets as unclosed) and opens a new one. Using one factory from two open loops is refused.

Driver errors surface as ``StorageError`` raised ``from`` the redis error, after at most a short
connect timeout and a couple of quick retries.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

try:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialWithJitterBackoff
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'The Redis session provider needs the `redis` package: pip install "llm-sessions[redis]"'
    ) from exc

from ...exceptions import InvalidInputError, InvalidSessionOperation, StorageError
from ...storage.redis._urls import connect_redis, parse_redis_url, redact_url
from ..inputs import check_key, check_seconds, check_value
from ..protocol import SharedSessionContext

__all__ = [
    "RedisProviderFactory",
    "RedisSession",
    "check_redis_url",
    "redact_url",
]

logger = logging.getLogger("llm_sessions.lifecycle.providers.redis")

_T = TypeVar("_T")


def check_redis_url(url: object, field: str = "redis_url") -> str:
    """Return ``url`` if it is a Redis URL: one server (``redis://``, ``rediss://``,
    ``unix://``), Sentinel or Cluster (see ``llm_sessions.redis_urls``)."""
    return parse_redis_url(url, field).url


class RedisSession:
    """The ``KeyValueSession`` of the Redis provider; commands go through the shared pool."""

    def __init__(self, client: Redis, url: str) -> None:
        self.client = client
        self._where = redact_url(url)

    async def setex(self, key: str, ttl_seconds: float, value: str, /) -> None:
        """``SET key value PX ms``: fractional seconds keep millisecond precision."""
        key = check_key(key)
        ttl_ms = max(1, math.ceil(check_seconds(ttl_seconds) * 1000))
        await self._run("SETEX", key, self.client.set(key, check_value(value), px=ttl_ms))

    async def set(self, key: str, value: str, /) -> None:
        """``SET key value`` without expiry."""
        key = check_key(key)
        await self._run("SET", key, self.client.set(key, check_value(value)))

    async def get(self, key: str, /) -> str | None:
        """``GET key``; None when absent or expired."""
        key = check_key(key)
        value = await self._run("GET", key, self.client.get(key))
        return value.decode() if isinstance(value, bytes) else value

    async def delete(self, key: str, /) -> bool:
        """``DEL key``; True if it existed."""
        key = check_key(key)
        removed: int = await self._run("DEL", key, self.client.delete(key))
        return removed > 0

    async def _run(self, command: str, key: str, call: Awaitable[_T]) -> _T:
        try:
            return await call
        except (RedisError, OSError) as exc:
            raise StorageError(f"Redis {command} {key!r} failed at {self._where}: {exc}") from exc


class RedisProviderFactory:
    """Opens contexts that share one lazily created, pooled Redis client.

    ``tls_insecure=True`` turns off certificate and host name checks for ``rediss://`` URLs.
    ``connect_timeout`` and ``socket_timeout`` (seconds) bound how long a dead server can stall
    an operation; ``retries`` quick retries follow a dropped connection. Extra keyword arguments
    go to ``Redis.from_url``.
    """

    def __init__(
        self,
        url: str,
        *,
        tls_insecure: bool = False,
        connect_timeout: float = 2.0,
        socket_timeout: float = 5.0,
        retries: int = 2,
        max_connections: int | None = None,
        **redis_kwargs: Any,
    ) -> None:
        self.url = check_redis_url(url)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise InvalidInputError("retries", retries, "must be an integer from 0 to 10")
        self.tls_insecure = tls_insecure
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_connect_timeout": check_seconds(connect_timeout, "connect_timeout"),
            "socket_timeout": check_seconds(socket_timeout, "socket_timeout"),
            "retry": Retry(ExponentialWithJitterBackoff(cap=0.2, base=0.01), retries),
        }
        if max_connections is not None:
            options["max_connections"] = max_connections
        if tls_insecure and self.url.lower().startswith("rediss://"):
            options["ssl_cert_reqs"] = "none"
            options["ssl_check_hostname"] = False
        options.update(redis_kwargs)
        self._options = options
        self._client: Redis | None = None
        self._session: RedisSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._context = SharedSessionContext(self._session_for_running_loop)

    def __call__(self) -> AbstractAsyncContextManager[RedisSession]:
        """Open a context yielding a ``RedisSession`` on the shared client."""
        return self._context

    @property
    def client(self) -> Redis | None:
        """The shared client, or None before first use and after ``aclose()``."""
        return self._client

    async def aclose(self) -> None:
        """Close the shared client and its pool; a later use opens a new one."""
        client, self._client, self._session, self._loop = self._client, None, None, None
        if client is None:
            return
        try:
            await client.aclose()
        except (RedisError, OSError) as exc:
            raise StorageError(f"Closing the Redis pool at {redact_url(self.url)} failed") from exc

    def _session_for_running_loop(self) -> RedisSession:
        loop = asyncio.get_running_loop()
        if self._session is not None and self._loop is loop:
            return self._session
        if self._loop is not None and self._loop is not loop:
            self._abandon_or_refuse()
        self._client = connect_redis(parse_redis_url(self.url), **self._options)
        self._session = RedisSession(self._client, self.url)
        self._loop = loop
        return self._session

    def _abandon_or_refuse(self) -> None:
        assert self._loop is not None
        if not self._loop.is_closed():
            raise InvalidSessionOperation(
                "use this Redis session factory",
                "its connection pool belongs to another event loop that is still open; "
                "close the factory there first, or create one factory per event loop",
            )
        logger.warning(
            "Redis session pool for %s was left open when its event loop closed; "
            "abandoning it (await factory.aclose() before the loop ends)",
            redact_url(self.url),
        )
        self._client = self._session = self._loop = None
