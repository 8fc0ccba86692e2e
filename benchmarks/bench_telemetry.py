"""What OpenTelemetry support costs on the append path.

    python benchmarks/bench_telemetry.py [--turns 2000]

Times ``user_says`` + ``ai_responds`` on the memory and SQLite stores in four modes: with
``opentelemetry`` absent (a child process where importing it fails, as when it is not
installed), installed but off (``set_enabled(False)``, also in a child process), on with no
provider configured (the API alone: nothing is emitted), and on with the SDK recording into
memory. Modes are interleaved
so machine noise hits them alike. It also times the do-nothing hooks a turn passes through
when the package is absent, as a share of an absent-mode turn: the cost of having the hooks at
all, against a baseline without them (the code before telemetry support).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
    """Seconds the do-nothing hooks of one turn take (telemetry off or the package absent)."""
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


_WITHOUT_OPENTELEMETRY = (
    "import runpy, sys; sys.modules['opentelemetry'] = None; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def in_child(mode: str, store_url: str, count: int, share: bool = False) -> dict[str, Any]:
    """Turns timed in a fresh process: ``absent`` (opentelemetry cannot be imported) or ``off``
    (installed, turned off). Returns the median turn, the hooks' cost and whether the package
    was importable."""
    script = [
        __file__,
        "--child",
        store_url,
        "--turns",
        str(count),
        *(["--share"] if share else []),
    ]
    prefix = ["-c", _WITHOUT_OPENTELEMETRY] if mode == "absent" else []
    done = subprocess.run(
        [sys.executable, *prefix, *script], capture_output=True, text=True, check=True
    )
    measured: dict[str, Any] = json.loads(done.stdout)
    assert measured["available"] is (mode != "absent"), f"{mode}: {measured}"
    return measured


async def hook_share(store_url: str, count: int, pairs: int = 15) -> dict[str, float]:
    """The hooks' cost as a share of a turn, measured in ``pairs`` back-to-back pairs (a batch
    of turns, then a batch of hooks) so that load on the machine weighs on both alike: the
    median pair, and the fastest hooks batch over the fastest turn batch."""
    measured = []
    for _ in range(pairs):
        turn = await turns(store_url, max(count // pairs, 50))
        hooks = await hook_cost(20_000)
        measured.append((hooks / turn, hooks, turn))
    share, hooks, turn = sorted(measured)[len(measured) // 2]
    best = min(m[1] for m in measured) / min(m[2] for m in measured)
    return {"share": share, "hooks": hooks, "turn": turn, "best_share": best}


async def child(store_url: str, count: int, share: bool) -> None:
    telemetry.set_enabled(False)
    measured: dict[str, Any] = {"available": telemetry._available}
    if share:
        measured.update(await hook_share(store_url, count))
    else:
        measured["median"] = await turns(store_url, count)
    print(json.dumps(measured))


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
    parser.add_argument("--child", help=argparse.SUPPRESS)  # a store URL: time it, print JSON
    parser.add_argument("--share", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        await child(args.child, args.turns, args.share)
        return
    print(machine())
    tracer_provider, meter_provider = sdk_providers()
    in_process = {
        "API, no provider": lambda: (telemetry.configure(), telemetry.set_enabled(True)),
        "SDK in memory": lambda: (
            telemetry.configure(tracer_provider=tracer_provider, meter_provider=meter_provider),
            telemetry.set_enabled(True),
        ),
    }
    modes = ["absent", "off", *in_process]
    with tempfile.TemporaryDirectory() as folder:
        stores = {"memory": "memory://", "sqlite": f"sqlite:///{folder}/bench.db"}
        results: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for store_name, url in stores.items():
                for mode in modes:
                    if mode in in_process:
                        in_process[mode]()
                        median = await turns(url, args.turns)
                    else:
                        median = in_child(mode, url, args.turns)["median"]
                    results.setdefault((store_name, mode), []).append(median)
    rows = []
    for store_name in stores:
        absent = min(results[(store_name, "absent")])
        for mode in modes:
            best = min(results[(store_name, mode)])
            rows.append((store_name, mode, best * 1000, best / absent))
    print(
        table("median turn (ms, best of rounds)", ["store", "telemetry", "ms", "vs absent"], rows)
    )
    measured = in_child("absent", "memory://", args.turns, share=True)
    hooks, turn, share = measured["hooks"], measured["turn"], measured["share"]
    print(
        f"hooks with opentelemetry absent: {hooks * 1e6:.2f} µs per turn = {share:.2%} of a "
        f"memory-store turn ({turn * 1e6:.1f} µs; median of paired batches); against a "
        f"baseline without the hooks the absent path is {1 / (1 - share):.4f}x; best of the "
        f"batches: {measured['best_share']:.2%}"
    )


if __name__ == "__main__":
    asyncio.run(main())
