"""One thread that runs a store's blocking calls in order, handed over without an executor.

A store whose driver blocks (sqlite3) and whose connection belongs to one thread runs every
call there. ``loop.run_in_executor`` costs two futures and a callback chain per call; handing
the call over on a queue and settling the awaiting future with one ``call_soon_threadsafe``
takes about half as long, and a chat turn makes several such calls.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["WorkerThread"]

_T = TypeVar("_T")
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class WorkerThread:
    """A daemon thread, started on first use, that runs calls one at a time in order.

    A call whose caller was cancelled before the thread reached it is skipped; one already
    running finishes (a blocking call cannot be interrupted), and its result is dropped.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def run(self, work: Callable[..., _T], *args: Any) -> _T:
        """Run ``work(*args)`` on the thread and return its result (or raise its error)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
            self._thread.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        self._jobs.put((loop, future, work, args))
        return await future

    def stop(self) -> None:
        """Let the thread end once the calls already handed over have run."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread = None

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, work, args = job
            if future.cancelled():
                continue
            try:
                outcome: tuple[Any, BaseException | None] = (work(*args), None)
            except BaseException as exc:  # handed to the caller, whatever it is
                outcome = (None, exc)
            try:
                loop.call_soon_threadsafe(_settle, future, *outcome)
            except RuntimeError:  # the caller's loop is closed: nobody waits for the outcome
                pass


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
