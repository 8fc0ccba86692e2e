"""``open_store(url)``: one way to name any store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

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
    """The file-system path of a ``file://`` or ``sqlite://`` URL (``sqlite:///rel.db`` is
    relative, ``sqlite:////abs.db`` absolute, as in SQLAlchemy; ``file:///abs`` is absolute)."""
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
