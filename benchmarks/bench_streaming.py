"""What recording a reply while it streams costs, against recording the same text as one event.

For each store, ``--rounds`` rounds of:

- ``one event``: ``await sm.ai_responds(text, model=...)`` with the whole reply;
- ``streamed``: ``async with sm.ai_stream(model=..., checkpoint_ms=...) as reply`` and
  ``await reply.write(delta)`` for each of ``--deltas`` deltas (short pieces, as a model
  streams them), as fast as the loop goes, so only the checkpoints that fall due are written.

Each round runs in a fresh session that already holds one user message. The streamed round
times every save of the store: the saves before the last are the checkpoints (the first falls
``checkpoint_ms`` after the stream opens), the last one completes the reply. The target:

    streamed <= 1.5 x one event + (checkpoint writes x the median checkpoint write)

with at most one checkpoint per ``checkpoint_ms`` of streaming. Figures are
medians over the rounds, wall clock, on whatever else the machine is doing.

    python benchmarks/bench_streaming.py --stores memory,sqlite,file --rounds 7

Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from _common import machine, table

from llm_sessions import SessionManager
from llm_sessions.storage import SessionStore, open_store

POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MODEL = "gpt-4o"


def store_url(kind: str, folder: str) -> str:
    """A URL on data private to this run."""
    token = uuid.uuid4().hex[:10]
    return {
        "memory": "memory://",
        "file": f"file://{folder}/files",
        "sqlite": f"sqlite:///{folder}/bench.db",
        "redis": f"{REDIS_URL}?key_prefix=bench-stream-{token}:",
        "postgres": f"{POSTGRES_URL}?schema=bench_stream_{token}",
    }[kind]


class TimedSaves:
    """Wraps a store's ``save`` to time each call."""

    def __init__(self, store: SessionStore) -> None:
        self.times: list[float] = []
        original = store.save

        async def save(session: Any) -> None:
            start = time.perf_counter()
            await original(session)
            self.times.append(time.perf_counter() - start)

        store.save = save  # type: ignore[method-assign]


async def timed(action: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await action()
    return time.perf_counter() - start


async def one_round(store: SessionStore, deltas: list[str], checkpoint_ms: int) -> dict[str, Any]:
    """Times of one event and of one streamed reply, and the streamed reply's saves."""
    text = "".join(deltas)
    single = SessionManager(store=store)
    await single.user_says("Tell me a long story")
    one_event = await timed(lambda: single.ai_responds(text, model=MODEL))

    streamed = SessionManager(store=store)
    await streamed.user_says("Tell me a long story")
    saves = TimedSaves(store)

    async def stream() -> None:
        async with streamed.ai_stream(model=MODEL, checkpoint_ms=checkpoint_ms) as reply:
            for delta in deltas:
                await reply.write(delta)

    elapsed = await timed(stream)
    del store.save  # type: ignore[method-assign]  # the class's save again
    checkpoints = saves.times[:-1]
    return {
        "one_event": one_event,
        "streamed": elapsed,
        "checkpoints": len(checkpoints),
        "checkpoint_write": statistics.median(checkpoints) if checkpoints else 0.0,
    }


async def bench_store(kind: str, args: argparse.Namespace) -> list[Any]:
    deltas = [f"word{n % 97} " for n in range(args.deltas)]
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(store_url(kind, folder))
        try:
            await one_round(store, deltas[:50], args.checkpoint_ms)  # warm up
            rounds = [
                await one_round(store, deltas, args.checkpoint_ms) for _ in range(args.rounds)
            ]
        finally:
            if kind in ("redis", "postgres"):
                await store.drop_all()  # type: ignore[attr-defined]
            await store.close()
    med = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    allowance = 1.5 * med["one_event"] + med["checkpoints"] * med["checkpoint_write"]
    return [
        kind,
        med["one_event"] * 1000,
        med["streamed"] * 1000,
        int(med["checkpoints"]),
        med["checkpoint_write"] * 1000,
        allowance * 1000,
        "yes" if med["streamed"] <= allowance else "NO",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", default="memory,sqlite,file")
    parser.add_argument("--deltas", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--checkpoint-ms", type=int, default=250)
    args = parser.parse_args()
    rows = [await bench_store(kind, args) for kind in args.stores.split(",")]
    header = [
        "store",
        "one event ms",
        "streamed ms",
        "checkpoints",
        "checkpoint ms",
        "allowed ms",
        "within",
    ]
    title = (
        f"{args.deltas} deltas, checkpoint_ms={args.checkpoint_ms}, median of {args.rounds} "
        f"rounds ({machine()})"
    )
    print(table(title, header, rows))


if __name__ == "__main__":
    asyncio.run(main())
