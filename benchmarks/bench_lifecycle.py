"""Throughput of the lifecycle layer (llm_sessions.lifecycle) beside raw redis-py.

Run: ``.venv/bin/python benchmarks/bench_lifecycle.py [--ops N] [--rounds R] [--concurrency C]``.
The Redis URL comes from ``LLM_SESSIONS_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/0).

Each provider row opens a context per operation, as ``SessionManager`` does. The raw rows send
the same Redis commands through one pooled ``redis.asyncio.Redis`` client:

  set       SET key value PX ttl
  get       GET key
  allocate  SET record-json PX ttl                      (allocate_session, generated id)
  validate  GET record, then SET access-time PX ttl     (validate_session)

Ours and raw alternate within each round and the best round of each is reported, so a noisy
machine penalises neither side. ``raw/ours`` is raw ops/s divided by ours (1.0 = no overhead;
the target is <= 2.0). All keys live under a unique ``bench-…`` prefix and are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from redis.asyncio import Redis

from llm_sessions.lifecycle import MemoryProviderFactory, SessionManager
from llm_sessions.lifecycle.keys import access_key, record_key
from llm_sessions.lifecycle.protocol import ProviderFactory
from llm_sessions.lifecycle.providers.redis import RedisProviderFactory

Op = Callable[[int], Awaitable[object]]
OPERATIONS = ("set", "get", "allocate", "validate")


async def rate(op: Op, ops: int, concurrency: int) -> float:
    """Operations per second running ``op(0..ops-1)`` on ``concurrency`` tasks."""
    per_task = max(1, ops // concurrency)

    async def worker(offset: int) -> None:
        for i in range(offset, offset + per_task):
            await op(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker(n * per_task) for n in range(concurrency)))
    return per_task * concurrency / (time.perf_counter() - started)


def lifecycle_ops(factory: ProviderFactory, manager: SessionManager, prefix: str) -> dict[str, Op]:
    """Provider get/set (a context per operation) and the manager's allocate/validate."""
    ids: list[str] = []

    async def set_op(i: int) -> None:
        async with factory() as session:
            await session.setex(f"{prefix}:kv:{i}", 300, "value")

    async def get_op(i: int) -> None:
        async with factory() as session:
            await session.get(f"{prefix}:kv:{i}")

    async def allocate(i: int) -> None:
        ids.append(await manager.allocate_session(user_id="bench"))

    async def validate(i: int) -> None:
        await manager.validate_session(ids[i % len(ids)])

    return {"set": set_op, "get": get_op, "allocate": allocate, "validate": validate}


def raw_ops(client: Redis, prefix: str, sandbox: str, payload: str) -> dict[str, Op]:
    """The same Redis commands on one pooled redis-py client."""

    async def set_op(i: int) -> None:
        await client.set(f"{prefix}:raw:{i}", "value", px=300_000)

    async def get_op(i: int) -> None:
        await client.get(f"{prefix}:raw:{i}")

    async def allocate(i: int) -> None:
        await client.set(record_key(sandbox, f"raw-{i}"), payload, px=86_400_000)

    async def validate(i: int) -> None:
        await client.get(record_key(sandbox, f"raw-{i}"))
        now = datetime.now(UTC).isoformat()
        await client.set(access_key(sandbox, f"raw-{i}"), now, px=86_400_000)

    return {"set": set_op, "get": get_op, "allocate": allocate, "validate": validate}


async def best_rates(
    sides: dict[str, dict[str, Op]], ops: int, rounds: int, concurrency: int
) -> dict[str, dict[str, float]]:
    """Best ops/s per side and operation over ``rounds`` alternating rounds."""
    best: dict[str, dict[str, float]] = {side: {} for side in sides}
    for _ in range(rounds):
        for name in OPERATIONS:
            for side, side_ops in sides.items():
                value = await rate(side_ops[name], ops, concurrency)
                best[side][name] = max(best[side].get(name, 0.0), value)
    return best


async def cleanup(client: Redis, prefix: str) -> None:
    doomed = [key async for key in client.scan_iter(match=f"*{prefix}*", count=1000)]
    for start in range(0, len(doomed), 500):
        await client.delete(*doomed[start : start + 500])


async def main(ops: int, rounds: int, concurrency: int, redis_url: str) -> None:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"

    memory = MemoryProviderFactory()
    mem_manager = SessionManager(sandbox_id=f"{prefix}-mem", session_factory=memory)
    mem = await best_rates(
        {"ours": lifecycle_ops(memory, mem_manager, prefix)}, ops, rounds, concurrency
    )

    factory = RedisProviderFactory(redis_url)
    raw = Redis.from_url(redis_url, decode_responses=True)
    try:
        manager = SessionManager(sandbox_id=f"{prefix}-redis", session_factory=factory)
        sample = await manager.allocate_session(user_id="bench")
        async with factory() as session:
            payload = await session.get(record_key(manager.sandbox_id, sample)) or "{}"
        await raw.ping()  # open the raw pool's connection outside the timed loops, as ours is
        sides = {
            "ours": lifecycle_ops(factory, manager, prefix),
            "raw": raw_ops(raw, prefix, f"{prefix}-raw", payload),
        }
        red = await best_rates(sides, ops, rounds, concurrency)
        assert factory.client is not None
        pool = factory.client.connection_pool
        connections = sum(count for count, _ in pool.get_connection_count())
    finally:
        await cleanup(raw, prefix)
        await raw.aclose()
        await factory.aclose()

    print(
        f"llm_sessions.lifecycle: {ops} ops per row, best of {rounds} rounds, "
        f"concurrency {concurrency}"
    )
    print(f"Redis at {redis_url}; the provider's pool ended with {connections} connection(s)")
    print()
    header = (
        f"{'provider':<8} {'operation':<10} {'ours ops/s':>12} {'raw ops/s':>12} {'raw/ours':>9}"
    )
    print(header)
    print("-" * len(header))
    for name in OPERATIONS:
        print(f"{'memory':<8} {name:<10} {mem['ours'][name]:>12,.0f} {'-':>12} {'-':>9}")
    for name in OPERATIONS:
        ours, base = red["ours"][name], red["raw"][name]
        print(f"{'redis':<8} {name:<10} {ours:>12,.0f} {base:>12,.0f} {base / ours:>9.2f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Lifecycle layer throughput vs raw redis-py.")
    parser.add_argument("--ops", type=int, default=3000, help="operations per row (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, best kept (default 3)")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="concurrent tasks per row (default 1)"
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    args = parser.parse_args()
    if not 1 <= args.ops <= 1_000_000:
        parser.error("--ops must be between 1 and 1,000,000")
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be between 1 and 20")
    if not 1 <= args.concurrency <= 256:
        parser.error("--concurrency must be between 1 and 256")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    asyncio.run(main(arguments.ops, arguments.rounds, arguments.concurrency, arguments.redis_url))
