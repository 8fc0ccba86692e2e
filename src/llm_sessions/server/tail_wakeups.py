"""Wake the live tails of a session when this process writes to it.

A tail waits between two reads of the store; a save made through this process ends the wait
at once, so its tails send the new events without polling fast. Writes made elsewhere (another
worker, another machine) are found by the next read, which comes sooner the busier the session
is (see ``tail``). A waiting tail holds one future and one timer, both gone when it wakes.
"""

from __future__ import annotations

import asyncio

__all__ = ["TailWakeups"]


class TailWakeups:
    """The tails waiting now, by session id."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Future[None]]] = {}

    @property
    def waiting(self) -> int:
        """How many tails wait now."""
        return sum(len(futures) for futures in self._waiting.values())

    def notify(self, session_id: str) -> None:
        """Wake every tail of ``session_id`` that waits now.

        Args:
            session_id: The session just written.
        """
        for future in self._waiting.get(session_id, ()):
            if not future.done():
                future.set_result(None)

    async def wait(self, session_id: str, seconds: float) -> None:
        """Wait until ``notify(session_id)`` or until ``seconds`` have passed.

        Args:
            session_id: The session the tail follows.
            seconds: The longest wait.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        futures = self._waiting.setdefault(session_id, set())
        futures.add(future)
        timer = loop.call_later(seconds, _wake, future)
        try:
            await future
        finally:
            timer.cancel()
            futures.discard(future)
            if not futures and self._waiting.get(session_id) is futures:
                del self._waiting[session_id]


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
