"""``open_store(url)``: one way to name any store."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..exceptions import InvalidInputError
from .base import SessionStore

__all__ = ["open_store", "register_scheme", "supported_schemes"]

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
    """The URL schemes ``open_store`` understands."""
    _load_builtin_schemes()
    return sorted(_openers)


def open_store(url: str, **options: Any) -> SessionStore:
    """Open the store a URL names; connections are made on first use, not here.

    ``memory://``, ``file:///path/to/dir``, ``sqlite:///path/to.db``, ``redis://host:port/db``
    (and ``rediss://``), ``postgresql://user@host/db``. ``options`` go to the store's
    constructor (for example ``expiration_seconds``).
    """
    if not isinstance(url, str) or "://" not in url:
        raise InvalidInputError("url", url, f"must be a store URL such as {_EXAMPLES}")
    _load_builtin_schemes()
    scheme = url.split("://", 1)[0].lower()
    opener = _openers.get(scheme)
    if opener is None:
        raise InvalidInputError(
            "url", url, f"scheme {scheme!r} is not one of {', '.join(sorted(_openers))}"
        )
    return opener(url, options)


def url_path(url: str) -> str:
    """The path part of a ``file://`` or ``sqlite://`` URL, with its leading slash
    (``file:///abs/dir`` gives ``/abs/dir``; the SQLite opener reads ``sqlite:///rel.db`` as
    relative and ``sqlite:////abs.db`` as absolute, as SQLAlchemy does)."""
    parts = urlsplit(url)
    return unquote(parts.netloc + parts.path)


_EXAMPLES = "memory://, file:///path, sqlite:///path.db, redis://host:6379/0, postgresql://host/db"


def _load_builtin_schemes() -> None:
    # Importing a provider registers its schemes; optional drivers are imported lazily by the
    # providers themselves, so this never needs redis or asyncpg to be installed.
    from .providers import memory  # noqa: F401


@register_scheme("memory")
def _open_memory(url: str, options: dict[str, Any]) -> SessionStore:
    from .providers.memory import InMemorySessionStore

    return InMemorySessionStore(**options)


@register_scheme("redis", "rediss")
def _open_redis(url: str, options: dict[str, Any]) -> SessionStore:
    from .providers.redis import RedisSessionStore

    return RedisSessionStore.from_url(url, **options)


@register_scheme("postgresql", "postgres")
def _open_postgres(url: str, options: dict[str, Any]) -> SessionStore:
    from .providers.postgres import PostgresSessionStore

    return PostgresSessionStore.from_url(url, **options)


def _flag(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
        raise ValueError("not a boolean (true/false)")
    return lowered in ("1", "true", "yes", "on")


def parse_seconds(text: str) -> float | None:
    """A query value in seconds: a number, or ``""`` / ``none`` for no limit."""
    return None if text.lower() in ("", "none") else float(text)


def split_query(
    url: str, store_options: Mapping[str, Callable[[str], Any]]
) -> tuple[dict[str, Any], str]:
    """The store's own options in a URL's query, converted, and the URL without them (what is
    left is the driver's)."""
    parts = urlsplit(url)
    options: dict[str, Any] = {}
    driver_query: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        convert = store_options.get(name)
        if convert is None:
            driver_query.append((name, value))
            continue
        try:
            options[name] = convert(value)
        except ValueError as exc:
            raise InvalidInputError(f"url option {name}", value, str(exc)) from exc
    return options, urlunsplit(parts._replace(query=urlencode(driver_query)))


def _query_options(url: str, known: Mapping[str, Callable[[str], Any]]) -> dict[str, Any]:
    """Constructor options from the URL's query (``?expiration_seconds=60``); a store without a
    driver to pass the rest to refuses unknown options."""
    options, rest = split_query(url, known)
    unknown = parse_qs(urlsplit(rest).query, keep_blank_values=True)
    if unknown:
        raise InvalidInputError(
            "url", url, f"unknown option {min(unknown)!r}; known: {', '.join(sorted(known))}"
        )
    return options


@register_scheme("file")
def _open_file(url: str, options: dict[str, Any]) -> SessionStore:
    from .providers.file import FileSessionStore

    known: dict[str, Callable[[str], Any]] = {
        "expiration_seconds": parse_seconds,
        "auto_save": _flag,
        "fsync": _flag,
    }
    return FileSessionStore(url_path(url), **{**_query_options(url, known), **options})


@register_scheme("sqlite")
def _open_sqlite(url: str, options: dict[str, Any]) -> SessionStore:
    from .providers.sqlite import SQLiteSessionStore

    # sqlite:///rel.db is relative and sqlite:////abs.db absolute: drop the separator slash.
    path = url_path(url)
    path = path[1:] if path.startswith("/") else path
    known: dict[str, Callable[[str], Any]] = {
        "expiration_seconds": parse_seconds,
        "timeout": float,
        "synchronous": str,
    }
    return SQLiteSessionStore(path, **{**_query_options(url, known), **options})
