"""Which ``VectorBackend`` a store keeps its vectors in, and their erasure.

An erasure deletes the vectors of the sessions it erases: the ``vectors`` kind of
``DERIVED_KINDS`` (the receipt counts the sessions whose vectors went).
"""

from __future__ import annotations

from typing import Any

from ..exceptions import InvalidInputError
from ._erasure_run import DERIVED_KINDS, DerivedKind
from ._vectors import VECTORS, VectorBackend

__all__ = ["vector_backend_for"]


def vector_backend_for(store: object) -> VectorBackend:
    """Where ``store`` keeps its vectors: what its kind declared in ``VECTORS``.

    Args:
        store: a memory, file, SQLite, Redis or PostgreSQL store.

    Returns:
        Its ``VectorBackend``.

    Raises:
        InvalidInputError: for another kind of store.
    """
    return VECTORS.of(store)


async def _with_vectors(store: Any, session_ids: list[str]) -> list[str]:
    """The sessions with vectors, or with events queued to be embedded by ``store``."""
    try:
        backend = vector_backend_for(store)
    except InvalidInputError:  # a kind of store of its own: it keeps no vectors
        return []
    index = getattr(store, "_vector_index", None)
    queued = set() if index is None else index.queued() & set(session_ids)
    try:
        return sorted({*await backend.holding(session_ids), *queued})
    finally:
        await backend.close()


async def _drop_vectors(store: Any, session_ids: list[str], started: float) -> int:
    index = getattr(store, "_vector_index", None)
    if index is not None:
        index.forget(session_ids)  # a queued embedding must not write them back
    if not session_ids:
        return 0
    backend = vector_backend_for(store)
    try:
        for session_id in session_ids:
            await backend.drop(session_id)
    finally:
        await backend.close()
    return len(session_ids)


DERIVED_KINDS.append(DerivedKind("vectors", _with_vectors, _drop_vectors))
