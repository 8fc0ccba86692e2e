"""The stored form of a lifecycle session."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .enums import SessionStatus

__all__ = ["SessionInfo", "SessionMetadata", "utc_now"]


def utc_now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class SessionInfo(BaseModel):
    """One session's record: who owns it, when it ends, and the application's metadata.

    Stored as JSON; timestamps are UTC ISO-8601. ``to_dict()`` gives the plain dict that
    ``LifecycleManager.get_session_info`` returns.
    """

    model_config = ConfigDict(extra="ignore")

    session_id: str
    sandbox_id: str
    user_id: str | None = None
    created_at: AwareDatetime
    expires_at: AwareDatetime
    status: SessionStatus = SessionStatus.ACTIVE
    last_accessed: AwareDatetime
    custom_metadata: dict[str, Any] = Field(default_factory=dict)

    def is_expired(self, now: datetime) -> bool:
        """True from the instant ``expires_at`` is reached.

        Args:
            now: The current time (UTC).

        Returns:
            Whether the session has expired.
        """
        return now >= self.expires_at

    def remaining_seconds(self, now: datetime) -> float:
        """Seconds until expiry (zero or negative once expired).

        Args:
            now: The current time (UTC).

        Returns:
            The seconds left.
        """
        return (self.expires_at - now).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: timestamps as ISO-8601 strings.

        Returns:
            The record's fields by name.
        """
        return self.model_dump(mode="json")


SessionMetadata = SessionInfo
"""The originals' name for a lifecycle session's record."""
