"""Shared pieces of the models: UTC time and change tracking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from ..validation import ensure_json_value

__all__ = [
    "STORED_DATA",
    "MetadataHelpers",
    "TrackedModel",
    "as_utc",
    "revision_of",
    "set_listener",
    "utc_now",
]


#: Validation context (compared by identity) for data read back from a store: it passed every
#: check when it was written, so the checks that cost time on every load (JSON values, ids,
#: re-pricing) are skipped.
STORED_DATA: dict[str, bool] = {"llm_sessions.stored": True}


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class TrackedModel(BaseModel):
    """A model that counts its own changes and tells a listener about them.

    Stores use this to write only what changed: an event or run edited after it was saved is
    rewritten, nothing else is. Changes made through attribute assignment and through the
    models' own methods are seen, and so are in-place edits of the dicts and lists they hold
    (see ``tracked``).

    The counter and the listener live in slots, not pydantic private attributes: those would
    triple the cost of building a model, which is most of the cost of loading a session. Slots
    are not part of the data: dumps, equality and copies ignore them.
    """

    __slots__ = ("_listener", "_revision")

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if not name.startswith("_"):
            self._mark_changed()

    def _mark_changed(self) -> None:
        object.__setattr__(self, "_revision", revision_of(self) + 1)
        listener = getattr(self, "_listener", None)
        if listener is not None:
            listener(self)


def revision_of(model: TrackedModel) -> int:
    """How many changes ``model`` has seen since it was built."""
    revision: int = getattr(model, "_revision", 0)
    return revision


def set_listener(model: TrackedModel, listener: Callable[[Any], None] | None) -> None:
    """Have ``listener(model)`` called after each change to ``model`` (None: nobody)."""
    object.__setattr__(model, "_listener", listener)


class MetadataHelpers(TrackedModel):
    """The async metadata helpers shared by events and runs (a ``metadata`` dict field).

    ``metadata`` holds a ``TrackedDict``: an edit marks the owner changed.
    """

    if TYPE_CHECKING:  # declared by each subclass, in its own field order
        metadata: dict[str, Any]
    _metadata_label: ClassVar[str] = "metadata"

    async def get_metadata(self, key: str, default: Any = None) -> Any:
        """One metadata value, or ``default``."""
        return self.metadata.get(key, default)

    async def set_metadata(self, key: str, value: Any) -> None:
        """Set one metadata value (a JSON value); a rejected value changes nothing."""
        ensure_json_value({key: value}, self._metadata_label)
        self.metadata[key] = value  # a tracked dict: marks this object changed

    async def has_metadata(self, key: str) -> bool:
        """Whether ``key`` is in the metadata."""
        return key in self.metadata

    async def remove_metadata(self, key: str) -> None:
        """Remove ``key`` from the metadata if present."""
        if key in self.metadata:
            del self.metadata[key]
