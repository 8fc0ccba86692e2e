"""The in-memory provider: one ``MemoryStore`` acts as the server for every context opened.

Expiry is exact: each entry keeps an absolute ``time.monotonic()`` deadline and is treated as
gone from that instant (checked lazily on every read). Expired entries are also purged on every
write, cheaply, from a heap of deadlines, so memory does not fill up with dead keys. The store
holds at most ``max_entries`` keys; a write beyond that evicts the oldest written key of the
sandbox that holds the most entries, the writer's own when it is among them (expired keys
always go first). So a tenant that fills the store pushes out only its own data, and a tenant
loses entries only while it holds the most. A key's sandbox is the text after ``sandbox:`` (see
``lifecycle.keys``); other keys form one group of their own.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from ...exceptions import InvalidInputError
from ..inputs import check_key, check_seconds, check_value
from ..protocol import SharedSessionContext

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "MemoryProviderFactory",
    "MemorySession",
    "MemoryStore",
]

DEFAULT_MAX_ENTRIES = 100_000
_HEAP_SLACK = 1024


@dataclass(slots=True)
class _Entry:
    value: str
    deadline: float | None
    seq: int


class MemoryStore:
    """A bounded, thread-safe string store with exact expiry; the memory provider's "server"."""

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise InvalidInputError("max_entries", max_entries, "must be a positive integer")
        self.max_entries = max_entries
        self._clock = clock
        self._data: dict[str, _Entry] = {}
        self._by_sandbox: dict[str, dict[str, None]] = {}  # each sandbox's keys, oldest first
        self._deadlines: list[tuple[float, int, str]] = []
        self._seq = 0
        self._lock = threading.Lock()
        self.expired_count = 0
        self.evicted_count = 0

    def put(self, key: str, value: str, ttl_seconds: float | None) -> None:
        """Store ``value``; with ``ttl_seconds`` it disappears that many seconds from now."""
        with self._lock:
            now = self._clock()
            self._purge_due(now)
            self._seq += 1
            deadline = None if ttl_seconds is None else now + ttl_seconds
            if self._forget(key) is None and len(self._data) >= self.max_entries:
                self._evict_for(_sandbox_of(key))
            self._data[key] = _Entry(value, deadline, self._seq)
            self._by_sandbox.setdefault(_sandbox_of(key), {})[key] = None
            if deadline is not None:
                heapq.heappush(self._deadlines, (deadline, self._seq, key))
                self._compact_deadlines()

    def fetch(self, key: str) -> str | None:
        """Return the live value under ``key``, or None."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            if self._is_due(entry, self._clock()):
                self._forget(key)
                self.expired_count += 1
                return None
            return entry.value

    def remove(self, key: str) -> bool:
        """Delete ``key``; True if a live value was there."""
        with self._lock:
            entry = self._forget(key)
            return entry is not None and not self._is_due(entry, self._clock())

    def purge_expired(self) -> int:
        """Drop every expired entry now; return how many went."""
        with self._lock:
            before = self.expired_count
            self._purge_due(self._clock())
            return self.expired_count - before

    def clear(self) -> None:
        """Remove everything."""
        with self._lock:
            self._data.clear()
            self._by_sandbox.clear()
            self._deadlines.clear()

    def __len__(self) -> int:
        """Entries held, including expired ones not yet purged."""
        return len(self._data)

    def stats(self) -> dict[str, int]:
        """Counts for monitoring: entries held, the limit, expirations and evictions so far."""
        return {
            "entries": len(self._data),
            "max_entries": self.max_entries,
            "expired": self.expired_count,
            "evicted": self.evicted_count,
        }

    @staticmethod
    def _is_due(entry: _Entry, now: float) -> bool:
        return entry.deadline is not None and now >= entry.deadline

    def _purge_due(self, now: float) -> None:
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            _, seq, key = heapq.heappop(heap)
            entry = self._data.get(key)
            if entry is not None and entry.seq == seq:
                self._forget(key)
                self.expired_count += 1

    def _forget(self, key: str) -> _Entry | None:
        entry = self._data.pop(key, None)
        if entry is not None:
            keys = self._by_sandbox[_sandbox_of(key)]
            del keys[key]
            if not keys:
                del self._by_sandbox[_sandbox_of(key)]
        return entry

    def _evict_for(self, writer: str) -> None:
        own = len(self._by_sandbox.get(writer, ()))
        largest = max(self._by_sandbox, key=lambda sandbox: len(self._by_sandbox[sandbox]))
        victim = writer if own >= len(self._by_sandbox[largest]) else largest
        self._forget(next(iter(self._by_sandbox[victim])))
        self.evicted_count += 1

    def _compact_deadlines(self) -> None:
        # Overwritten keys leave stale heap entries behind; rebuild once they dominate.
        if len(self._deadlines) <= 2 * len(self._data) + _HEAP_SLACK:
            return
        self._deadlines = [
            (entry.deadline, entry.seq, key)
            for key, entry in self._data.items()
            if entry.deadline is not None
        ]
        heapq.heapify(self._deadlines)


def _sandbox_of(key: str) -> str:
    """The sandbox a key belongs to (``sandbox:{id}:...``), or "" for any other key."""
    if key.startswith("sandbox:"):
        return key.split(":", 2)[1]
    return ""


class MemorySession:
    """The ``KeyValueSession`` of the memory provider: a view of one ``MemoryStore``."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def setex(self, key: str, ttl_seconds: float, value: str, /) -> None:
        """Store ``value`` for ``ttl_seconds`` seconds (a positive number, fractions allowed)."""
        key = check_key(key)
        ttl = check_seconds(ttl_seconds)
        self.store.put(key, check_value(value), ttl)

    async def set(self, key: str, value: str, /) -> None:
        """Store ``value`` without expiry (it can still be evicted when the store is full)."""
        key = check_key(key)
        self.store.put(key, check_value(value), None)

    async def get(self, key: str, /) -> str | None:
        """Return the value, or None when absent or expired."""
        return self.store.fetch(check_key(key))

    async def delete(self, key: str, /) -> bool:
        """Remove ``key``; True if it held a live value."""
        return self.store.remove(check_key(key))


class MemoryProviderFactory:
    """Opens contexts on one ``MemoryStore``; every context sees the same data.

    ``MemoryProviderFactory()`` makes a private store; pass ``store=`` to share one.
    """

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        session = MemorySession(self.store)
        self._context = SharedSessionContext(lambda: session)

    def __call__(self) -> AbstractAsyncContextManager[MemorySession]:
        """Open a context yielding a ``MemorySession``."""
        return self._context

    async def aclose(self) -> None:
        """Nothing to release; present so every factory can be closed the same way."""
