"""Redis URLs for one server, a Sentinel-watched primary or a Cluster, and a client for each.

=======================================================  ====================================
``redis://[user:password@]host:6379/0``                  one server (``rediss://``: TLS;
                                                         ``unix:///path.sock``: a socket)
``redis://[user:password@]s1:26379,s2:26379/mymaster``   Sentinel: the sentinels, then the
                                                         primary's service name (``/db`` may
                                                         follow it)
``redis://[user:password@]n1:7000,n2:7000,n3:7000``      Cluster: any of its nodes (db 0)
=======================================================  ====================================

Several hosts with a name as the path mean Sentinel; several hosts without one mean Cluster.
Credentials and ``rediss://`` apply to the data servers; sentinels are reached without them.
Sentinel and Cluster URLs take no driver options in the query: pass those as keyword arguments.
Clients come from ``redis.asyncio`` (the ``[redis]`` extra), imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from ...exceptions import InvalidInputError

__all__ = ["RedisTopology", "RedisURL", "connect_redis", "parse_redis_url", "redact_url"]

_SCHEMES = ("redis", "rediss", "unix")
_SENTINEL_PORT = 26379
_SERVER_PORT = 6379


class RedisTopology(StrEnum):
    """How the Redis behind a URL is deployed."""

    SERVER = "server"
    SENTINEL = "sentinel"
    CLUSTER = "cluster"


@dataclass(frozen=True)
class RedisURL:
    """A parsed Redis URL (see the module docstring for the forms)."""

    url: str
    topology: RedisTopology
    hosts: tuple[tuple[str, int], ...]
    service: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False

    def redacted(self) -> str:
        """The URL with its password replaced by ``***``."""
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(url)
    credentials, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def parse_redis_url(url: object, field: str = "url") -> RedisURL:
    """Parse ``url``; raises ``InvalidInputError`` naming ``field`` when it is not one of the
    forms in the module docstring."""
    if not isinstance(url, str):
        raise InvalidInputError(field, url, f"must be a string, not {type(url).__name__}")
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in _SCHEMES:
        raise InvalidInputError(
            field, redact_url(url), "must start with redis://, rediss://, unix://"
        )
    parts = urlsplit(url)
    credentials, _, host_list = parts.netloc.rpartition("@")
    if scheme == "unix" or "," not in host_list:
        if scheme != "unix" and _names_a_service(parts.path):
            raise InvalidInputError(
                field,
                redact_url(url),
                "path must be /<database>; a Sentinel URL lists its sentinels, as in "
                "redis://s1:26379,s2:26379/mymaster",
            )
        return RedisURL(url, RedisTopology.SERVER, (), tls=scheme == "rediss")
    service, db = _service_and_db(parts.path, url, field)
    topology = RedisTopology.SENTINEL if service is not None else RedisTopology.CLUSTER
    if topology is RedisTopology.CLUSTER and db != 0:
        raise InvalidInputError(field, redact_url(url), "a Cluster has only database 0")
    if parts.query:
        raise InvalidInputError(
            field,
            redact_url(url),
            f"{topology} URLs take no query options; pass driver options as keyword arguments",
        )
    default_port = _SENTINEL_PORT if service is not None else _SERVER_PORT
    username, _, password = credentials.partition(":")
    return RedisURL(
        url=url,
        topology=topology,
        hosts=tuple(_host_port(item, default_port, url, field) for item in host_list.split(",")),
        service=service,
        db=db,
        username=unquote(username) or None,
        password=unquote(password) or None,
        tls=scheme == "rediss",
    )


def _names_a_service(path: str) -> bool:
    first = path.strip("/").split("/", 1)[0]
    return bool(first) and not first.isdigit()


def _service_and_db(path: str, url: str, field: str) -> tuple[str | None, int]:
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        return None, 0
    first, rest = segments[0], segments[1:]
    if len(rest) > 1 or (rest and not rest[0].isdigit()) or (first.isdigit() and rest):
        raise InvalidInputError(field, redact_url(url), "path must be /db or /service[/db]")
    if first.isdigit():
        return None, int(first)
    return unquote(first), int(rest[0]) if rest else 0


def _host_port(item: str, default_port: int, url: str, field: str) -> tuple[str, int]:
    item = item.strip()
    if item.startswith("["):  # [IPv6]:port
        host, _, rest = item[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        host, _, port_text = item.partition(":")
    if not host or (port_text and not port_text.isdigit()) or int(port_text or 1) > 65535:
        raise InvalidInputError(field, redact_url(url), f"{item!r} is not host[:port]")
    return host, int(port_text) if port_text else default_port


def connect_redis(target: RedisURL, **options: Any) -> Any:
    """A ``redis.asyncio`` client for ``target``: ``Redis`` for one server or a Sentinel
    primary (found again through the sentinels after a failover; its pool waits for a free
    connection), ``RedisCluster`` for a Cluster. ``options`` go to the client (timeouts,
    ``retry``, ``decode_responses``, TLS settings, ``max_connections``...). No connection is
    made until first use."""
    from redis import asyncio as redis_asyncio

    if target.topology is RedisTopology.SERVER:
        return redis_asyncio.Redis.from_url(target.url, **options)
    auth: dict[str, Any] = {"username": target.username, "password": target.password}
    if target.topology is RedisTopology.CLUSTER:
        from redis.asyncio.cluster import ClusterNode

        nodes = [ClusterNode(host, port) for host, port in target.hosts]
        return redis_asyncio.RedisCluster(startup_nodes=nodes, ssl=target.tls, **auth, **options)
    from redis.asyncio.sentinel import Sentinel

    from ._sentinel import BlockingSentinelPool, SentinelPrimary, connection_class

    options.setdefault("connection_class", connection_class(target.tls))
    timeouts: dict[str, Any] = {
        name: options[name]
        for name in ("socket_timeout", "socket_connect_timeout")
        if name in options
    }
    # redis-py types Sentinel's constructor only from 8.x on
    sentinel = Sentinel(list(target.hosts), sentinel_kwargs=timeouts)  # type: ignore[no-untyped-call,unused-ignore]
    assert target.service is not None
    return sentinel.master_for(
        target.service,
        redis_class=SentinelPrimary,
        connection_pool_class=BlockingSentinelPool,
        db=target.db,
        ssl=target.tls,
        **auth,
        **options,
    )
