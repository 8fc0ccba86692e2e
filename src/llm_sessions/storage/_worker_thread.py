"""One thread that runs a store's blocking calls in order, handed over without an executor.

A store whose driver blocks (sqlite3) and whose connection belongs to one thread runs every
call there. ``loop.run_in_executor`` costs two futures and a callback chain per call; handing
the call over on a queue and settling the awaiting future with one ``call_soon_threadsafe``
takes about half as long, and a chat turn makes several such calls.

A stopped worker's thread is not ended but parked, up to ``IDLE_THREADS`` of them: the next
store object that starts a worker takes one instead of starting a thread. Starting one waits
for the new thread to be scheduled before the first call is even handed over, which on a busy
machine is a large part of a short read from a fresh store object (a store opened per
request, say).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["IDLE_THREADS", "WorkerThread"]

_T = TypeVar("_T")
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]
_Jobs = queue.SimpleQueue["_Job | None"]

IDLE_THREADS = 4
"""How many stopped workers' threads wait, parked, for the next worker to start."""

_parked: list[tuple[threading.Thread, _Jobs]] = []
_parked_lock = threading.Lock()


class WorkerThread:
    """A daemon thread, taken on first use, that runs calls one at a time in order.

    A call whose caller was cancelled before the thread reached it is skipped; one already
    running finishes (a blocking call cannot be interrupted), and its result is dropped.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: _Jobs = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def run(self, work: Callable[..., _T], *args: Any) -> _T:
        """Run ``work(*args)`` on the thread and return its result (or raise its error)."""
        if self._thread is None:
            self._thread, self._jobs = _take_thread(self._name)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        self._jobs.put((loop, future, work, args))
        return await future

    def stop(self) -> None:
        """Give up the thread once the calls already handed over have run: it is parked for
        the next worker, or ends when ``IDLE_THREADS`` already wait."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread = None


def _take_thread(name: str) -> tuple[threading.Thread, _Jobs]:
    """A parked thread and its queue, else a new thread started on a new queue."""
    with _parked_lock:
        if _parked:
            parked, parked_jobs = _parked.pop()
            parked.name = name
            return parked, parked_jobs
    jobs: _Jobs = queue.SimpleQueue()
    thread = threading.Thread(target=_serve, args=(jobs,), name=name, daemon=True)
    thread.start()
    return thread, jobs


def _serve(jobs: _Jobs) -> None:
    while True:
        while (job := jobs.get()) is not None:
            _run_job(*job)
        # Stopped: the calls handed over before the stop have run, and no worker holds this
        # thread until it is parked, so the next one's calls come after them.
        with _parked_lock:
            if len(_parked) >= IDLE_THREADS:
                return
            _parked.append((threading.current_thread(), jobs))


def _run_job(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    work: Callable[..., Any],
    args: tuple[Any, ...],
) -> None:
    if future.cancelled():
        return
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
