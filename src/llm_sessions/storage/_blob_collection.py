"""Which blob area a store has, and collecting the blobs no event names."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from ..models._attachment import ATTACHMENT_PART, MAX_ATTACHMENT_BYTES
from ..models._session_event import SessionEvent
from ._blob_backends import PostgresBlobArea, RedisBlobArea, SQLiteBlobArea
from ._blobs import BlobArea, Clock, FileBlobArea, MemoryBlobArea, held_area, remember_area
from ._erasure_api import ErasureMethods
from ._erasure_run import DERIVED_KINDS, DerivedKind
from .file._store import FileSessionStore
from .memory import InMemorySessionStore
from .postgres._store import PostgresSessionStore
from .redis._store import RedisSessionStore
from .sqlite._store import SQLiteSessionStore

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "REDIS_MAX_BLOB_BYTES",
    "blob_area",
    "blob_refs",
    "collect_blobs",
    "read_blobs",
    "remove_unnamed",
]

REDIS_MAX_BLOB_BYTES = 8 * 1024 * 1024
DEFAULT_GRACE_SECONDS = 3600.0


def _unwrapped(store: Any) -> Any:
    """The store below any views of it (a tenant's view shares the whole store's blobs)."""
    inner = getattr(store, "inner", None)
    while inner is not None and inner is not store:
        store, inner = inner, getattr(inner, "inner", None)
    return store


def _new_area(store: Any) -> BlobArea:
    if _unwrapped(store) is not store:
        return blob_area(_unwrapped(store))
    if isinstance(store, InMemorySessionStore):
        return MemoryBlobArea(MAX_ATTACHMENT_BYTES)
    if isinstance(store, FileSessionStore):
        return FileBlobArea(os.path.join(store._folder, "blobs"), MAX_ATTACHMENT_BYTES)
    if isinstance(store, SQLiteSessionStore):
        return SQLiteBlobArea(store, MAX_ATTACHMENT_BYTES)
    if isinstance(store, PostgresSessionStore):
        return PostgresBlobArea(store, MAX_ATTACHMENT_BYTES)
    if isinstance(store, RedisSessionStore):
        return RedisBlobArea(store, REDIS_MAX_BLOB_BYTES)
    return MemoryBlobArea(MAX_ATTACHMENT_BYTES)


def blob_area(store: Any, *, max_bytes: int | None = None, clock: Clock | None = None) -> BlobArea:
    """The blob area of ``store`` (made on first use, then the same object).

    Args:
        store: A session store.
        max_bytes: Set the largest blob it accepts (Redis default 8 MiB, else 20 MiB).
        clock: Set the clock its touched times come from (for tests).

    Returns:
        The blob area.
    """
    area = held_area(store)
    if area is None:
        area = remember_area(store, _new_area(store))
        cipher = getattr(store, "_cipher", None)
        if cipher is not None and cipher.current_id is not None:
            area.cipher = cipher
    if max_bytes is not None:
        area.max_bytes = max_bytes
    if clock is not None:
        area.clock = clock
    return area


async def read_blobs(store: Any, refs: list[str]) -> dict[str, bytes]:
    """The bytes of each of ``refs`` that ``store`` holds (none when there is no store).

    Args:
        store: A session store, or None for a session that belongs to none.
        refs: Blob references.

    Returns:
        The bytes by reference.
    """
    return {} if store is None else await blob_area(store).get_many(refs)


def blob_refs(events: Iterable[SessionEvent[Any]]) -> Iterator[str]:
    """The blob references that ``events`` name (attachment parts of their messages)."""
    for event in events:
        message = event.message
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for part in content:
            if isinstance(part, dict) and part.get("type") == ATTACHMENT_PART:
                ref = part.get("ref")
                if isinstance(ref, str):
                    yield ref


async def collect_blobs(store: Any, *, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> int:
    """Remove the blobs that no event of any session in ``store`` names and that were not
    written within the last ``grace_seconds`` (a writer stores a blob before the event that
    names it; the grace keeps it for that writer).

    Args:
        store: A session store (for a view of one, such as a tenant's, the whole store is
            scanned: blobs are shared).
        grace_seconds: How long a blob is kept after its last write, named or not.

    Returns:
        How many blobs were removed.
    """
    store = _unwrapped(store)
    area = blob_area(store)
    cutoff = area.clock() - grace_seconds
    candidates = {ref for ref, when in (await area.touched()).items() if when < cutoff}
    return await remove_unnamed(store, candidates, cutoff)


async def remove_unnamed(store: Any, candidates: set[str], cutoff: float) -> int:
    """Remove those of ``candidates`` that no event of any session in ``store`` names and
    that were last written before ``cutoff``.

    Args:
        store: A session store (for a view of one, the whole store is scanned).
        candidates: Blob references that may have lost the last event naming them.
        cutoff: Blobs written at or after this time (area clock) are kept.

    Returns:
        How many blobs were removed.
    """
    store = _unwrapped(store)
    area = blob_area(store)
    candidates = set(candidates)
    if not candidates:
        return 0
    named = await store._blob_refs(None) if isinstance(store, ErasureMethods) else None
    if named is not None:
        candidates.difference_update(named)
    else:
        for session_id in await store.list_sessions():
            session = await store.get(session_id)
            if session is not None:
                candidates.difference_update(blob_refs(session.events))
    removed = 0
    for ref in sorted(candidates):
        removed += await area.delete_if_untouched(ref, cutoff)
    return removed


async def _named_by(store: Any, session_ids: list[str]) -> list[str]:
    """The blobs ``session_ids`` name; no session is read when the store holds no blobs."""
    if not session_ids or not await blob_area(store).touched():
        return []
    if _unwrapped(store) is store and isinstance(store, ErasureMethods):
        named = await store._blob_refs(session_ids)
        if named is not None:
            return sorted(named)
    refs: set[str] = set()
    for session_id in session_ids:
        session = await store.get(session_id)
        if session is not None:
            refs.update(blob_refs(session.events))
    return sorted(refs)


async def _drop_unnamed(store: Any, refs: list[str], started: float) -> int:
    if not refs:
        return 0
    return await remove_unnamed(store, set(refs), min(started, blob_area(store).clock()))


DERIVED_KINDS.append(DerivedKind("blobs", _named_by, _drop_unnamed))
