"""How stores fail: one operation timeout and one translation of driver errors.

Every durable store bounds each operation by its ``timeout`` (seconds, ``DEFAULT_TIMEOUT``
unless the constructor argument or the URL's ``?timeout=`` says otherwise) and turns every
driver error, a passed timeout included, into ``StorageError`` raised ``from`` the original.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from ..exceptions import InvalidInputError, StorageError
from ..validation import validate_seconds

__all__ = ["DEFAULT_TIMEOUT", "check_timeout", "storage_error", "within"]

_T = TypeVar("_T")

DEFAULT_TIMEOUT = 10.0
"""Seconds one store operation may take before it fails with ``StorageError``."""


def check_timeout(value: object) -> float:
    """A store's operation timeout: a finite number of seconds > 0."""
    if value is None:
        raise InvalidInputError("timeout", value, "must be a number of seconds > 0")
    seconds = validate_seconds(value, "timeout")
    assert seconds is not None
    return seconds


def storage_error(
    where: str, action: str, subject: str, exc: BaseException, timeout: float
) -> StorageError:
    """The ``StorageError`` for a driver error (raise it ``from exc``)."""
    if isinstance(exc, TimeoutError):
        reason = f"no answer within {timeout:g} s (the store's timeout)"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return StorageError(f"{where} could not {action} {subject!r}: {reason}")


async def within(seconds: float, call: Awaitable[_T]) -> _T:
    """Await ``call``, cancelling it with ``TimeoutError`` after ``seconds``."""
    async with asyncio.timeout(seconds):
        return await call
