"""Session-level metadata: timestamps, the owning user and free-form properties."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from ..exceptions import InvalidInputError
from ..validation import ensure_json_object, ensure_json_value, validate_id, validate_key
from ._base import STORED_DATA, as_utc, utc_now
from ._tracked import track

__all__ = ["RESERVED_PROPERTIES", "USER_ID_PROPERTY", "SessionMetadata", "split_reserved"]

USER_ID_PROPERTY = "llm_sessions.user_id"
RESERVED_PROPERTIES = {"user_id": USER_ID_PROPERTY, "root_id": "llm_sessions.root_id"}
"""Metadata fields stored as properties under these names: every store keeps them with the
header's properties, so they are written in the same atomic write and read back by every store
as it is. Sessions never show them among their ``properties``."""


class SessionMetadata(BaseModel):
    """When a session was created and last updated, who it belongs to (``user_id``, None for
    nobody in particular) and its properties (JSON values)."""

    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    user_id: str | None = None
    root_id: str | None = None
    """The first session of the chain (of segments, forks, children) this one was created in;
    None for a session created on its own."""
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("user_id", "root_id")
    @classmethod
    def _valid_ids(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else validate_id(value, str(info.field_name))

    @field_validator("created_at", "updated_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @field_validator("properties")
    @classmethod
    def _json_properties(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if info.context is STORED_DATA:  # checked when written
            return value
        return _own_properties(ensure_json_object(value, "metadata.properties"))

    def __setattr__(self, name: str, value: Any) -> None:
        # Checked before the assignment: a session never holds what its store cannot write.
        if name == "properties":
            value = _tracked(_own_properties(ensure_json_object(value, "metadata.properties")))
        elif name in RESERVED_PROPERTIES and value is not None:
            validate_id(value, name)
        super().__setattr__(name, value)

    @model_validator(mode="after")
    def _track_properties(self) -> SessionMetadata:
        self.__dict__["properties"] = _tracked(self.properties)
        return self

    @classmethod
    async def create(
        cls, properties: dict[str, Any] | None = None, user_id: str | None = None
    ) -> SessionMetadata:
        """New metadata stamped now, with ``properties`` and ``user_id``.

        Args:
            properties: JSON values to start with.
            user_id: who the session belongs to (None: nobody in particular).

        Returns:
            The metadata.

        Raises:
            ValidationError: A property is not a JSON value (pydantic's, with the message of
                the ``InvalidInputError`` behind it).
        """
        return cls(properties=dict(properties or {}), user_id=user_id)

    def stored_properties(self) -> dict[str, Any]:
        """The properties as a store keeps them: with ``user_id`` and ``root_id`` under their
        ``RESERVED_PROPERTIES`` names.

        Returns:
            The properties (the same dict when neither is set, else a new one).
        """
        if self.user_id is None and self.root_id is None:
            return self.properties
        stored = dict(self.properties)
        for name, key in RESERVED_PROPERTIES.items():
            if self.__dict__[name] is not None:
                stored[key] = self.__dict__[name]
        return stored

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


def _own_properties(properties: dict[str, Any]) -> dict[str, Any]:
    for name, key in RESERVED_PROPERTIES.items():
        if key in properties:
            raise InvalidInputError(
                "metadata.properties", key, f"is reserved for the session's {name}"
            )
    return properties


def split_reserved(stored: dict[str, Any]) -> tuple[dict[str, str | None], dict[str, Any]]:
    """``user_id`` and ``root_id``, and the session's own properties, from properties as a
    store keeps them (a header written before these fields existed gives None for each)."""
    if not any(key in stored for key in RESERVED_PROPERTIES.values()):
        return dict.fromkeys(RESERVED_PROPERTIES), stored
    own = dict(stored)
    fields = {}
    for name, key in RESERVED_PROPERTIES.items():
        value = own.pop(key, None)
        fields[name] = value if isinstance(value, str) else None
    return fields, own


def _tracked(properties: dict[str, Any]) -> dict[str, Any]:
    # In-place edits are checked; the store finds them by comparing with what it wrote.
    tracked: dict[str, Any] = track(properties, None, "metadata.properties", strict_keys=True)
    return tracked
