"""What one Redis, one 3-master Redis Cluster and one PostgreSQL primary carry, in chat turns.

    .venv/bin/python benchmarks/bench_scale_out.py [--sessions 50] [--turns 40]

For each deployment, ``--sessions`` concurrent conversations each run ``--turns`` chat turns
(``user_says``, ``get_messages_for_llm(max_tokens=4000)``, ``ai_responds``) through their own
``SessionManager``, all on one store object (one bounded connection pool). Printed: turns per
second, the p50 and p99 turn, and the server CPU time per turn with its inverse, turns per
second of server CPU (Redis: ``INFO cpu`` of every node; PostgreSQL: its processes' CPU time
from ``/proc``, so run it while nothing else uses that server). With one client process on two
cores the client is the bottleneck; the server's CPU per turn is what tells how many turns a
server would carry.

The Cluster is private: three ``redis-server`` processes started on free ports in a temporary
folder (by ``tests/redis_topologies.py``) and stopped at the end; the keys each master holds
show how the sessions spread over them by hash slot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

import redis
from _common import machine, table

from llm_sessions import SessionManager
from llm_sessions.storage import SessionStore, open_store
from llm_sessions.tokens import count_text
from redis_topologies import RedisCluster, redis_server_available

QUESTION = "How do I compute the area of a circle of radius {i} cm? Please show the formula."
ANSWER = "The area is pi times the radius squared: for {i} cm that is about {a:.1f} square cm."
REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def redis_cpu(ports: list[tuple[str, int]]) -> Callable[[], float]:
    """Seconds of CPU the Redis servers at ``ports`` have used so far."""

    def used() -> float:
        total = 0.0
        for host, port in ports:
            with redis.Redis(host=host, port=port) as client:
                info = client.info("cpu")
            total += float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        return total

    return used


def postgres_cpu() -> float:
    """Seconds of CPU the local ``postgres`` processes alive now have used."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


async def conversation(store: SessionStore, turns: int, latencies: list[float]) -> None:
    manager = SessionManager(store=store)
    for i in range(turns):
        start = time.perf_counter()
        await manager.user_says(QUESTION.format(i=i))
        await manager.get_messages_for_llm(max_tokens=4000)
        await manager.ai_responds(ANSWER.format(i=i, a=3.14159 * i * i), model="gpt-4o-mini")
        latencies.append(time.perf_counter() - start)


async def measure(
    name: str,
    url: str,
    cpu: Callable[[], float],
    args: argparse.Namespace,
    before_drop: Callable[[], None] | None = None,
) -> list[Any]:
    store = open_store(url)
    try:
        await conversation(store, 2, [])  # connect and load the scripts
        latencies: list[float] = []
        used_before = cpu()
        start = time.perf_counter()
        await asyncio.gather(
            *(conversation(store, args.turns, latencies) for _ in range(args.sessions))
        )
        seconds = time.perf_counter() - start
        server_cpu = cpu() - used_before
        if before_drop is not None:
            before_drop()
    finally:
        drop = getattr(store, "drop_all", None)
        if drop is not None:
            await drop()
        await store.close()
    ordered = sorted(latencies)
    turns = len(latencies)
    return [
        name,
        turns,
        turns / seconds,
        statistics.median(ordered) * 1000,
        ordered[min(turns - 1, int(turns * 0.99))] * 1000,
        server_cpu / turns * 1000,
        turns / server_cpu if server_cpu > 0 else None,
    ]


def cluster_spread(cluster: RedisCluster, key_prefix: str) -> list[int]:
    """How many of the run's keys each master holds."""
    counts = []
    for port in cluster.ports:
        with redis.Redis(host="127.0.0.1", port=port) as client:
            counts.append(sum(1 for _ in client.scan_iter(match=f"{key_prefix}*", count=1000)))
    return counts


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--turns", type=int, default=40)
    args = parser.parse_args()
    count_text("warm up", "gpt-4o-mini")
    print(f"machine: {machine()}")
    token = uuid.uuid4().hex[:8]
    rows = []
    parsed = redis.Redis.from_url(REDIS_URL).connection_pool.connection_kwargs
    single = [(str(parsed.get("host", "127.0.0.1")), int(parsed.get("port", 6379)))]
    rows.append(
        await measure(
            "Redis (one server)",
            f"{REDIS_URL}?key_prefix=bench-scale-{token}:",
            redis_cpu(single),
            args,
        )
    )
    if redis_server_available():
        cluster = RedisCluster.start()
        try:
            prefix = f"bench-scale-cluster-{token}:"

            def spread() -> None:
                print(
                    f"keys per Cluster master for {args.sessions + 1} sessions:",
                    cluster_spread(cluster, prefix),
                )

            rows.append(
                await measure(
                    "Redis Cluster (3 masters)",
                    f"{cluster.url}?key_prefix={prefix}",
                    redis_cpu([("127.0.0.1", port) for port in cluster.ports]),
                    args,
                    spread,
                )
            )
        finally:
            cluster.stop()
    else:
        print("skipped the Redis Cluster: redis-server is not installed")
    rows.append(
        await measure(
            "PostgreSQL (one primary, pool of 10)",
            f"{POSTGRES_URL}?schema=bench_scale_{token}",
            postgres_cpu,
            args,
        )
    )
    print(
        table(
            f"{args.sessions} concurrent conversations x {args.turns} chat turns (one client)",
            [
                "deployment",
                "turns",
                "turns/s",
                "p50 ms",
                "p99 ms",
                "server CPU ms/turn",
                "turns/CPU-s",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
