"""An optional, bounded cache of session records for ``get_session_info``.

Off by default (``ttl_seconds=0``): with several processes sharing a store, any cache can
answer with a record another process has since changed or deleted, for up to ``ttl_seconds``.
When on, it holds at most ``max_size`` records (least recently used go first) and never
answers with a session whose ``expires_at`` has passed.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..exceptions import InvalidInputError
from .models import SessionInfo

__all__ = ["SessionCache"]


class SessionCache:
    """LRU of ``SessionInfo`` by session id, each entry fresh for ``ttl_seconds``."""

    def __init__(
        self,
        max_size: int = 1024,
        ttl_seconds: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise InvalidInputError("max_cache_size", max_size, "must be a positive integer")
        if (
            isinstance(ttl_seconds, bool)
            or not isinstance(ttl_seconds, int | float)
            or not 0 <= ttl_seconds <= 3600
        ):
            raise InvalidInputError(
                "cache_ttl_seconds", ttl_seconds, "must be a number from 0 (off) to 3600"
            )
        self.max_size = max_size
        self.ttl_seconds = float(ttl_seconds)
        self._clock = clock
        self._entries: OrderedDict[str, tuple[SessionInfo, float]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        """False when ``ttl_seconds`` is 0: nothing is kept."""
        return self.ttl_seconds > 0

    def get(self, session_id: str, now: datetime) -> SessionInfo | None:
        """The cached record if it is fresh and its session has not expired."""
        if not self.enabled:
            return None
        entry = self._entries.get(session_id)
        if entry is not None:
            info, stored_at = entry
            if self._clock() - stored_at < self.ttl_seconds and not info.is_expired(now):
                self._entries.move_to_end(session_id)
                self.hits += 1
                return info
            del self._entries[session_id]
        self.misses += 1
        return None

    def put(self, info: SessionInfo) -> None:
        """Remember ``info`` (a no-op when the cache is off)."""
        if not self.enabled:
            return
        self._entries[info.session_id] = (info, self._clock())
        self._entries.move_to_end(info.session_id)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def discard(self, session_id: str) -> None:
        """Forget ``session_id``."""
        self._entries.pop(session_id, None)

    def purge_expired(self, now: datetime) -> int:
        """Drop records of expired sessions; return how many."""
        expired = [sid for sid, (info, _) in self._entries.items() if info.is_expired(now)]
        for sid in expired:
            del self._entries[sid]
        return len(expired)

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> dict[str, Any]:
        """Size, limits and hit counts."""
        return {
            "cached_sessions": len(self._entries),
            "max_cache_size": self.max_size,
            "cache_ttl_seconds": self.ttl_seconds,
            "cache_hits": self.hits,
            "cache_misses": self.misses,
        }
