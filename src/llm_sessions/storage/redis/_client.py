"""The Redis store's client (the driver import, its errors, pooled clients) and reply readers."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

from ...exceptions import CorruptSessionData
from .._records import StoredHeader
from ._urls import RedisTopology, connect_redis, parse_redis_url

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "CLUSTER_MAX_CONNECTIONS",
    "DEFAULT_MAX_CONNECTIONS",
    "client_for_url",
    "stored_header",
]

logger = logging.getLogger("llm_sessions.storage")

DEFAULT_MAX_CONNECTIONS = 50
"""Connections a store's own pool opens at most; further operations wait for a free one."""


CLUSTER_MAX_CONNECTIONS = 1000
"""Connections a store opens at most to each Cluster node (operations beyond it fail)."""


def _import_redis() -> Any:
    try:
        import redis.asyncio as redis_asyncio
    except ImportError as exc:
        raise ImportError(
            'The Redis session store needs the `redis` package: pip install "llm-sessions[redis]"'
        ) from exc
    return redis_asyncio


def _driver_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError, TimeoutError)


def _client_settings(options: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Socket timeouts and one quick retry, so that a dead server fails within seconds."""
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialWithJitterBackoff

    return {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        "retry": Retry(ExponentialWithJitterBackoff(cap=0.2, base=0.01), 1),
        "max_connections": DEFAULT_MAX_CONNECTIONS,
        **options,
    }


def _pooled_client(url: str | None, options: dict[str, Any], timeout: float) -> Redis:
    """A client on a pool of its own that waits for a free connection instead of failing."""
    redis_asyncio = _import_redis()
    settings = _client_settings(options, timeout)
    if url is not None:
        pool = redis_asyncio.BlockingConnectionPool.from_url(url, **settings)
    else:
        if settings.pop("ssl", False):
            settings["connection_class"] = redis_asyncio.SSLConnection
        pool = redis_asyncio.BlockingConnectionPool(**settings)
    client: Redis = redis_asyncio.Redis.from_pool(pool)
    return client


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else max(1, math.ceil(seconds * 1000))


def _close_unawaited(call: Awaitable[Any]) -> None:
    if inspect.iscoroutine(call):
        call.close()


def _digest(parent: str | None, parts: Sequence[Sequence[Any] | dict[Any, Any]]) -> str:
    """A digest of a header's parts as the server returned them (a hash's pairs in its order):
    equal digests are equal headers, and a header read in another order only costs a decode."""
    digest = hashlib.blake2b(b"" if parent is None else b"=" + parent.encode(), digest_size=16)
    for part in parts:
        items = list(chain.from_iterable(part.items()) if isinstance(part, dict) else part)
        # Ids, keys and JSON texts hold no control characters: the separators are unambiguous.
        if items and isinstance(items[0], str):
            items = [item.encode() for item in items]
        digest.update(b"\x02" + b"\x01".join(items))
    return digest.hexdigest()


def _as_dict(flat: list[Any]) -> dict[Any, Any]:
    """A hash a script returned as a flat field, value, field, value list."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _ordered_runs(bodies: dict[Any, Any], order: Sequence[str | bytes]) -> list[str | bytes]:
    by_id = {_text(run_id): body for run_id, body in bodies.items()}
    ordered = [by_id.pop(_text(run_id)) for run_id in order if _text(run_id) in by_id]
    return ordered + list(by_id.values())


def client_for_url(url: str, options: dict[str, Any], timeout: float) -> tuple[Redis, str]:
    """A client for a server, Sentinel or Cluster URL, and the URL with its password hidden."""
    target = parse_redis_url(url)
    if target.topology is RedisTopology.SERVER:
        return _pooled_client(url, options, timeout), target.redacted()
    _import_redis()
    settings = _client_settings(options, timeout)
    if target.topology is RedisTopology.CLUSTER and "max_connections" not in options:
        # redis-py's asyncio Cluster fails (and drops its connections) when a node's
        # pool is exhausted instead of waiting: give each node a generous pool.
        settings["max_connections"] = CLUSTER_MAX_CONNECTIONS
    client: Redis = connect_redis(target, **settings)
    return client, target.redacted()


def stored_header(
    location: Callable[[], str],
    meta: dict[str, str],
    child_ids: Sequence[str | bytes],
    task_ids: Sequence[str | bytes],
    runs: list[str | bytes],
    state_raw: dict[Any, Any],
    props_raw: dict[Any, Any],
) -> StoredHeader:
    """A header from the hashes and sets a read returned; ``CorruptSessionData`` if unreadable."""
    try:
        return StoredHeader(
            created_at=datetime.fromisoformat(meta["created_at"]),
            updated_at=datetime.fromisoformat(meta["updated_at"]),
            parent_id=meta.get("parent_id"),
            child_ids=[_text(child) for child in child_ids],
            task_ids=[_text(task) for task in task_ids],
            runs=runs,
            state={_text(k): json.loads(v) for k, v in state_raw.items()},
            properties={_text(k): json.loads(v) for k, v in props_raw.items()},
        )
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        where = location()
        reason = f"{type(exc).__name__}: {exc}"
        logger.warning("Unreadable session header at %s: %s", where, reason)
        raise CorruptSessionData(where, reason) from exc
