"""Shared pieces of the models: UTC time and change tracking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, PrivateAttr

__all__ = ["TrackedModel", "as_utc", "utc_now"]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class TrackedModel(BaseModel):
    """A model that counts its own changes and tells an owner about them.

    Stores use this to write only what changed: an event or run edited after it was saved is
    rewritten, nothing else is. Changes made through attribute assignment and through the
    models' own methods are seen; mutating a nested dict in place (``obj.metadata["k"] = v``)
    is not, so use the ``set_metadata`` helpers.
    """

    _revision: int = PrivateAttr(default=0)
    _on_change: Callable[[Any], None] | None = PrivateAttr(default=None)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if not name.startswith("_"):
            self._mark_changed()

    def _mark_changed(self) -> None:
        self._revision += 1
        listener = self._on_change
        if listener is not None:
            listener(self)
