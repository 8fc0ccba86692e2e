"""Session-level metadata: timestamps and free-form properties."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from ..validation import ensure_json_object, ensure_json_value, validate_key
from ._base import STORED_DATA, as_utc, utc_now
from ._tracked import track

__all__ = ["SessionMetadata"]


class SessionMetadata(BaseModel):
    """When a session was created and last updated, and its properties (JSON values)."""

    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("created_at", "updated_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @field_validator("properties")
    @classmethod
    def _json_properties(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if info.context is STORED_DATA:  # checked when written
            return value
        return ensure_json_object(value, "metadata.properties")

    def __setattr__(self, name: str, value: Any) -> None:
        # Checked before the assignment: a session never holds what its store cannot write.
        if name == "properties":
            value = _tracked(ensure_json_object(value, "metadata.properties"))
        super().__setattr__(name, value)

    @model_validator(mode="after")
    def _track_properties(self) -> SessionMetadata:
        self.__dict__["properties"] = _tracked(self.properties)
        return self

    @classmethod
    async def create(cls, properties: dict[str, Any] | None = None) -> SessionMetadata:
        """New metadata stamped now, with ``properties``.

        Args:
            properties: JSON values to start with.

        Returns:
            The metadata.

        Raises:
            ValidationError: A property is not a JSON value (pydantic's, with the message of
                the ``InvalidInputError`` behind it).
        """
        return cls(properties=dict(properties or {}))

    async def set_property(self, key: str, value: Any) -> None:
        """Set one property (a JSON value) and stamp the update.

        Args:
            key: The property's name.
            value: Its value.

        Raises:
            InvalidInputError: The key or value is not valid; nothing changes.
        """
        validate_key(key, "metadata.properties")
        ensure_json_value(value, f"metadata.properties[{key!r}]")
        self.properties[key] = value
        self.updated_at = utc_now()

    async def get_property(self, key: str, default: Any = None) -> Any:
        """One property, or ``default``.

        Args:
            key: The property's name.
            default: What to return when it is not set.

        Returns:
            The value, or ``default``.
        """
        return self.properties.get(key, default)

    async def update_timestamp(self) -> None:
        """Stamp ``updated_at`` with the current time."""
        self.updated_at = utc_now()


def _tracked(properties: dict[str, Any]) -> dict[str, Any]:
    # In-place edits are checked; the store finds them by comparing with what it wrote.
    tracked: dict[str, Any] = track(properties, None, "metadata.properties", strict_keys=True)
    return tracked
