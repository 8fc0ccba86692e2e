"""The semantic part of ``bench_search.py``: exact nearest neighbours (numpy) in one scope.

One user owns ``SESSIONS`` sessions of ``REAL_EVENTS`` real events each, embedded through the
store's queue by a deterministic embedder (text hashed into a seed, a random unit vector of
``dim`` numbers). Then ``vectors`` random vectors are written straight through the store's
vector backend (the bulk path) into those sessions, so the scope holds that many. Each query
is a real event's text; event k of every session has one vector, so the best hits are those
real events (all live: vectors written straight are not events, and a hit must be). Reported
for ``search(mode="semantic", where={"user_id": ...})``: the first search (it reads every
vector of the scope), the median and p99 of the searches after it (the store object keeps the
vectors and reads only their versions), and reading the versions alone.
"""

from __future__ import annotations

import hashlib
import statistics
import time
import uuid
from typing import Any

import numpy as np

from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import SessionStore
from llm_sessions.storage._vector_stores import vector_backend_for
from llm_sessions.storage._vectors import VectorRow

SESSIONS = 100
REAL_EVENTS = 10
QUERIES = 20
_CHUNK = 5_000


def embedder(dim: int) -> Any:
    def embed(texts: list[str]) -> np.ndarray[Any, Any]:
        rows = []
        for text in texts:
            topic = text.split(" of ")[0]  # event k of every session: one vector
            seed = int.from_bytes(hashlib.sha256(topic.encode()).digest()[:8], "little")
            rows.append(np.random.default_rng(seed).standard_normal(dim, dtype=np.float32))
        return np.stack(rows)

    embed.name = f"bench-{dim}"  # type: ignore[attr-defined]
    return embed


async def fill(store: SessionStore, vectors: int, dim: int) -> tuple[list[str], float]:
    """The user's sessions and their vectors; returns the real texts and the fill seconds."""
    began = time.perf_counter()
    texts, ids = [], []
    for n in range(SESSIONS):
        session: Session[Any] = Session(id=f"v{n:05d}")
        session.metadata.user_id = "bench-user"
        for k in range(REAL_EVENTS):
            text = f"real event {k} of session {n}"
            texts.append(text)
            await session.add_event(SessionEvent(message=text, source=EventSource.USER))
        await store.save(session)
        ids.append(session.id)
    await store.flush_index()
    backend = vector_backend_for(store)
    rng = np.random.default_rng(5)
    per_session = vectors // SESSIONS
    for session_id in ids:
        for start in range(0, per_session, _CHUNK):
            count = min(_CHUNK, per_session - start)
            matrix = rng.standard_normal((count, dim), dtype=np.float32)
            matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
            rows = [
                VectorRow(uuid.uuid4().hex, f"bench-{dim}", dim, row.tobytes()) for row in matrix
            ]
            await backend.put(session_id, rows)
    await backend.close()
    return texts, time.perf_counter() - began


async def measure(store: SessionStore, texts: list[str], dim: int) -> list[float]:
    """[ms of a first search (every vector read), p50 and p99 of the searches after it
    (vectors kept by the store object; only their versions read), median ms of reading the
    versions alone]."""
    where = {"user_id": "bench-user"}
    queries = texts[:: max(1, len(texts) // QUERIES)][:QUERIES]
    began = time.perf_counter()
    await store.search(queries[0], mode="semantic", where=where)
    cold = (time.perf_counter() - began) * 1000
    total: list[float] = []
    for text in queries:
        began = time.perf_counter()
        page = await store.search(text, mode="semantic", where=where, limit=10)
        total.append((time.perf_counter() - began) * 1000)
        topics = [hit.snippet.split(" of ")[0] for hit in page.items]
        assert topics == [text.split(" of ")[0]] * 10, topics
    backend = vector_backend_for(store)
    ids = [f"v{n:05d}" for n in range(SESSIONS)]
    versions = []
    for _ in range(5):
        began = time.perf_counter()
        await backend.versions(ids)
        versions.append((time.perf_counter() - began) * 1000)
    await backend.close()
    ordered = sorted(total)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return [cold, statistics.median(total), p99, statistics.median(versions)]
