"""``bench_content.py`` streaming: a reply recorded while it streams against the same text
recorded as one event.

For each store, ``--rounds`` rounds (after one warm-up round), each in two fresh sessions that
already hold one user message:

- ``one event``: ``await sm.ai_responds(text, model=...)`` with the whole reply;
- ``streamed``: ``async with sm.ai_stream(model=..., checkpoint_ms=...) as reply`` and
  ``await reply.write(delta)`` for each of ``--deltas`` deltas (short pieces, as a model
  streams them), as fast as the loop goes, so only the checkpoints that fall due are written.

Both count the reply's tokens (no usage is given). Every save of the store during the streamed
reply is timed: the saves before the last are its checkpoints, the last completes it.

The allowance of the target, per store, from the medians over the rounds::

    allowed = 1.5 x one event + checkpoint writes

where ``checkpoint writes`` is the time a streamed reply spent in its checkpoint saves (their
number times their mean time, shown as ``checkpoints`` and ``checkpoint ms``: compare the latter
with ``one event ms``, as each rewrites one event); the reply passes when ``streamed <=
allowed`` and it took at most one checkpoint per ``checkpoint_ms`` of its streaming
(``checkpoints <= streamed / checkpoint_ms``). ``bare loop`` is the same loop awaiting a
coroutine that does nothing: what 2,000 ``await``s cost any recorder, shown for scale.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _common import table
from _content_stores import drop, store_url

from llm_sessions import SessionManager
from llm_sessions.storage import SessionStore, open_store

MODEL = "gpt-4o"
TARGET_FACTOR = 1.5


class TimedSaves:
    """Wraps a store's ``save`` to time each call, until ``close()``."""

    def __init__(self, store: SessionStore) -> None:
        self.times: list[float] = []
        self._store = store
        original = store.save

        async def save(session: Any) -> None:
            start = time.perf_counter()
            await original(session)
            self.times.append(time.perf_counter() - start)

        store.save = save  # type: ignore[method-assign]

    def close(self) -> None:
        del self._store.save  # type: ignore[method-assign]  # the class's save again


async def timed(action: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """Wall time and CPU time of this process (which a busy machine does not stretch)."""
    start, cpu = time.perf_counter(), time.process_time()
    await action()
    return time.perf_counter() - start, time.process_time() - cpu


async def bare_loop(deltas: list[str]) -> float:
    async def nothing(delta: str) -> None:
        return None

    start = time.perf_counter()
    for delta in deltas:
        await nothing(delta)
    return time.perf_counter() - start


async def one_round(store: SessionStore, deltas: list[str], checkpoint_ms: float) -> dict[str, Any]:
    """Times of one event and of one streamed reply, and the streamed reply's saves."""
    text = "".join(deltas)
    single = SessionManager(store=store)
    await single.user_says("Tell me a long story")
    one_event, one_event_cpu = await timed(lambda: single.ai_responds(text, model=MODEL))

    streamed = SessionManager(store=store)
    await streamed.user_says("Tell me a long story")

    async def stream() -> None:
        async with streamed.ai_stream(model=MODEL, checkpoint_ms=checkpoint_ms) as reply:
            for delta in deltas:
                await reply.write(delta)

    saves = TimedSaves(store)
    try:
        elapsed, elapsed_cpu = await timed(stream)
    finally:
        saves.close()
    checkpoints = saves.times[:-1]
    return {
        "one_event": one_event,
        "streamed": elapsed,
        "one_event_cpu": one_event_cpu,
        "streamed_cpu": elapsed_cpu,
        "checkpoints": len(checkpoints),
        "checkpoint_writes": sum(checkpoints),
        "bare": await bare_loop(deltas),
    }


async def bench_store(kind: str, args: argparse.Namespace) -> list[Any]:
    deltas = [f"word{n % 97} " for n in range(args.deltas)]
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(store_url(kind, folder, "stream"))
        try:
            await one_round(store, deltas[:50], args.checkpoint_ms)  # warm up
            rounds = [
                await one_round(store, deltas, args.checkpoint_ms) for _ in range(args.rounds)
            ]
        finally:
            await drop(store, kind)
            await store.close()
    med = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    best = {key: min(r[key] for r in rounds) for key in ("one_event", "streamed")}
    allowed = TARGET_FACTOR * med["one_event"] + med["checkpoint_writes"]
    per_checkpoint = med["checkpoint_writes"] / med["checkpoints"] if med["checkpoints"] else 0.0
    most_checkpoints = math.floor(med["streamed"] * 1000 / args.checkpoint_ms)
    within = med["streamed"] <= allowed and med["checkpoints"] <= most_checkpoints
    return [
        kind,
        med["bare"] * 1000,
        med["one_event"] * 1000,
        med["streamed"] * 1000,
        f"{med['streamed'] / med['one_event']:.2f}x",
        f"{best['streamed'] / best['one_event']:.2f}x",
        f"{med['streamed_cpu'] / med['one_event_cpu']:.2f}x",
        f"{med['checkpoints']:g}",
        per_checkpoint * 1000,
        allowed * 1000,
        f"{allowed / med['one_event']:.2f}x",
        "yes" if within else "NO",
    ]


async def run(kinds: list[str], args: argparse.Namespace) -> str:
    """The section's table, one row per store of ``kinds``."""
    rows = [await bench_store(kind, args) for kind in kinds]
    header = [
        "store",
        "bare loop ms",
        "one event ms",
        "streamed ms",
        "ratio",
        "best ratio",
        "cpu ratio",
        "checkpoints",
        "checkpoint ms",
        "allowed ms",
        "allowed ratio",
        "within",
    ]
    title = (
        f"Streaming: a reply of {args.deltas} deltas, checkpoint_ms={args.checkpoint_ms:g}, "
        f"median of {args.rounds} rounds"
    )
    target = (
        f"target: streamed <= {TARGET_FACTOR:g} x one event + checkpoints x checkpoint ms "
        f"(= allowed ms; checkpoint ms is the mean of the reply's checkpoint saves), with at "
        f"most one checkpoint per {args.checkpoint_ms:g} ms streamed"
    )
    legend = (
        "ms and ratio: medians over the rounds (within: the median streamed reply against the "
        "allowance); best ratio: the fastest streamed reply over the fastest single event; "
        "cpu ratio: the same over this process's CPU time (medians)"
    )
    return "\n".join([table(title, header, rows), legend, target])
