"""What keeping summary rows adds to an append: the same appends with and without them.

For each store, two store objects on one database: one as shipped (each save adds its delta to
the session's summary rows, and on Redis to the index of sorted sets) and one with summary rows
off (``_summary_rows = False`` on the object: the write path as it was before summaries). Each
appends ``--events`` events, one ``add_event_and_save`` at a time, to a session of its own, and
their appends alternate, so a busy machine weighs on both alike. Prints the median append over
the first and the last ``--window`` appends, and the ratio with/without (goal: at most 1.1),
then the mean CPU time of this process over the last ones (the SQLite store's thread
included; not the PostgreSQL or Redis server's).

    python benchmarks/bench_summary_cost.py --stores sqlite,postgres,redis --events 2000

SQLite runs with ``synchronous=normal`` here (with ``full`` an fsync per append drowns the
difference in disk noise; ``bench_stores.py`` measures that). PostgreSQL uses a schema of its
own and Redis a key prefix of its own, dropped at the end. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table
from bench_stores import POSTGRES_URL, REDIS_URL, make_events

from llm_sessions.models import Session
from llm_sessions.storage import SessionStore, open_store


def store_url(name: str, folder: str, tag: str) -> str:
    if name == "sqlite":
        return f"sqlite:///{folder}/cost.db?synchronous=normal"
    if name == "redis":
        return f"{REDIS_URL}?key_prefix={tag}:"
    return f"{POSTGRES_URL}?schema={tag}"


async def run_store(name: str, count: int, window: int) -> list[Any]:
    """[store, events, with/without first, with/without last] for one store."""
    with tempfile.TemporaryDirectory() as folder:
        url = store_url(name, folder, f"bench_cost_{uuid.uuid4().hex[:8]}")
        kept, bare = open_store(url), open_store(url)
        bare._summary_rows = False  # type: ignore[attr-defined]
        stores: list[SessionStore] = [kept, bare]
        sessions: list[Session[Any]] = [Session(id="kept"), Session(id="bare")]
        times: list[list[float]] = [[], []]
        cpu: list[list[float]] = [[], []]
        try:
            for store, session in zip(stores, sessions, strict=True):
                await store.save(session)
            for index, event in enumerate(make_events(count)):
                for n in (0, 1) if index % 2 else (1, 0):
                    started, used = time.perf_counter(), time.process_time()
                    await sessions[n].add_event_and_save(event.model_copy(deep=True))
                    times[n].append(time.perf_counter() - started)
                    cpu[n].append(time.process_time() - used)
            if not (await kept.find_sessions(limit=5)).items:
                raise RuntimeError("the store with summaries listed nothing")
        finally:
            drop = getattr(kept, "drop_all", None)
            if drop is not None:
                await drop()
            for store in stores:
                await store.close()
    row: list[Any] = [name, count]
    for part in (slice(0, window), slice(count - window, count)):
        with_rows, without = (statistics.median(each[part]) * 1000 for each in times)
        row += [with_rows, without, with_rows / without]
    kept_cpu, bare_cpu = (statistics.mean(each[count - window :]) for each in cpu)
    return [*row, kept_cpu * 1000, bare_cpu * 1000, kept_cpu / bare_cpu]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres,redis")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--window", type=int, default=200, help="appends per median")
    args = parser.parse_args()
    rows = []
    for name in args.stores.split(","):
        print(f"running {name} ...", file=sys.stderr)
        rows.append(await run_store(name, args.events, args.window))
    header = ["store", "events"]
    for part in ("first", "last", "last, CPU"):
        header += [f"{part}: with ms", "without ms", "ratio"]
    title = f"bench_summary_cost ({machine()}; load {os.getloadavg()[0]:.2f})"
    print(table(title, header, rows))


if __name__ == "__main__":
    asyncio.run(main())
