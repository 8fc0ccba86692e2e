"""Embedding off the append path: a bounded queue and one background task per store object.

A save only notes what it wrote (the new and edited events' text, the removed events' ids)
in a queue and returns: it never waits for the embedding provider. The task embeds the queued
text in batches and writes the vectors. When more than ``max_pending`` events wait, a session
is queued as a whole instead (its events are read again when its turn comes), so memory stays
bounded however slow the provider is. A failing embedder (or store) is retried with a growing
pause, logged as a warning and counted in ``status()``; the events are in the store whatever
happens, and ``reindex`` embeds what is missing.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInputError
from ._search_index import index_row
from ._vectors import VectorBackend, VectorRow, numpy
from ._vectors_cache import DEFAULT_CACHE_BYTES, VectorCache

if TYPE_CHECKING:
    import numpy as np

    from ..models._session import Session

__all__ = ["Embedder", "IndexStatus", "VectorIndexer"]

logger = logging.getLogger("llm_sessions.vectors")

_BATCH = 64
_FIRST_PAUSE = 0.5
_LONGEST_PAUSE = 60.0
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class IndexStatus:
    """What the vector index is doing: ``pending`` events (or whole sessions) wait to be
    embedded; ``indexed`` vectors were written and ``failures`` attempts failed since the
    store object was opened; ``last_error`` is the latest failure (None once one succeeds)."""

    embedder: str
    pending: int
    indexed: int
    failures: int
    last_error: str | None


class Embedder:
    """An embedding function: a list of texts to one vector each (sync or async)."""

    def __init__(self, function: Callable[[list[str]], Any], name: str | None = None) -> None:
        if not callable(function):
            raise InvalidInputError(
                "embedder", function, "must be a function of a list of texts to vectors"
            )
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise InvalidInputError("embedder_name", name, "must be non-empty text")
        self.function = function
        self.name = name or _name_of(function)
        self.dim: int | None = None

    async def embed(self, texts: list[str]) -> np.ndarray[Any, Any]:
        """Unit-length float32 vectors of ``texts``, one row each.

        Raises:
            ValueError: the function returned something else than one vector per text, all
                of one dimension.
        """
        if inspect.iscoroutinefunction(self.function):
            made = await self.function(texts)
        else:
            made = await asyncio.to_thread(self.function, texts)
            if inspect.isawaitable(made):
                made = await made
        nd = numpy()
        matrix = nd.asarray(made, dtype=nd.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(texts) or matrix.shape[1] == 0:
            raise ValueError(
                f"embedder {self.name!r} returned shape {matrix.shape} for {len(texts)} texts; "
                "it must return one vector (of one dimension) per text"
            )
        if self.dim is not None and matrix.shape[1] != self.dim:
            raise ValueError(
                f"embedder {self.name!r} returned {matrix.shape[1]} dimensions after {self.dim}"
            )
        self.dim = int(matrix.shape[1])
        norms = nd.linalg.norm(matrix, axis=1, keepdims=True)
        unit: np.ndarray[Any, Any] = matrix / nd.where(norms == 0, 1, norms)
        return unit


def _name_of(function: Any) -> str:
    named = getattr(function, "name", None) or getattr(function, "model", None)
    if isinstance(named, str) and named:
        return named
    return f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', 'embed')}"


@dataclass
class _Job:
    rows: dict[str, str] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    whole: bool = False
    fresh: bool = False
    """Re-embed every event (``reindex``), not only those without a vector of the model."""


class VectorIndexer:
    """The queue and the background task of one store object (see the module docstring)."""

    def __init__(
        self,
        store: Any,
        embedder: Embedder,
        backend: VectorBackend,
        max_pending: int = 10_000,
        sleep: Sleep | None = None,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        for name, value, least in (
            ("max_pending", max_pending, 1),
            ("cache_bytes", cache_bytes, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidInputError(name, value, f"must be a whole number >= {least}")
        self.cache = VectorCache(cache_bytes)
        self.store = store
        self.embedder = embedder
        self.backend = backend
        self.max_pending = max_pending
        self._sleep: Sleep = sleep or asyncio.sleep
        self._jobs: dict[str, _Job] = {}
        self._erased: set[str] = set()
        self._embedding: set[str] = set()
        self._seen: dict[str, int] = {}
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._indexed = 0
        self._failures = 0
        self._last_error: str | None = None

    def status(self) -> IndexStatus:
        """The ``IndexStatus`` now."""
        pending = sum(1 if job.whole else len(job.rows) for job in self._jobs.values())
        return IndexStatus(
            self.embedder.name, pending, self._indexed, self._failures, self._last_error
        )

    def note(
        self, session_id: str, rows: Sequence[tuple[str, str]], dropped: Sequence[str]
    ) -> None:
        """Queue a save's changes: (event id, text) to embed, event ids to drop. Never waits."""
        if not rows and not dropped:
            return
        self._erased.discard(session_id)  # saved again: a new session of that id
        job = self._jobs.setdefault(session_id, _Job())
        for event_id in dropped:
            job.rows.pop(event_id, None)
            job.dropped.add(event_id)
        if not job.whole:
            job.rows.update(rows)
            if self.status().pending > self.max_pending:
                job.rows.clear()
                job.whole = True  # read again when its turn comes
        self._start()

    def note_session(self, session: Session[Any]) -> None:
        """Queue the events a save of an in-memory session added (or the whole session, when
        events were removed since the last save)."""
        seen = self._seen.get(session.id, 0)
        self._seen[session.id] = len(session.events)
        if len(session.events) < seen:
            self.note_whole(session.id)
            return
        user_id = session.metadata.user_id
        found = [index_row(event, user_id) for event in session.events[seen:]]
        self.note(session.id, [(row.event_id, row.text) for row in found if row], [])

    def note_whole(self, session_id: str, fresh: bool = False) -> None:
        """Queue a whole session: embed its events without a vector (all with ``fresh``)."""
        job = self._jobs.setdefault(session_id, _Job())
        job.rows.clear()
        job.whole = True
        job.fresh = job.fresh or fresh
        self._start()

    def forget(self, session_ids: Sequence[str]) -> None:
        """Drop what is queued for ``session_ids`` (they are being erased), and any vector
        being embedded for them now."""
        for session_id in session_ids:
            self._jobs.pop(session_id, None)
            self._seen.pop(session_id, None)
            self._erased.add(session_id)

    def queued(self) -> set[str]:
        """The sessions with events waiting or being embedded."""
        return {*self._jobs, *self._embedding}

    async def flush(self) -> None:
        """Wait until every queued event is embedded and written (while the embedder fails,
        this keeps waiting: see ``status()``)."""
        while self._jobs or self._busy:
            self._start()
            await asyncio.sleep(0)
            if self._jobs or self._busy:
                await self._drained().wait()

    async def close(self) -> None:
        """Stop the task (what is queued stays unembedded: ``reindex`` embeds it later)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await self.backend.close()

    def _drained(self) -> asyncio.Event:
        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake

    def _start(self) -> None:
        if self._wake is not None:
            self._wake.clear()
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._wake = None
            self._task = loop.create_task(self._run(), name="llm-sessions-vectors")

    async def _run(self) -> None:
        pause = _FIRST_PAUSE
        while self._jobs:
            session_id = next(iter(self._jobs))
            job = self._jobs.pop(session_id)
            self._busy = True
            self._embedding = {session_id}
            try:
                await self._embed(session_id, job)
            except Exception as exc:  # any provider's error: retried and reported
                self._failed(session_id, job, exc)
                self._busy = False
                await self._sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE)
                continue
            finally:
                self._busy = False
                self._embedding = set()
            pause = _FIRST_PAUSE
            self._last_error = None
        self._drained().set()

    def _failed(self, session_id: str, job: _Job, exc: Exception) -> None:
        self._failures += 1
        self._last_error = f"{type(exc).__name__}: {exc}"
        logger.warning(
            "Embedding the events of session %s failed (attempt %d, retrying): %s",
            session_id,
            self._failures,
            self._last_error,
        )
        later = self._jobs.pop(session_id, None)
        if later is not None:  # saved again meanwhile: keep both, the newer text last
            job.rows.update(later.rows)
            for event_id in later.dropped:
                job.rows.pop(event_id, None)
            job.dropped |= later.dropped
            job.whole = job.whole or later.whole
            job.fresh = job.fresh or later.fresh
        self._jobs = {session_id: job, **self._jobs}

    async def _embed(self, session_id: str, job: _Job) -> None:
        rows = list(job.rows.items())
        if job.dropped:
            await self.backend.drop(session_id, sorted(job.dropped))
        if job.whole:
            rows = await self._whole(session_id, job.fresh)
        for start in range(0, len(rows), _BATCH):
            chunk = rows[start : start + _BATCH]
            matrix = await self.embedder.embed([text for _, text in chunk])
            if session_id in self._erased:
                return  # erased while its text was being embedded
            dim = int(matrix.shape[1])
            made = [
                VectorRow(event_id, self.embedder.name, dim, vector.astype("<f4").tobytes())
                for (event_id, _), vector in zip(chunk, matrix, strict=True)
            ]
            await self.backend.put(session_id, made)
            self._indexed += len(made)

    async def _whole(self, session_id: str, fresh: bool) -> list[tuple[str, str]]:
        """The (event id, text) to embed of a whole session; drops vectors of events gone."""
        session = await self.store.get(session_id)
        if session is None:
            await self.backend.drop(session_id)
            return []
        user_id = session.metadata.user_id
        found = [index_row(event, user_id) for event in session.events]
        live = {row.event_id: row.text for row in found if row is not None}
        gone = await self.backend.event_ids(session_id) - live.keys()
        if gone:
            await self.backend.drop(session_id, sorted(gone))
        if not fresh:
            done = await self.backend.event_ids(session_id, self.embedder.name)
            live = {eid: text for eid, text in live.items() if eid not in done}
        return list(live.items())
