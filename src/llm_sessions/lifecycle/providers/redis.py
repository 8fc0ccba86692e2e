"""Old path of the Redis provider (now ``providers._redis``), kept for imports (see ``compat``)."""

from ..provider_factory import redis_factory as factory
from ._redis import RedisProviderFactory, RedisSession, check_redis_url, redact_url

__all__ = ["RedisProviderFactory", "RedisSession", "check_redis_url", "factory", "redact_url"]
