"""The Redis store: its Lua scripts, vacuum, URLs (standalone, Sentinel, Cluster) and clients."""

from ._store import RedisSessionStore, create_redis_session_store
from ._urls import RedisTopology, RedisURL, connect_redis, parse_redis_url, redact_url

__all__ = [
    "RedisSessionStore",
    "RedisTopology",
    "RedisURL",
    "connect_redis",
    "create_redis_session_store",
    "parse_redis_url",
    "redact_url",
]
