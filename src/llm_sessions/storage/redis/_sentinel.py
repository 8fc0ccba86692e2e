"""A client of a Sentinel-watched primary that finds it again on every reconnect.

redis-py's ``SentinelManagedConnection`` asks Sentinel for the primary only when a connection
is opened through the pool; when a command's retry reconnects it, it reuses the old address,
which after a failover is a replica (``ReadOnlyError`` on every retry). These classes ask
Sentinel before every connect. Imported only with the ``[redis]`` extra.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.sentinel import (
    SentinelConnectionPool,
    SentinelManagedConnection,
    SentinelManagedSSLConnection,
)

__all__ = ["BlockingSentinelPool", "SentinelPrimary", "connection_class"]


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """A Sentinel pool that waits for a free connection (up to ``timeout`` seconds) when all
    ``max_connections`` are in use, instead of failing at once."""


class SentinelPrimary(Redis):
    """The client of a Sentinel primary; closing it also closes its connections to the
    sentinels (redis-py leaves those open)."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        pool = self.connection_pool
        if isinstance(pool, SentinelConnectionPool):
            await pool.sentinel_manager.aclose()


class _PrimaryConnection(SentinelManagedConnection):
    async def connect_check_health(
        self, check_health: bool = True, retry_socket_connect: bool = True
    ) -> None:
        if self._reader is None and self.connection_pool.is_master:
            self.host, self.port = await self.connection_pool.get_master_address()
        await super().connect_check_health(
            check_health=check_health, retry_socket_connect=retry_socket_connect
        )


class _PrimaryTLSConnection(_PrimaryConnection, SentinelManagedSSLConnection):
    pass


def connection_class(tls: bool) -> type[Any]:
    """The connection class for a Sentinel primary, with or without TLS."""
    return _PrimaryTLSConnection if tls else _PrimaryConnection
