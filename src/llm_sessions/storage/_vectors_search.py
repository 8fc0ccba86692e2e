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

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidSessionOperation
from ..models._event_text import search_text
from ._search_models import SearchHit, SearchPage
from ._search_query import MAX_SEARCH_LIMIT
from ._search_scan import page_of_hits, scope_ids
from ._vectors import numpy

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
    sessions: dict[str, tuple[Session[Any], dict[str, SessionEvent[Any]]] | None] = {}
    hits: list[SearchHit] = []
    for row in order:
        score = float(scores[row])
        if len(hits) >= wanted and score < hits[-1].score:
            break  # ties with the last hit are all taken: the cursor orders them by id
        session_id, event_id = keys[row]
        if not query.follows(score, session_id, event_id):
            continue
        if session_id not in sessions:
            sessions[session_id] = _by_id(await store.get(session_id))
        live = sessions[session_id]
        found = None if live is None else _wanted(live[1].get(event_id), query)
        if live is not None and found is not None:
            hits.append(_hit(session_id, found, live[0], score))
    hits.sort(key=lambda hit: (-hit.score, hit.session_id, hit.event_id))
    return hits[:wanted]


def _by_id(
    session: Session[Any] | None,
) -> tuple[Session[Any], dict[str, SessionEvent[Any]]] | None:
    if session is None:  # deleted, expired or erased since its vectors were written
        return None
    return session, {event.id: event for event in session.events}


def _wanted(event: SessionEvent[Any] | None, query: SearchQuery) -> SessionEvent[Any] | None:
    """``event`` unless it is gone (removed) or outside the query's types and times."""
    if event is None:
        return None
    kind = event.type.value if hasattr(event.type, "value") else str(event.type)
    if query.types is not None and kind not in query.types:
        return None
    if query.since is not None and event.timestamp < query.since:
        return None
    if query.until is not None and event.timestamp >= query.until:
        return None
    return event


def _hit(session_id: str, event: SessionEvent[Any], session: Any, score: float) -> SearchHit:
    kind = event.type.value if hasattr(event.type, "value") else str(event.type)
    text = " ".join(search_text(event).split())
    snippet = text if len(text) <= _SNIPPET_CHARS else text[: _SNIPPET_CHARS - 1] + "…"
    return SearchHit(
        session_id=session_id,
        event_id=event.id,
        event_type=kind,
        created_at=event.timestamp,
        user_id=session.metadata.user_id,
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
