"""Full-text search on the stores with a text index (SQLite FTS5, PostgreSQL tsvector + GIN).

Fills each store with E events over S sessions (E/S events a session, 100 users), whose text
is drawn from a 20,000-word vocabulary with a Zipf-like spread (a few words in most events,
most words in few), plus a fixed phrase in one event of 1,000. Then times searches, each the
distribution over 40 different queries of a kind, made of words of ranks 500..10,000 (see
``query_sets``): one word, two words, a quoted phrase, each
without and with a user filter (``where={"user_id": ...}``), and prints p50 and p99 in ms.
Last, the cost of an append with the index on vs off (``search_index="off"``): the median of
one-event ``add_event_and_save`` calls on one session, as a ratio.

    python benchmarks/bench_search.py --stores sqlite,postgres --events 1000000 --sessions 10000
    python benchmarks/bench_search.py --stores "" --semantic 100000,1000000 --dim 384

``--semantic`` times semantic search (exact numpy nearest neighbours) with that many vectors
in one user's scope, on the memory, SQLite and PostgreSQL stores (see ``_semantic``).

SQLite is filled with ``synchronous=off`` (the fill is not what is measured); the append
comparison uses ``synchronous=normal`` on both sides. PostgreSQL uses a schema of its own,
analysed after the fill (as autovacuum would) and dropped at the end. ``--keep FOLDER`` keeps
the filled SQLite file (in FOLDER) and PostgreSQL schema (``bench_search_keep_<events>_<sessions>``,
drop it with ``PostgresSessionStore(url, schema=...).drop_all()``) and reuses them on the next
run of the same size (its fill time is then 0). Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import asyncpg
from _common import machine, table
from _semantic import fill as fill_vectors
from _semantic import measure as measure_vectors

from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import (
    PostgresSessionStore,
    SessionStore,
    SQLiteSessionStore,
    open_store,
)

POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
VOCABULARY = 20_000
WORDS_PER_EVENT = 14
PHRASE = "refund failed"
USERS = 100
QUERIES = 40
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sa", "do", "gu", "fi", "ho"]


def word(n: int) -> str:
    """The n-th word of the vocabulary: letters only, distinct for every n."""
    letters = []
    n += 1
    while n:
        n, digit = divmod(n, len(SYLLABLES))
        letters.append(SYLLABLES[digit])
    return "".join(letters) + "x"


WORDS = [word(n) for n in range(VOCABULARY)]
RANKS = range(VOCABULARY)
CUMULATIVE = list(itertools.accumulate(1 / (rank + 1) for rank in RANKS))


def texts(rng: random.Random, count: int) -> list[str]:
    """Event texts: Zipf-like word choice, the phrase in one of 1,000."""
    out = []
    for n in range(count):
        words = [WORDS[i] for i in rng.choices(RANKS, cum_weights=CUMULATIVE, k=WORDS_PER_EVENT)]
        if n % 1000 == 7:
            words.insert(3, PHRASE)
        out.append(" ".join(words))
    return out


def make_session(n: int, events: int, rng: random.Random) -> Session[Any]:
    session: Session[Any] = Session(id=f"s{n:08d}")
    session.metadata.user_id = f"user-{n % USERS}"
    for k, text in enumerate(texts(rng, events)):
        source = EventSource.USER if k % 2 == 0 else EventSource.LLM
        session.events.append(SessionEvent(message=text, source=source))
    return session


async def fill(store: SessionStore, sessions: int, per_session: int, concurrency: int) -> float:
    rng = random.Random(7)
    began = time.perf_counter()
    for start in range(0, sessions, concurrency):
        batch = [
            make_session(n, per_session, rng)
            for n in range(start, min(sessions, start + concurrency))
        ]
        await asyncio.gather(*(store.save(session) for session in batch))
    return time.perf_counter() - began


async def fill_once(
    store: SessionStore, sessions: int, per_session: int, concurrency: int
) -> float:
    """``fill``, unless the store holds the sessions already (a kept store, see ``--keep``):
    then 0 seconds."""
    last = f"s{sessions - 1:08d}"
    if await store.get(last) is not None:
        return 0.0
    return await fill(store, sessions, per_session, concurrency)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


async def timed(calls: list[Callable[[], Awaitable[Any]]]) -> tuple[float, float]:
    samples = []
    for call in calls:
        began = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - began) * 1000)
    return percentiles(samples)


def query_sets(rng: random.Random) -> dict[str, list[str]]:
    """Words of ranks 500..10,000: each in about 0.27%..0.013% of events (specific words, as
    people search for; the 500 commonest, each in up to 13% of events, are left out)."""
    band = list(range(500, 10_000))
    return {
        "1 word": [word(rng.choice(band)) for _ in range(QUERIES)],
        "2 words": [f"{word(rng.choice(band))} {word(rng.choice(band))}" for _ in range(QUERIES)],
        "phrase": [f'"{PHRASE}"'] * (QUERIES // 2)
        + [f'"{word(rng.choice(band))} {word(rng.choice(band))}"' for _ in range(QUERIES // 2)],
    }


async def measure(store: SessionStore) -> list[Any]:
    rng = random.Random(11)
    await store.search(word(100))  # warm the connection and caches
    row: list[Any] = []
    for queries in query_sets(rng).values():
        plain = [lambda q=q: store.search(q) for q in queries]
        scoped = [
            lambda q=q, u=n % USERS: store.search(q, where={"user_id": f"user-{u}"})
            for n, q in enumerate(queries)
        ]
        row += [*await timed(plain), *await timed(scoped)]
    return row


async def append_ratio(make: Callable[[str | None], SessionStore], appends: int) -> list[float]:
    """Median ms of one-event appends with the index on and off, and the ratio. The two
    stores take turns, append by append, so that a busy machine slows both alike."""
    stores = [make(None), make("off")]
    sessions: list[Session[Any]] = []
    for store in stores:
        session: Session[Any] = Session()
        await store.save(session)
        sessions.append(session)
    bodies = texts(random.Random(3), 2 * appends + 10)
    samples: list[list[float]] = [[], []]
    for n in range(appends + 5):
        for k, session in enumerate(sessions):
            event = SessionEvent(message=bodies.pop(), source=EventSource.USER)
            began = time.perf_counter()
            await session.add_event_and_save(event)
            if n >= 5:
                samples[k].append((time.perf_counter() - began) * 1000)
    for store in stores:
        await store.close()
    on, off = statistics.median(samples[0]), statistics.median(samples[1])
    return [on, off, on / off]


async def run_store(name: str, events: int, sessions: int, appends: int, keep: str) -> list[Any]:
    per_session = events // sessions
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            if keep:
                os.makedirs(keep, exist_ok=True)
            path = f"{keep}/search-{events}-{sessions}.db" if keep else f"{folder}/search.db"
            store = SQLiteSessionStore(path, synchronous="off")
            seconds = await fill_once(store, sessions, per_session, 32)
            row = [name, events, seconds, *await measure(store)]
            await store.close()

            def make(mode: str | None) -> SessionStore:
                path = f"{folder}/append-{mode}.db"
                return SQLiteSessionStore(path, synchronous="normal", search_index=mode)

            return [*row, *await append_ratio(make, appends)]
    kept = f"bench_search_keep_{events}_{sessions}"
    tag = kept if keep else f"bench_search_{uuid.uuid4().hex[:8]}"
    remote = PostgresSessionStore(POSTGRES_URL, schema=tag)
    try:
        seconds = await fill_once(remote, sessions, per_session, 16)
        # Fresh tables have no statistics until autovacuum runs: gather them now, as it would.
        connection = await asyncpg.connect(POSTGRES_URL)
        await connection.execute(
            f'ANALYZE "{tag}".search_docs, "{tag}".sessions, "{tag}".summaries'
        )
        await connection.close()
        row = [name, events, seconds, *await measure(remote)]

        def make_pg(mode: str | None) -> SessionStore:
            return PostgresSessionStore(POSTGRES_URL, schema=f"{tag}_{mode}", search_index=mode)

        try:
            return [*row, *await append_ratio(make_pg, appends)]
        finally:
            for mode in (None, "off"):
                cleaner = PostgresSessionStore(POSTGRES_URL, schema=f"{tag}_{mode}")
                await cleaner.drop_all()
                await cleaner.close()
    finally:
        if not keep:
            await remote.drop_all()
        await remote.close()


async def run_semantic(name: str, vectors: int, dim: int) -> list[Any]:
    """Semantic query times with ``vectors`` in one user's scope (see ``_semantic``)."""
    from _semantic import embedder

    with tempfile.TemporaryDirectory() as folder:
        url = {
            "memory": "memory://",
            "sqlite": f"sqlite:///{folder}/vectors.db",
            "postgres": f"{POSTGRES_URL}?schema=bench_vectors_{uuid.uuid4().hex[:8]}",
        }[name]
        store = open_store(url, embedder=embedder(dim))
        try:
            texts, seconds = await fill_vectors(store, vectors, dim)
            return [name, vectors, dim, seconds, *await measure_vectors(store, texts, dim)]
        finally:
            if name == "postgres":
                await store.drop_all()  # type: ignore[attr-defined]
            await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--appends", type=int, default=300, help="appends per median")
    parser.add_argument(
        "--semantic", default="", help="vectors in one scope, e.g. 100000,1000000 (semantic)"
    )
    parser.add_argument("--dim", type=int, default=384, help="dimensions of the vectors")
    parser.add_argument("--semantic-stores", default="memory,sqlite,postgres")
    parser.add_argument(
        "--keep",
        default="",
        help="a folder: fill the SQLite file there and the PostgreSQL schema"
        " bench_search_keep_<events>_<sessions> once, keep them, and reuse them on later runs",
    )
    args = parser.parse_args()
    rows = []
    if args.semantic:
        semantic = []
        for size in (int(n) for n in args.semantic.split(",")):
            for name in args.semantic_stores.split(","):
                print(f"running semantic {name} {size} ...", file=sys.stderr)
                semantic.append(await run_semantic(name, size, args.dim))
                print(f"{name}: {semantic[-1]}", file=sys.stderr)
        header = ["store", "vectors", "dim", "fill s", "first", "p50", "p99", "versions"]
        print(table(f"bench_search --semantic, ms ({machine()})", header, semantic))
    for name in args.stores.split(",") if args.stores else []:
        print(f"running {name} ...", file=sys.stderr)
        rows.append(await run_store(name, args.events, args.sessions, args.appends, args.keep))
        print(f"{name}: {rows[-1]}", file=sys.stderr)  # kept if a later store fails
    if not rows:
        return
    header = ["store", "events", "fill s"]
    for kind in ("1 word", "2 words", "phrase"):
        for scope in ("", " +user"):
            header += [f"{kind}{scope} p50", f"{kind}{scope} p99"]
    header += ["append idx ms", "append no-idx ms", "ratio"]
    print(table(f"bench_search, query times in ms ({machine()})", header, rows))


if __name__ == "__main__":
    asyncio.run(main())
