"""Shared pieces of the models: UTC time and change tracking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, PrivateAttr

from ..validation import ensure_json_value

__all__ = ["MetadataHelpers", "TrackedModel", "as_utc", "utc_now"]


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


class MetadataHelpers(TrackedModel):
    """The async metadata helpers shared by events and runs (a ``metadata`` dict field)."""

    if TYPE_CHECKING:  # declared by each subclass, in its own field order
        metadata: dict[str, Any]
    _metadata_label: ClassVar[str] = "metadata"

    async def get_metadata(self, key: str, default: Any = None) -> Any:
        """One metadata value, or ``default``."""
        return self.metadata.get(key, default)

    async def set_metadata(self, key: str, value: Any) -> None:
        """Set one metadata value (a JSON value); a rejected value changes nothing."""
        ensure_json_value(value, f"{self._metadata_label}[{key!r}]")
        self.metadata[key] = value
        self._mark_changed()

    async def has_metadata(self, key: str) -> bool:
        """Whether ``key`` is in the metadata."""
        return key in self.metadata

    async def remove_metadata(self, key: str) -> None:
        """Remove ``key`` from the metadata if present."""
        if key in self.metadata:
            del self.metadata[key]
            self._mark_changed()
