"""A bounded cache of successful tool results, keyed by tool and canonical JSON arguments.

Identical calls that run at the same time share one execution: the second waits for the first
and takes its result if it succeeded (and runs itself if it did not).
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import JsonValue

from .execution import Outcome

__all__ = ["ResultCache", "cache_key"]


def cache_key(qualified_name: str, arguments: Mapping[str, Any]) -> str:
    """The cache key of a call: the tool's qualified name and its arguments as canonical JSON."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{qualified_name}\x00{canonical}"


class ResultCache:
    """Successful results, least recently used first out once ``max_size`` is reached."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._values: OrderedDict[str, JsonValue] = OrderedDict()
        self._running: dict[str, asyncio.Future[Outcome | None]] = {}

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        """Forget every cached result."""
        self._values.clear()

    async def get_or_run(
        self, key: str, run: Callable[[], Awaitable[Outcome]]
    ) -> tuple[Outcome, bool]:
        """Return ``(outcome, from_cache)``: the cached result, or ``run()``'s outcome."""
        hit = self._lookup(key)
        if hit is not None:
            return hit, True
        running = self._running.get(key)
        if running is not None:
            shared = await asyncio.shield(running)
            if shared is not None and shared.ok:
                return Outcome(value=shared.value), True
        return await self._run_and_share(key, run), False

    def _lookup(self, key: str) -> Outcome | None:
        if key not in self._values:
            return None
        self._values.move_to_end(key)
        return Outcome(value=self._values[key])

    async def _run_and_share(self, key: str, run: Callable[[], Awaitable[Outcome]]) -> Outcome:
        future: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        outcome: Outcome | None = None
        try:
            outcome = await run()
            if outcome.ok:
                self._remember(key, outcome.value)
            return outcome
        finally:
            future.set_result(outcome)  # None (cancelled or failed unexpectedly): waiters run
            if self._running.get(key) is future:
                del self._running[key]

    def _remember(self, key: str, value: JsonValue) -> None:
        if self.max_size <= 0:
            return
        self._values[key] = value
        self._values.move_to_end(key)
        while len(self._values) > self.max_size:
            self._values.popitem(last=False)
