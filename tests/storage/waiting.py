"""Checks that a store call waiting for another writer's lock leaves the event loop running."""

from __future__ import annotations

import asyncio
from typing import Any

#: How long the store under test may wait for a lock: reached only if the wait blocked the loop.
LOCK_TIMEOUT = 10.0


async def assert_pending_while_the_loop_turns(task: asyncio.Task[Any], turns: int = 20) -> None:
    """Let the event loop turn ``turns`` times and check ``task`` is still waiting.

    The lock ``task`` waits for is released only after this returns, so a wait that blocked
    the loop would keep these turns from happening until the store's ``LOCK_TIMEOUT`` ran out,
    and the task would be done (failed) by then.
    """
    for turn in range(turns):
        await asyncio.sleep(0.01)
        assert not task.done(), f"the call ended on turn {turn} while the lock was held: {task}"
