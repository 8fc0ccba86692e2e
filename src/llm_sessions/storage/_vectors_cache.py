"""The vectors a store object has read, kept per session while they are current.

Reading a scope's vectors costs far more than scoring them (a million rows of a table, or
keys of Redis), so each store object with an embedder keeps what it read, per session, with
the session's *version*: a cheap fingerprint its backend gives for every session in one call
(a row count and the newest row version in SQL, the file's identity and time on disk, a
counter in Redis or memory). A search asks for the versions of the sessions in scope and reads
again only the sessions whose version changed, so vectors written by any process are seen.
The cache holds at most ``max_bytes`` of vectors; the sessions read longest ago go first.
Scores are computed session by session (one matrix product each), so nothing is copied.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._vectors import numpy

if TYPE_CHECKING:
    import numpy as np

    from ._vectors import VectorBackend

__all__ = ["DEFAULT_CACHE_BYTES", "VectorCache"]

DEFAULT_CACHE_BYTES = 2 * 1024**3
"""How many bytes of vectors a store object keeps read by default (2 GiB)."""


@dataclass
class _Held:
    version: Hashable
    keys: list[tuple[str, str]]
    matrix: np.ndarray[Any, Any]


class VectorCache:
    """Per-session vectors of one model, read through a ``VectorBackend`` (see the module)."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._held: OrderedDict[tuple[str, int, str], _Held] = OrderedDict()
        self._bytes = 0

    async def scores(
        self,
        backend: VectorBackend,
        session_ids: Sequence[str],
        model: str,
        vector: np.ndarray[Any, Any],
    ) -> tuple[list[tuple[str, str]], np.ndarray[Any, Any]]:
        """The (session id, event id) of every vector of ``model`` in ``session_ids`` and its
        dot product with ``vector``."""
        nd = numpy()
        dim = int(vector.shape[0])
        versions = await backend.versions(session_ids)
        found: dict[str, _Held] = {}
        for session_id, version in versions.items():
            held = self._held.get((model, dim, session_id))
            if held is not None and held.version == version:
                self._held.move_to_end((model, dim, session_id))
                found[session_id] = held
        stale = [session_id for session_id in versions if session_id not in found]
        found.update(await self._read(backend, stale, versions, model, dim))
        keys: list[tuple[str, str]] = []
        parts = []
        for session_id in versions:
            held = found[session_id]
            keys.extend(held.keys)
            parts.append(held.matrix @ vector)
        scores = nd.concatenate(parts) if parts else nd.zeros(0, dtype=nd.float32)
        return keys, scores

    async def _loaded(
        self,
        backend: VectorBackend,
        session_ids: list[str],
        versions: dict[str, Hashable],
        model: str,
        dim: int,
    ) -> list[_Held]:
        loaded = await backend.load(session_ids, model, dim)
        rows: dict[str, list[int]] = {session_id: [] for session_id in session_ids}
        for n, (session_id, _) in enumerate(loaded.keys):
            rows[session_id].append(n)
        return [
            _Held(
                versions[session_id],
                [loaded.keys[n] for n in picked],
                loaded.matrix[picked] if picked else loaded.matrix[:0],
            )
            for session_id, picked in rows.items()
        ]

    async def _read(
        self,
        backend: VectorBackend,
        session_ids: list[str],
        versions: dict[str, Hashable],
        model: str,
        dim: int,
    ) -> dict[str, _Held]:
        """The vectors of ``session_ids``, read now (and kept, as far as they fit)."""
        fresh: dict[str, _Held] = {}
        step = 500
        for start in range(0, len(session_ids), step):
            chunk = session_ids[start : start + step]
            read = await self._loaded(backend, chunk, versions, model, dim)
            for session_id, held in zip(chunk, read, strict=True):
                fresh[session_id] = held
                self._keep((model, dim, session_id), held)
        return fresh

    def _keep(self, key: tuple[str, int, str], held: _Held) -> None:
        old = self._held.pop(key, None)
        if old is not None:
            self._bytes -= old.matrix.nbytes
        size = held.matrix.nbytes
        if size > self.max_bytes:
            return
        while self._held and self._bytes + size > self.max_bytes:
            _, dropped = self._held.popitem(last=False)
            self._bytes -= dropped.matrix.nbytes
        self._held[key] = held
        self._bytes += size
