"""What OpenTelemetry support costs on the append path.

    python benchmarks/bench_telemetry.py [--turns 2000]

Times ``user_says`` + ``ai_responds`` on the memory and SQLite stores with telemetry off (what a
process without ``opentelemetry-api`` runs), on with the API's default no-op providers, and on
with the SDK recording into memory; modes are interleaved so machine noise hits them alike. It
also times the do-nothing hooks one turn passes through when telemetry is off, as a share of
the turn: the cost of having the hooks at all.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table

from llm_sessions import SessionManager, TokenUsage, telemetry
from llm_sessions.storage import open_store

# Per turn (user_says + ai_responds on a stored session), with opentelemetry-api absent:
# traced methods are left unwrapped; each save passes one store_span, each event one
# record_usage.
HOOKS_PER_TURN = {"store_span": 2, "record_usage": 2}


async def turns(store_url: str, count: int) -> float:
    """Median seconds of one turn (a user message and a reply) over ``count`` turns."""
    store = open_store(store_url)
    manager = SessionManager(store=store)
    samples = []
    for i in range(count):
        started = time.perf_counter()
        await manager.user_says(f"Question number {i}: what is {i} squared?")
        await manager.ai_responds(f"{i} squared is {i * i}.", model="gpt-4o-mini")
        samples.append(time.perf_counter() - started)
    await store.close()
    return statistics.median(samples)


async def hook_cost(repeat: int = 200_000) -> float:
    """Seconds the disabled hooks of one turn take (as with opentelemetry-api absent)."""
    telemetry.set_enabled(False)
    usage = TokenUsage(prompt_tokens=3, completion_tokens=4, model="gpt-4o-mini")
    started = time.perf_counter()
    for _ in range(repeat):
        async with telemetry.store_span("save", None, "id", {}):
            pass
    store_span = (time.perf_counter() - started) / repeat
    started = time.perf_counter()
    for _ in range(repeat):
        telemetry.record_usage(usage)
    record_usage = (time.perf_counter() - started) / repeat
    return HOOKS_PER_TURN["store_span"] * store_span + HOOKS_PER_TURN["record_usage"] * record_usage


def sdk_providers() -> tuple[object, object]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    return tracer_provider, MeterProvider(metric_readers=[InMemoryMetricReader()])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    tracer_provider, meter_provider = sdk_providers()
    modes = {
        "off": lambda: (telemetry.configure(), telemetry.set_enabled(False)),
        "API, no SDK": lambda: (telemetry.configure(), telemetry.set_enabled(True)),
        "SDK in memory": lambda: (
            telemetry.configure(tracer_provider=tracer_provider, meter_provider=meter_provider),
            telemetry.set_enabled(True),
        ),
    }
    with tempfile.TemporaryDirectory() as folder:
        stores = {"memory": "memory://", "sqlite": f"sqlite:///{folder}/bench.db"}
        results: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for store_name, url in stores.items():
                for mode, switch in modes.items():
                    switch()
                    median = await turns(url, args.turns)
                    results.setdefault((store_name, mode), []).append(median)
    rows = []
    for store_name in stores:
        off = min(results[(store_name, "off")])
        for mode in modes:
            best = min(results[(store_name, mode)])
            rows.append((store_name, mode, best * 1000, best / off))
    print(table("median turn (ms, best of rounds)", ["store", "telemetry", "ms", "vs off"], rows))
    hooks = await hook_cost()
    off_memory = min(results[("memory", "off")])
    print(
        f"disabled hooks: {hooks * 1e6:.2f} µs per turn = "
        f"{hooks / off_memory:.2%} of a memory-store turn"
    )


if __name__ == "__main__":
    asyncio.run(main())
