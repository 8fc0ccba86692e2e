"""The contract every key-value provider meets.

A provider factory is a zero-argument callable returning an async context manager that yields
a ``KeyValueSession``::

    async with factory() as session:
        await session.setex("user:123", 300, "alice")

Values are strings. Anything with these four methods works, including the seed's
``CustomSession`` example.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Generic, Protocol, TypeAlias, TypeVar, runtime_checkable

__all__ = ["KeyValueSession", "ProviderFactory", "SessionFactory", "SharedSessionContext"]


@runtime_checkable
class KeyValueSession(Protocol):
    """String key-value operations with expiry, as the session manager needs them."""

    async def setex(self, key: str, ttl_seconds: float, value: str, /) -> None:
        """Store ``value`` under ``key`` for ``ttl_seconds`` seconds (fractions allowed).

        Args:
            key: The key.
            ttl_seconds: Its time to live.
            value: The value.
        """
        ...

    async def set(self, key: str, value: str, /) -> None:
        """Store ``value`` under ``key`` without expiry.

        Args:
            key: The key.
            value: The value.
        """
        ...

    async def get(self, key: str, /) -> str | None:
        """Return the value under ``key``, or None when absent or expired.

        Args:
            key: The key.

        Returns:
            The value, or None.
        """
        ...

    async def delete(self, key: str, /) -> bool:
        """Remove ``key``; return True if it existed.

        Args:
            key: The key.

        Returns:
            Whether it existed.
        """
        ...


SessionFactory: TypeAlias = Callable[[], AbstractAsyncContextManager[KeyValueSession]]
"""A callable that opens one provider context, e.g. the result of ``factory_for_env()``."""


@runtime_checkable
class ProviderFactory(Protocol):
    """A ``SessionFactory`` that owns resources (a pool, a store) and can release them."""

    def __call__(self) -> AbstractAsyncContextManager[KeyValueSession]:
        """Open one provider context."""
        ...

    async def aclose(self) -> None:
        """Release what the factory holds; it may be used again afterwards."""
        ...


_SessionT = TypeVar("_SessionT")


class SharedSessionContext(AbstractAsyncContextManager[_SessionT], Generic[_SessionT]):
    """A reusable context that yields a shared session and releases nothing on exit.

    Providers whose sessions own no per-context resource (the memory store, a pooled Redis
    client) hand out one of these instead of opening anything per operation.
    """

    def __init__(self, session: Callable[[], _SessionT]) -> None:
        self._session = session

    async def __aenter__(self) -> _SessionT:
        return self._session()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
