"""Enumerations of the lifecycle layer (string enums: each compares equal to its value)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ProviderType", "SessionStatus"]


class SessionStatus(StrEnum):
    """Where a lifecycle session is in its life; ``SessionInfo.status`` holds one."""

    ACTIVE = "active"
    EXPIRED = "expired"
    INVALIDATED = "invalidated"
    TERMINATED = "terminated"


class ProviderType(StrEnum):
    """The key-value providers ``factory_for_env`` can choose (``SESSION_PROVIDER``)."""

    MEMORY = "memory"
    REDIS = "redis"
