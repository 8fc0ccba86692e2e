"""Wall and CPU time of a call for ``bench_fleet``: on a busy shared machine the wall time of
a page is mostly waiting for a core, so the CPU it took (this process, and on PostgreSQL the
server processes of the store's connections) is printed beside it."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["server_pids", "wall_and_cpu"]

_TICK = os.sysconf("SC_CLK_TCK")


def server_pids(store: Any) -> list[int]:
    """The PostgreSQL server processes of the store's pooled connections (none elsewhere)."""
    pool = getattr(store, "_pool", None)
    holders = getattr(pool, "_holders", ())
    return [h._con.get_server_pid() for h in holders if getattr(h, "_con", None) is not None]


def _cpu_of(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # not on this machine
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


async def wall_and_cpu(action: Callable[[], Awaitable[Any]], repeat: int, pids: list[int]) -> str:
    """ "median wall ms (mean CPU ms)" over ``repeat`` calls (CPU: this process and ``pids``)."""
    samples = []
    cpu_before, server_before = time.process_time(), _cpu_of(pids)
    for _ in range(repeat):
        start = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu_before + _cpu_of(pids) - server_before
    return f"{statistics.median(samples) * 1000:.2f} ({cpu / repeat * 1000:.2f})"
