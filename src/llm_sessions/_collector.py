"""Pausing the cyclic garbage collector around a bulk decode of stored events."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a log is decoded.

    Decoding allocates several objects per event and creates no cycles, but the allocations
    trigger collections that scan every object alive in the process: in a process that already
    holds large sessions this doubled the time of a load. The previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
