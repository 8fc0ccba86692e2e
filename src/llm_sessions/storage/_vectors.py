"""Event vectors kept beside a store's sessions, for semantic search.

A vector is derived data: the embedding of the text a prompt renders for one event
(``search_text``), unit length, float32, stored with the embedder's name and its dimension.
Each kind of store keeps them where it keeps its sessions:

- memory: a dict of the store object;
- file: one JSON file a session in the folder ``.vectors`` of the store's folder;
- SQLite: the table ``llm_sessions_vectors`` of the same database file;
- Redis: the hash ``<key_prefix>{<session id>}:vectors`` (event id to vector);
- PostgreSQL: the table ``llm_sessions_vectors`` of the store's schema.

Tables are created on first use, so a file or schema written by an older version needs no
migration. Each kind of store declares its backend in ``VECTORS``; ``vector_backend_for``
(in ``_vector_stores``) asks it.
"""

from __future__ import annotations

import weakref
from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._backends import StoreBackend

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "VECTORS",
    "EventFacts",
    "Loaded",
    "MemoryVectors",
    "VectorBackend",
    "VectorRow",
    "numpy",
    "stack",
]


def numpy() -> Any:
    """The numpy module, or an ImportError saying which extra brings it."""
    try:
        import numpy as np
    except ImportError as exc:  # pragma: no cover - numpy ships with the vectors extra
        raise ImportError(
            'Semantic search needs numpy: pip install "llm-sessions[vectors]"'
        ) from exc
    return np


@dataclass(frozen=True)
class VectorRow:
    """One event's vector: unit length, float32 bytes (little-endian) of ``dim`` numbers."""

    event_id: str
    model: str
    dim: int
    data: bytes


@dataclass(frozen=True)
class EventFacts:
    """What a hit shows of a live event: its type, time, owner and text."""

    event_type: str
    created_at: datetime
    user_id: str | None
    text: str


Key = tuple[str, str]


@dataclass
class Loaded:
    """The vectors of a scope: ``keys[i]`` is the (session id, event id) of ``matrix[i]``."""

    keys: list[tuple[str, str]]
    matrix: np.ndarray[Any, Any]


def stack(keys: list[tuple[str, str]], blobs: Sequence[bytes], dim: int) -> Loaded:
    """A ``Loaded`` from the vectors' bytes, in the order of ``keys``."""
    np = numpy()
    matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(keys), dim)
    return Loaded(keys, matrix)


class VectorBackend(ABC):
    """Where one store keeps its vectors; rows are keyed by session id and event id."""

    @abstractmethod
    async def put(self, session_id: str, rows: Sequence[VectorRow]) -> None:
        """Store ``rows``, replacing any vector of the same events."""

    @abstractmethod
    async def drop(self, session_id: str, event_ids: Sequence[str] | None = None) -> int:
        """Delete the vectors of ``event_ids`` (None: all of the session's); how many went."""

    @abstractmethod
    async def event_ids(self, session_id: str, model: str | None = None) -> set[str]:
        """The ids of the session's events with a vector (of ``model``, or of any)."""

    @abstractmethod
    async def load(self, session_ids: Sequence[str], model: str, dim: int) -> Loaded:
        """The vectors of ``model`` and ``dim`` of the events of ``session_ids``."""

    @abstractmethod
    async def holding(self, session_ids: Sequence[str]) -> list[str]:
        """Which of ``session_ids`` have vectors."""

    @abstractmethod
    async def versions(self, session_ids: Sequence[str]) -> dict[str, Hashable]:
        """A fingerprint of the vectors of each of ``session_ids`` that has any, which
        changes whenever one of them is written or dropped (by any process)."""

    async def facts(self, keys: Sequence[Key]) -> dict[Key, EventFacts]:
        """The facts of those of ``keys`` (session id, event id) the store's text index holds
        (a live event, as of the last commit); this default knows none (the caller then
        reads the sessions)."""
        return {}

    async def close(self) -> None:  # noqa: B027 - most kinds hold nothing to close
        """Release what the backend holds (the store itself stays open)."""


VECTORS: StoreBackend[VectorBackend] = StoreBackend("vectors")
"""The ``VectorBackend`` of each kind of store."""

_MEMORY: weakref.WeakKeyDictionary[object, dict[str, dict[str, VectorRow]]] = (
    weakref.WeakKeyDictionary()
)
_WRITES: weakref.WeakKeyDictionary[object, dict[str, int]] = weakref.WeakKeyDictionary()


class MemoryVectors(VectorBackend):
    def __init__(self, store: object) -> None:
        self.sessions = _MEMORY.setdefault(store, {})
        self.writes = _WRITES.setdefault(store, {})

    def _wrote(self, session_id: str) -> None:
        self.writes[session_id] = self.writes.get(session_id, 0) + 1

    async def put(self, session_id: str, rows: Sequence[VectorRow]) -> None:
        self.sessions.setdefault(session_id, {}).update({row.event_id: row for row in rows})
        self._wrote(session_id)

    async def drop(self, session_id: str, event_ids: Sequence[str] | None = None) -> int:
        self._wrote(session_id)
        if event_ids is None:
            return len(self.sessions.pop(session_id, {}))
        held = self.sessions.get(session_id, {})
        return sum(held.pop(event_id, None) is not None for event_id in event_ids)

    async def versions(self, session_ids: Sequence[str]) -> dict[str, Hashable]:
        return {s: self.writes.get(s, 0) for s in session_ids if self.sessions.get(s)}

    async def event_ids(self, session_id: str, model: str | None = None) -> set[str]:
        held = self.sessions.get(session_id, {})
        return {eid for eid, row in held.items() if model is None or row.model == model}

    async def load(self, session_ids: Sequence[str], model: str, dim: int) -> Loaded:
        keys, blobs = [], []
        for session_id in session_ids:
            for event_id, row in self.sessions.get(session_id, {}).items():
                if row.model == model and row.dim == dim:
                    keys.append((session_id, event_id))
                    blobs.append(row.data)
        return stack(keys, blobs, dim)

    async def holding(self, session_ids: Sequence[str]) -> list[str]:
        return [sid for sid in session_ids if self.sessions.get(sid)]
