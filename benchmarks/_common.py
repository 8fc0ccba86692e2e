"""Small helpers shared by the benchmarks: timing, tables, machine description."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any


def machine() -> str:
    """One line describing where the numbers were taken."""
    return (
        f"{platform.python_implementation()} {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
    )


async def median_ms(action: Callable[[], Awaitable[Any]], repeat: int) -> float:
    """Median wall time of ``repeat`` awaited calls, in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table (benchmarks print, they do not depend on rich)."""
    cells = [[str(c) for c in header], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 100 else f"{value:,.0f}"
    return str(value)
