"""The Redis store: its Lua scripts, vacuum, URLs (standalone, Sentinel, Cluster) and clients."""

from .._side_records import SIDE_RECORDS, RedisRecords
from .._vectors import VECTORS
from ._store import RedisSessionStore, create_redis_session_store
from ._urls import RedisTopology, RedisURL, connect_redis, parse_redis_url, redact_url
from ._vectors import RedisVectors

__all__ = [
    "RedisSessionStore",
    "RedisTopology",
    "RedisURL",
    "connect_redis",
    "create_redis_session_store",
    "parse_redis_url",
    "redact_url",
]

VECTORS.declare(RedisSessionStore, lambda store: RedisVectors(store.client, store.key_prefix))
SIDE_RECORDS.declare(RedisSessionStore, lambda store: RedisRecords(store.client, store.key_prefix))
