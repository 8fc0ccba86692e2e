"""Choose the key-value provider from the environment.

==========================  ===========================================================
``SESSION_PROVIDER``        ``memory`` (default; also ``mem``, ``inmemory``) or ``redis``
                            (also ``redis_store``)
``SESSION_REDIS_URL``       the Redis URL; else ``REDIS_URL``; else
                            ``redis://localhost:6379/0``
``REDIS_TLS_INSECURE``      ``1`` to skip certificate checks for ``rediss://`` URLs
``SESSION_MEMORY_MAX_ENTRIES``  the memory provider's key limit (default 100,000)
==========================  ===========================================================

``factory_for_env()`` returns the same factory for the same configuration, so every caller in a
process shares one memory store (like one server) or one Redis pool, even code that calls it
before each operation. ``await aclose_factories()`` closes them all (e.g. at shutdown).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import NamedTuple

from ..exceptions import InvalidInputError
from .protocol import ProviderFactory
from .providers._memory import DEFAULT_MAX_ENTRIES, MemoryProviderFactory, MemoryStore

__all__ = [
    "DEFAULT_REDIS_URL",
    "PROVIDER_ALIASES",
    "aclose_factories",
    "factory_for_env",
    "memory_factory",
    "redis_factory",
]

DEFAULT_REDIS_URL = "redis://localhost:6379/0"

PROVIDER_ALIASES: Mapping[str, str] = {
    "memory": "memory",
    "mem": "memory",
    "inmemory": "memory",
    "redis": "redis",
    "redis_store": "redis",
}

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class _Config(NamedTuple):
    provider: str
    redis_url: str | None = None
    tls_insecure: bool = False
    max_entries: int = DEFAULT_MAX_ENTRIES


_factories: dict[_Config, ProviderFactory] = {}
_factories_lock = threading.Lock()


def factory_for_env(environ: Mapping[str, str] | None = None) -> ProviderFactory:
    """Return the provider factory the environment (or ``environ``) selects.

    Raises ``InvalidInputError`` (a ``ValueError``) naming the variable, its value and the
    accepted values when a setting is not understood.
    """
    config = _read_config(os.environ if environ is None else environ)
    with _factories_lock:
        factory = _factories.get(config)
        if factory is None:
            factory = _factories[config] = _build(config)
    return factory


def memory_factory() -> ProviderFactory:
    """The process-wide memory provider factory (the one ``SESSION_PROVIDER=memory`` selects)."""
    return factory_for_env({**os.environ, "SESSION_PROVIDER": "memory"})


def redis_factory(url: str | None = None) -> ProviderFactory:
    """The process-wide Redis provider factory for ``url``.

    Without ``url``: ``SESSION_REDIS_URL``, else ``REDIS_URL``, else the default local server,
    as ``factory_for_env`` reads them; ``REDIS_TLS_INSECURE`` applies either way.
    """
    environ = {**os.environ, "SESSION_PROVIDER": "redis"}
    if url is not None:
        environ["SESSION_REDIS_URL"] = url
    return factory_for_env(environ)


async def aclose_factories() -> None:
    """Close every factory ``factory_for_env`` handed out and forget them.

    The next ``factory_for_env()`` call builds fresh ones (a new, empty memory store).
    """
    with _factories_lock:
        factories = list(_factories.values())
        _factories.clear()
    for factory in factories:
        await factory.aclose()


def _read_config(env: Mapping[str, str]) -> _Config:
    raw = env.get("SESSION_PROVIDER", "")
    name = raw.strip().lower() or "memory"
    provider = PROVIDER_ALIASES.get(name)
    if provider is None:
        accepted = ", ".join(PROVIDER_ALIASES)
        raise InvalidInputError(
            "SESSION_PROVIDER", raw, f"unknown session provider; accepted names: {accepted}"
        )
    if provider == "memory":
        return _Config("memory", max_entries=_max_entries(env))
    url_var = "SESSION_REDIS_URL" if env.get("SESSION_REDIS_URL") else "REDIS_URL"
    url = env.get(url_var) or DEFAULT_REDIS_URL
    from .providers._redis import check_redis_url

    check_redis_url(url, url_var)
    return _Config("redis", redis_url=url, tls_insecure=_flag(env, "REDIS_TLS_INSECURE"))


def _build(config: _Config) -> ProviderFactory:
    if config.provider == "memory":
        return MemoryProviderFactory(MemoryStore(config.max_entries))
    from .providers._redis import RedisProviderFactory

    assert config.redis_url is not None
    return RedisProviderFactory(config.redis_url, tls_insecure=config.tls_insecure)


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidInputError(name, raw, "must be 1/true/yes/on or 0/false/no/off")


def _max_entries(env: Mapping[str, str]) -> int:
    raw = env.get("SESSION_MEMORY_MAX_ENTRIES", "").strip()
    if not raw:
        return DEFAULT_MAX_ENTRIES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidInputError("SESSION_MEMORY_MAX_ENTRIES", raw, "must be a positive integer")
    return value
