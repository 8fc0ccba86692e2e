"""``open_store(url)``: one way to name any store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ..exceptions import InvalidInputError
from ._base import SessionStore
from ._retention import check_retention
from ._url_parts import (
    check_network_url,
    local_path,
    parse_flag,
    parse_seconds,
    parse_timeout,
    query_options,
    redis_database,
)

__all__ = ["DEFAULT_STORE", "open_store", "register_scheme", "supported_schemes"]

DEFAULT_STORE = "sqlite:///llm-sessions.db"
"""The store the CLI and the server use when none is named: a SQLite file in the working
folder."""

_Opener = Callable[[str, dict[str, Any]], SessionStore]
_openers: dict[str, _Opener] = {}


def register_scheme(*schemes: str) -> Callable[[_Opener], _Opener]:
    """Register a function that opens stores for URLs with these schemes."""

    def decorate(opener: _Opener) -> _Opener:
        for scheme in schemes:
            _openers[scheme] = opener
        return opener

    return decorate


def supported_schemes() -> list[str]:
    """The URL schemes ``open_store`` understands.

    Returns:
        The scheme names, sorted (``file``, ``memory``, ``postgresql``, ...).
    """
    _load_builtin_schemes()
    return sorted(_openers)


def open_store(url: str, **options: Any) -> SessionStore:
    """Open the store a URL names; connections are made on first use, not here.

    ``memory://``, ``file:///path/to/dir``, ``sqlite:///path/to.db``, ``redis://host:port/db``
    (and ``rediss://``), ``postgresql://user@host/db``. ``options`` go to the store's
    constructor (for example ``expiration_seconds``). A malformed URL raises
    ``InvalidInputError`` naming the part that is wrong, before any I/O.

    Args:
        url: The store's URL; its query may set store options (``?timeout=``,
            ``?key_prefix=`` for Redis, ``?schema=`` for PostgreSQL).
        **options: Keyword arguments for the store's constructor, and two of the store's
            own: ``retention=`` (a ``Retention``), kept as ``store.retention``, what
            ``apply_retention()`` and ``llm-sessions serve`` apply; ``embedder=``, a function
            of a list of texts to vectors, for semantic search (see
            ``SessionStore.use_embedder``).

    Returns:
        The store, not yet connected; close it with ``await store.close()`` or ``async with``.

    Raises:
        InvalidInputError: The URL is malformed or its scheme is not one of
            ``supported_schemes()``.
    """
    if not isinstance(url, str) or "://" not in url:
        raise InvalidInputError("url", url, f"must be a store URL such as {_EXAMPLES}")
    retention = check_retention(options.pop("retention", None))
    _load_builtin_schemes()
    scheme = url.split("://", 1)[0].lower()
    opener = _openers.get(scheme)
    if opener is None:
        raise InvalidInputError(
            "url", url, f"scheme {scheme!r} is not one of {', '.join(sorted(_openers))}"
        )
    embedder = options.pop("embedder", None)
    store = opener(url, options)
    store.retention = retention
    if embedder is not None:
        store.use_embedder(embedder)
    return store


_EXAMPLES = "memory://, file:///path, sqlite:///path.db, redis://host:6379/0, postgresql://host/db"


def _load_builtin_schemes() -> None:
    # Importing a provider registers its schemes; optional drivers are imported lazily by the
    # providers themselves, so this never needs redis or asyncpg to be installed.
    from . import memory  # noqa: F401


@register_scheme("memory")
def _open_memory(url: str, options: dict[str, Any]) -> SessionStore:
    from .memory import InMemorySessionStore

    if url.split("://", 1)[1]:
        raise InvalidInputError("url", url, "memory:// takes no host, path or options")
    for name in options:
        if name not in ("redact", "max_scan_events"):
            raise InvalidInputError(
                name,
                options[name],
                "the memory store takes no options but redact and max_scan_events",
            )
    return InMemorySessionStore(**options)


@register_scheme("redis", "rediss")
def _open_redis(url: str, options: dict[str, Any]) -> SessionStore:
    from .redis._store import RedisSessionStore

    check_network_url(url, many_hosts=True)  # Sentinel and Cluster URLs name several hosts
    if "," not in urlsplit(url).netloc.rpartition("@")[2]:
        redis_database(url)
    return RedisSessionStore.from_url(url, **options)


@register_scheme("postgresql", "postgres")
def _open_postgres(url: str, options: dict[str, Any]) -> SessionStore:
    from .postgres._store import PostgresSessionStore

    check_network_url(url, query_host_ok=True, many_hosts=True)
    return PostgresSessionStore.from_url(url, **options)


@register_scheme("file")
def _open_file(url: str, options: dict[str, Any]) -> SessionStore:
    from .file._store import FileSessionStore

    known: dict[str, Callable[[str], Any]] = {
        "expiration_seconds": parse_seconds,
        "auto_save": parse_flag,
        "fsync": parse_flag,
        "timeout": parse_timeout,
    }
    path = local_path(url, relative_ok=False)
    return FileSessionStore(path, **{**query_options(url, known), **options})


@register_scheme("sqlite")
def _open_sqlite(url: str, options: dict[str, Any]) -> SessionStore:
    from .sqlite._store import SQLiteSessionStore

    known: dict[str, Callable[[str], Any]] = {
        "expiration_seconds": parse_seconds,
        "timeout": parse_timeout,
        "synchronous": str,
    }
    path = local_path(url, relative_ok=True)
    return SQLiteSessionStore(path, **{**query_options(url, known), **options})
