"""How many live tails may be open, per API key and in all, and what one tail may hold.

A tail is a long-lived connection that reads the store for as long as its client stays, so
without a limit one key could hold every connection and the memory their pages take.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..exceptions import InvalidInputError
from .errors import RETRY_AFTER_SECONDS, ApiError
from .metrics import Metrics

__all__ = [
    "DEFAULT_MAX_TAILS",
    "DEFAULT_MAX_TAILS_PER_KEY",
    "DEFAULT_TAIL_BUFFER_BYTES",
    "TailLimits",
    "TailSlots",
]

DEFAULT_MAX_TAILS_PER_KEY = 16
"""Live tails one API key may hold open at once."""

DEFAULT_MAX_TAILS = 128
"""Live tails the whole process holds open at once."""

DEFAULT_TAIL_BUFFER_BYTES = 1024 * 1024
"""Bytes of events a tail reads ahead of what it has sent (one event more when one is larger)."""


@dataclass(frozen=True)
class TailLimits:
    """The limits on live tails.

    Raises:
        InvalidInputError: When a limit is not a whole number >= 1, naming it.
    """

    max_per_key: int = DEFAULT_MAX_TAILS_PER_KEY
    max_total: int = DEFAULT_MAX_TAILS
    buffer_bytes: int = DEFAULT_TAIL_BUFFER_BYTES

    def __post_init__(self) -> None:
        for name in ("max_per_key", "max_total", "buffer_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(name, value, "must be a whole number >= 1")


@dataclass
class TailSlots:
    """The tails open now, by key; ``open`` takes a slot or refuses with the limit named."""

    limits: TailLimits
    metrics: Metrics
    _by_key: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Tails open now."""
        return sum(self._by_key.values())

    def take(self, key: str) -> None:
        """Take a slot for ``key``, to be given back with ``give_back``.

        Args:
            key: What identifies the caller (a digest of its API key).

        Raises:
            ApiError: 429 when ``key`` holds ``max_per_key`` tails, 503 when the process holds
                ``max_total``; both name the limit and carry ``Retry-After``.
        """
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if self._by_key[key] >= self.limits.max_per_key:
            raise ApiError(
                429,
                "too_many_tails",
                f"This key has {self._by_key[key]} live tails open; the limit is "
                f"{self.limits.max_per_key} (--max-tails-per-key). Close one and retry.",
                headers=retry,
            )
        if self.total >= self.limits.max_total:
            raise ApiError(
                503,
                "too_many_tails",
                f"The server has {self.total} live tails open; the limit is "
                f"{self.limits.max_total} (--max-tails). Retry later.",
                headers=retry,
            )
        self._by_key[key] += 1
        self.metrics.live_tails = self.total

    def give_back(self, key: str) -> None:
        """Free a slot ``take`` gave ``key``."""
        self._by_key[key] -= 1
        if self._by_key[key] <= 0:
            del self._by_key[key]
        self.metrics.live_tails = self.total
