"""One-call access to the configured key-value provider."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from .protocol import KeyValueSession
from .provider_factory import factory_for_env

__all__ = ["get_session", "session"]


def get_session() -> AbstractAsyncContextManager[KeyValueSession]:
    """A context of the provider ``factory_for_env()`` selects (``async with get_session()``)."""
    return factory_for_env()()


session = get_session
"""Another name for ``get_session``."""
