"""What keeping summary rows adds to an append: the same appends with and without them.

For each store, two store objects: one as shipped (each save adds its delta to the session's
summary rows, and on Redis to the index of sorted sets) and one with summary rows off
(``_summary_rows = False`` on the object: the write path as it was before summaries). They share
one database, except on SQLite, where the summary is kept in the session's own row: there the
store without it has a file of its own, without the listing indexes on that row. Each
appends ``--events`` events, one ``add_event_and_save`` at a time, to a session of its own, and
their appends alternate, so a busy machine weighs on both alike. Prints the median append over
the first and the last ``--window`` appends, and the ratio with/without (goal: at most 1.1),
then the mean CPU time of this process over the last ones (the SQLite store's thread
included; not the PostgreSQL or Redis server's).

    python benchmarks/bench_summary_cost.py --stores sqlite,postgres,redis --events 2000

SQLite runs with ``synchronous=normal`` by default (with ``full``, the setting
``bench_stores.py`` uses, an fsync per append adds disk noise to both; ``--sqlite-sync full``
measures it). ``bench_append_instructions.py`` counts the same SQLite appends in instructions,
which do not vary from run to run. PostgreSQL uses a schema of its own and Redis a key prefix of
its own, dropped at the end. Not part of the test run.
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
from llm_sessions.storage.sqlite import _schema


def store_url(name: str, folder: str, tag: str, sync: str) -> str:
    if name == "sqlite":
        return f"sqlite:///{folder}/{tag}.db?synchronous={sync}"
    if name == "redis":
        return f"{REDIS_URL}?key_prefix={tag}:"
    return f"{POSTGRES_URL}?schema={tag}"


async def without_summaries(store: Any) -> None:
    """Turn a store's summary rows off (on SQLite, with the indexes on ``sessions`` that list
    them; before schema 6 the rows had a table of their own, which is then left alone)."""
    store._summary_rows = False
    if hasattr(store, "_conn"):

        def drop() -> None:
            for statement in getattr(_schema, "_LISTING_INDEXES", []):
                store._conn().execute(f"DROP INDEX IF EXISTS {statement.split()[2]}")

        await store._run(drop)


async def run_store(name: str, count: int, window: int, sync: str) -> list[Any]:
    """[store, events, with/without first, with/without last] for one store."""
    with tempfile.TemporaryDirectory() as folder:
        tag = f"bench_cost_{uuid.uuid4().hex[:8]}"
        url = store_url(name, folder, tag, sync)
        kept = open_store(url)
        bare = open_store(store_url(name, folder, tag + "_bare", sync) if name == "sqlite" else url)
        await without_summaries(bare)
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
                await drop()  # one database for both, but on SQLite (a temporary folder)
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
    parser.add_argument("--sqlite-sync", default="normal", choices=["normal", "full"])
    args = parser.parse_args()
    rows = []
    for name in args.stores.split(","):
        print(f"running {name} ...", file=sys.stderr)
        rows.append(await run_store(name, args.events, args.window, args.sqlite_sync))
    header = ["store", "events"]
    for part in ("first", "last", "last, CPU"):
        header += [f"{part}: with ms", "without ms", "ratio"]
    title = (
        f"bench_summary_cost ({machine()}; SQLite synchronous={args.sqlite_sync};"
        f" load {os.getloadavg()[0]:.2f})"
    )
    print(table(title, header, rows))


if __name__ == "__main__":
    asyncio.run(main())
