"""Moving sessions, and what encryption at rest costs.

* ``copy_sessions`` from SQLite into PostgreSQL and into Redis: sessions/s and events/s for
  ``--sessions`` sessions of ``--events`` events each (a second copy run, which finds every
  session already there, is timed too).
* Encryption: the median time of ``add_event_and_save`` and of a full load of a
  ``--events``-event session on SQLite, without a key and with one (the ratio is what the
  codec costs).

Run from the repository root (needs the Redis and PostgreSQL servers for the copy part)::

    .venv/bin/python benchmarks/bench_interop.py [--sessions 200] [--events 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _common import machine, median_ms, table

from llm_sessions.interop.copy import copy_sessions
from llm_sessions.models.event_source import EventSource
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.storage import SessionStore, open_store
from llm_sessions.storage.encryption import generate_key

REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _event(n: int) -> SessionEvent[Any]:
    source = EventSource.USER if n % 2 == 0 else EventSource.LLM
    return SessionEvent(message=f"message {n}: " + "lorem ipsum " * 20, source=source)


async def _fill(store: SessionStore, sessions: int, events: int) -> None:
    for s in range(sessions):
        session: Session[Any] = Session(id=f"bench-{s:05d}")
        for n in range(events):
            await session.add_event(_event(n))
        await store.save(session)


async def bench_copy(folder: Path, sessions: int, events: int) -> list[list[Any]]:
    source = open_store(f"sqlite:///{folder / 'source.db'}")
    await _fill(source, sessions, events)
    token = uuid.uuid4().hex[:10]
    targets = {
        "PostgreSQL": f"{POSTGRES_URL}?schema=bench_interop_{token}",
        "Redis": f"{REDIS_URL}?key_prefix=bench-interop-{token}:",
    }
    rows = []
    for name, url in targets.items():
        target = open_store(url)
        try:
            start = time.perf_counter()
            report = await copy_sessions(source, target)
            took = time.perf_counter() - start
            start = time.perf_counter()
            again = await copy_sessions(source, target)
            resumed = time.perf_counter() - start
            assert report.copied == sessions and again.skipped == sessions
            rows.append(
                [f"SQLite -> {name}", sessions / took, report.events / took, sessions / resumed]
            )
        finally:
            await target.drop_all()  # type: ignore[attr-defined]
            await target.close()
    await source.close()
    return rows


async def _timings(url: str, key: str | None, events: int) -> tuple[float, float]:
    """Median ms of one append (to a growing session) and of a full load, on one store URL."""
    options = {"encryption_key": key} if key else {}
    store = open_store(url, **options)
    session: Session[Any] = await Session.create(store=store, id="enc")
    counter = iter(range(10**9))

    async def append() -> None:
        await session.add_event_and_save(_event(next(counter)))

    append_ms = await median_ms(append, events)
    reader = open_store(url, **options)

    async def load() -> None:
        await reader.get("enc")

    load_ms = await median_ms(load, 20)
    await store.close()
    await reader.close()
    return append_ms, load_ms


async def bench_encryption(folder: Path, events: int) -> list[list[Any]]:
    rows = []
    keys = (("warm-up", None), ("no key", None), ("AES-GCM key", generate_key()))
    for label, key in keys:
        url = f"sqlite:///{folder / f'enc-{uuid.uuid4().hex[:6]}.db'}"
        rows.append([label, *await _timings(url, key, events)])
    rows = rows[1:]  # the first pass only warms up the tokenizer, SQLite and the caches
    base_append, base_load = rows[0][1], rows[0][2]
    for row in rows:
        row.extend([row[1] / base_append, row[2] / base_load])
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--events", type=int, default=50)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        copy_rows = await bench_copy(folder, args.sessions, args.events)
        print(
            table(
                f"copy_sessions: {args.sessions} sessions x {args.events} events",
                ["route", "sessions/s", "events/s", "resume sessions/s"],
                copy_rows,
            )
        )
        print()
        print(
            table(
                f"encryption on SQLite: append at {args.events} events, load of {args.events}",
                ["key", "append ms", "load ms", "append x", "load x"],
                await bench_encryption(folder, args.events),
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
