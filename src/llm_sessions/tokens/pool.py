"""A small, bounded pool of threads for token counting, so the event loop stays responsive.

Counting a long text takes a second per few megabytes of CPU. ``asyncio.to_thread`` would queue
it in the loop's default executor, shared with everything else and sized for I/O; this pool is
its own, with ``COUNTING_THREADS`` threads: at most that many counts run at once, the rest wait
in line, and a server under heavy requests keeps its other threads and its loop for the rest.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import ParamSpec, TypeVar

__all__ = ["COUNTING_NICENESS", "COUNTING_THREADS", "in_counting_pool"]

COUNTING_THREADS = max(1, min(4, os.cpu_count() or 1))
"""Threads of the counting pool: at most the cores, at most 4."""

P = ParamSpec("P")
T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


COUNTING_NICENESS = 10
"""How much lower than the process the counting threads are scheduled (Linux), so that when
the cores are busy the event loop's thread runs first."""


def _lower_priority() -> None:
    # Linux schedules threads one by one: PRIO_PROCESS with a thread id renices that thread.
    if sys.platform.startswith("linux"):
        with suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), COUNTING_NICENESS)


def _counting_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                COUNTING_THREADS,
                thread_name_prefix="llm-sessions-count",
                initializer=_lower_priority,
            )
        return _pool


async def in_counting_pool(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` run in the counting pool, awaited without blocking.

    Args:
        function: A function that is safe to run in another thread.
        *args: Its positional arguments.
        **kwargs: Its keyword arguments.

    Returns:
        What ``function`` returns (what it raises is raised here).
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        _counting_pool(), functools.partial(function, *args, **kwargs)
    )
