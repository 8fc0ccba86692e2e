"""``search(mode="semantic" | "hybrid")``: nearest vectors within the query's scope.

The scope is the sessions ``where`` selects (or every session of the prefix); their vectors
of the current embedder (read through the store object's ``VectorCache``) are compared with
the query's exactly (a matrix product with numpy: unit vectors, so the score is the cosine
similarity). Candidates are then checked
against the live sessions, best first: an event removed, a session deleted or erased, or an
event outside ``types``/``since``/``until`` is skipped, so a stale vector never shows.

Hybrid merges the text ranking and the semantic ranking (their best ``FUSION_DEPTH`` each) by
reciprocal rank fusion: an event scores ``sum(1 / (60 + rank))`` over the rankings it is in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidSessionOperation
from ..models._event_text import search_text
from ._search_models import SearchHit, SearchPage
from ._search_query import MAX_SEARCH_LIMIT
from ._search_scan import page_of_hits, scope_ids
from ._vectors import EventFacts, Key, numpy

if TYPE_CHECKING:
    import numpy as np

    from ..models._session import Session
    from ..models._session_event import SessionEvent
    from ._search_query import SearchQuery
    from ._vectors_index import VectorIndexer

__all__ = ["FUSION_DEPTH", "best_first", "vector_search"]

FUSION_DEPTH = MAX_SEARCH_LIMIT
"""How many of each ranking hybrid search fuses."""
_RRF_K = 60
_SNIPPET_CHARS = 200
_FIRST_SORTED = 1000


async def vector_search(store: Any, query: SearchQuery) -> SearchPage:
    """The page of a semantic or hybrid ``query`` (see the module docstring).

    Raises:
        InvalidSessionOperation: the store has no embedder.
    """
    index: VectorIndexer | None = getattr(store, "_vector_index", None)
    if index is None:
        raise InvalidSessionOperation(
            "search", f"mode={query.mode!r} needs an embedder: open_store(url, embedder=fn)"
        )
    if query.mode == "semantic":
        return page_of_hits(query, await _semantic(store, index, query, query.limit + 1))
    deep = replace(query, limit=FUSION_DEPTH, after=None)
    texts = (await store._search(replace(deep, mode="text"))).items
    meanings = await _semantic(store, index, deep, FUSION_DEPTH)
    return page_of_hits(query, _fused(query, texts, meanings))


def best_first(scores: np.ndarray[Any, Any], first: int) -> Iterator[int]:
    """Indexes of ``scores``, highest first: the best ``first`` sorted at once, the rest only
    if asked for (most searches stop within the first)."""
    np = numpy()
    if len(scores) <= 2 * first:
        yield from np.argsort(-scores, kind="stable").tolist()
        return
    top = np.argpartition(-scores, first)[:first]
    top = top[np.argsort(-scores[top], kind="stable")]
    yield from top.tolist()
    rest = np.ones(len(scores), dtype=bool)
    rest[top] = False
    others = np.flatnonzero(rest)
    yield from others[np.argsort(-scores[others], kind="stable")].tolist()


async def _semantic(
    store: Any, index: VectorIndexer, query: SearchQuery, wanted: int
) -> list[SearchHit]:
    ids = await scope_ids(store, query)
    if ids is None:
        ids = await store.list_sessions(query.prefix)
    vector = (await index.embedder.embed([query.text]))[0]
    keys, scores = await index.cache.scores(index.backend, ids, index.embedder.name, vector)
    if not keys:
        return []
    order = best_first(scores, max(_FIRST_SORTED, 4 * wanted))
    known: dict[Key, EventFacts | None] = {}
    hits: list[SearchHit] = []
    while batch := _next_batch(order, scores, keys, query, wanted):
        await _look_up(store, index, [key for _, key in batch], known)
        for score, key in batch:
            if len(hits) >= wanted and score < hits[-1].score:
                break  # ties with the last hit are all taken: the cursor orders them by id
            facts = known[key]
            if facts is not None and _wanted(facts, query):
                hits.append(_hit(key, facts, score))
        if len(hits) >= wanted and batch[-1][0] < hits[-1].score:
            break
    hits.sort(key=lambda hit: (-hit.score, hit.session_id, hit.event_id))
    return hits[:wanted]


def _next_batch(
    order: Iterator[int],
    scores: np.ndarray[Any, Any],
    keys: list[Key],
    query: SearchQuery,
    size: int,
) -> list[tuple[float, Key]]:
    """The next ``size`` candidates after the cursor, best first (looked up together)."""
    batch = []
    for row in order:
        score = float(scores[row])
        if query.follows(score, *keys[row]):
            batch.append((score, keys[row]))
            if len(batch) >= size:
                break
    return batch


async def _look_up(
    store: Any, index: VectorIndexer, keys: list[Key], known: dict[Key, EventFacts | None]
) -> None:
    """Add to ``known`` the facts of each of ``keys``, or None for an event that is gone:
    from the store's text index where it holds them, else from the live session."""
    asked = [key for key in dict.fromkeys(keys) if key not in known]
    found = await index.backend.facts(asked)
    known.update(found)
    rest = [key for key in asked if key not in found]
    session_ids = list(dict.fromkeys(session_id for session_id, _ in rest))
    sessions = dict(
        zip(session_ids, await asyncio.gather(*map(store.get, session_ids)), strict=True)
    )
    events = {
        (session.id, event.id): (event, session)
        for session in sessions.values()
        if session is not None  # deleted, expired or erased since its vectors were written
        for event in session.events
    }
    for key in rest:
        event, session = events.get(key, (None, None))
        known[key] = None if event is None else _facts_of(event, session)


def _facts_of(event: SessionEvent[Any], session: Session[Any]) -> EventFacts:
    kind = event.type.value if hasattr(event.type, "value") else str(event.type)
    return EventFacts(kind, event.timestamp, session.metadata.user_id, search_text(event))


def _wanted(facts: EventFacts, query: SearchQuery) -> bool:
    """Whether an event is of the query's types and times."""
    if query.types is not None and facts.event_type not in query.types:
        return False
    if query.since is not None and facts.created_at < query.since:
        return False
    return query.until is None or facts.created_at < query.until


def _hit(key: Key, facts: EventFacts, score: float) -> SearchHit:
    text = " ".join(facts.text.split())
    snippet = text if len(text) <= _SNIPPET_CHARS else text[: _SNIPPET_CHARS - 1] + "…"
    return SearchHit(
        session_id=key[0],
        event_id=key[1],
        event_type=facts.event_type,
        created_at=facts.created_at,
        user_id=facts.user_id,
        score=score,
        snippet=snippet,
    )


def _fused(
    query: SearchQuery, texts: list[SearchHit], meanings: list[SearchHit]
) -> list[SearchHit]:
    scores: dict[tuple[str, str], float] = {}
    shown: dict[tuple[str, str], SearchHit] = {}
    for ranking in (texts, meanings):
        for rank, hit in enumerate(ranking, start=1):
            key = (hit.session_id, hit.event_id)
            scores[key] = scores.get(key, 0.0) + 1.0 / (_RRF_K + rank)
            shown.setdefault(key, hit)  # the text hit first: its snippet marks the words
    fused = [
        shown[key].model_copy(update={"score": score})
        for key, score in scores.items()
        if query.follows(score, *key)
    ]
    fused.sort(key=lambda hit: (-hit.score, hit.session_id, hit.event_id))
    return fused[: query.limit + 1]
