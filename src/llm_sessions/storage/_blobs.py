"""Content-addressed blobs (attachments' bytes) kept beside a store's sessions.

A blob is named by the SHA-256 of its bytes (``sha256:<hex>``), so it is stored once however
many events or sessions name it. It is written before the event that names it; every write of
it (a new one, or the same bytes again) sets its "touched" time from the area's clock, and
``collect_blobs`` removes only blobs that no event names and that were not touched within
its grace period: a writer that has stored a blob but not yet appended its event is thus never
robbed of it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

from ..exceptions import InvalidInputError
from ._encryption import RecordCipher

__all__ = [
    "BLOB_PREFIX",
    "BlobArea",
    "FileBlobArea",
    "MemoryBlobArea",
    "blob_ref",
    "check_ref",
    "held_area",
    "refs_in_rows",
    "remember_area",
]

BLOB_PREFIX = "sha256:"
_REF = re.compile(r"sha256:[0-9a-f]{64}")
SEALED_MARK = '","enc":"'
"""What an event row sealed by encryption at rest holds after its id (see ``_encryption``)."""
_HEX = frozenset("0123456789abcdef")
Clock = Callable[[], float]


def blob_ref(data: bytes) -> str:
    """The reference of these bytes: ``sha256:<hex>``.

    Args:
        data: The bytes.

    Returns:
        The reference.
    """
    return BLOB_PREFIX + hashlib.sha256(data).hexdigest()


def refs_in_rows(bodies: Iterable[str]) -> set[str] | None:
    """The blob references named in stored event rows (any reference-shaped text: a blob is
    never taken for unnamed), or None if a row is sealed and could name any.

    Args:
        bodies: The rows' text, those that hold ``sha256:`` or ``SEALED_MARK`` at least.

    Returns:
        The references, or None.
    """
    found: set[str] = set()
    for body in bodies:
        if SEALED_MARK in body:
            return None
        found.update(_REF.findall(body))
    return found


def check_ref(ref: object) -> str:
    """The hex digest of a reference, checked (it also names files and keys).

    Args:
        ref: A ``sha256:<hex>`` reference.

    Returns:
        The 64 hex digits.

    Raises:
        InvalidInputError: It is not a SHA-256 reference.
    """
    digest = ref[len(BLOB_PREFIX) :] if isinstance(ref, str) else ""
    if not (isinstance(ref, str) and ref.startswith(BLOB_PREFIX)) or len(digest) != 64:
        raise InvalidInputError("blob.ref", ref, "must be 'sha256:' and 64 hex digits")
    if not set(digest) <= _HEX:
        raise InvalidInputError("blob.ref", ref, "must be 'sha256:' and 64 hex digits")
    return digest


class BlobArea(ABC):
    """The blobs of one store. ``max_bytes`` is the largest blob accepted; ``clock`` gives the
    "touched" times (seconds)."""

    def __init__(self, max_bytes: int, clock: Clock = time.time) -> None:
        self.max_bytes = max_bytes
        self.clock = clock
        self.cipher: RecordCipher | None = None
        """Seals the bytes at rest (the store's ``encryption_key``), None to keep them plain."""

    async def put(self, data: bytes) -> str:
        """Store ``data`` (once) and mark it touched now.

        Args:
            data: The bytes.

        Returns:
            Their reference.

        Raises:
            InvalidInputError: Larger than ``max_bytes``.
        """
        if len(data) > self.max_bytes:
            raise InvalidInputError(
                "attachment.size", len(data), f"must be at most {self.max_bytes} bytes here"
            )
        ref = blob_ref(data)
        stored = data if self.cipher is None else self.cipher.seal_bytes(data, f"blob {ref}")
        await self._put(check_ref(ref), stored, self.clock())
        return ref

    async def get(self, ref: str) -> bytes | None:
        """The bytes of ``ref``, or None when there is no such blob."""
        return (await self.get_many([ref])).get(ref)

    async def get_many(self, refs: Iterable[str]) -> dict[str, bytes]:
        """The bytes of each of ``refs`` that exists, by reference."""
        wanted = {ref: check_ref(ref) for ref in refs}
        found = await self._get_many(list(wanted.values()))
        return {
            ref: self._opened(ref, found[digest])
            for ref, digest in wanted.items()
            if digest in found
        }

    def _opened(self, ref: str, data: bytes) -> bytes:
        return data if self.cipher is None else self.cipher.open_bytes(data, f"blob {ref}")

    async def touched(self) -> dict[str, float]:
        """Every blob's reference with the time it was last written."""
        return {BLOB_PREFIX + digest: when for digest, when in (await self._list()).items()}

    async def delete_if_untouched(self, ref: str, cutoff: float) -> bool:
        """Remove ``ref`` unless it was written at or after ``cutoff``.

        Returns:
            Whether it was removed.
        """
        return await self._delete(check_ref(ref), cutoff)

    @abstractmethod
    async def _put(self, digest: str, data: bytes, now: float) -> None: ...

    @abstractmethod
    async def _get_many(self, digests: list[str]) -> dict[str, bytes]: ...

    @abstractmethod
    async def _list(self) -> dict[str, float]: ...

    @abstractmethod
    async def _delete(self, digest: str, cutoff: float) -> bool: ...


class MemoryBlobArea(BlobArea):
    """Blobs in a dict (the in-memory store's)."""

    def __init__(self, max_bytes: int, clock: Clock = time.time) -> None:
        super().__init__(max_bytes, clock)
        self._blobs: dict[str, tuple[bytes, float]] = {}

    async def _put(self, digest: str, data: bytes, now: float) -> None:
        held = self._blobs.get(digest)
        self._blobs[digest] = (data if held is None else held[0], now)

    async def _get_many(self, digests: list[str]) -> dict[str, bytes]:
        return {d: self._blobs[d][0] for d in digests if d in self._blobs}

    async def _list(self) -> dict[str, float]:
        return {digest: when for digest, (_, when) in self._blobs.items()}

    async def _delete(self, digest: str, cutoff: float) -> bool:
        held = self._blobs.get(digest)
        if held is None or held[1] >= cutoff:
            return False
        del self._blobs[digest]
        return True


class FileBlobArea(BlobArea):
    """Blobs as files ``<folder>/<hex[:2]>/<hex>``; the touched time is the file's mtime."""

    def __init__(self, folder: str, max_bytes: int, clock: Clock = time.time) -> None:
        super().__init__(max_bytes, clock)
        self.folder = folder

    def _path(self, digest: str) -> str:
        return os.path.join(self.folder, digest[:2], digest)

    async def _put(self, digest: str, data: bytes, now: float) -> None:
        await asyncio.to_thread(self._put_sync, digest, data, now)

    def _put_sync(self, digest: str, data: bytes, now: float) -> None:
        path = self._path(digest)
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = f"{path}.{os.getpid()}.{id(data)}.tmp"
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        os.utime(path, (now, now))

    async def _get_many(self, digests: list[str]) -> dict[str, bytes]:
        return await asyncio.to_thread(self._read_sync, digests)

    def _read_sync(self, digests: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for digest in digests:
            try:
                with open(self._path(digest), "rb") as handle:
                    found[digest] = handle.read()
            except FileNotFoundError:
                continue
        return found

    async def _list(self) -> dict[str, float]:
        return await asyncio.to_thread(self._list_sync)

    def _list_sync(self) -> dict[str, float]:
        found: dict[str, float] = {}
        if not os.path.isdir(self.folder):
            return found
        for shard in os.scandir(self.folder):
            if shard.is_dir() and len(shard.name) == 2:
                for entry in os.scandir(shard.path):
                    if len(entry.name) == 64 and set(entry.name) <= _HEX:
                        found[entry.name] = entry.stat().st_mtime
        return found

    async def _delete(self, digest: str, cutoff: float) -> bool:
        return await asyncio.to_thread(self._delete_sync, digest, cutoff)

    def _delete_sync(self, digest: str, cutoff: float) -> bool:
        path = self._path(digest)
        try:
            if os.stat(path).st_mtime >= cutoff:
                return False
            os.remove(path)
        except FileNotFoundError:
            return False
        return True


_AREAS: weakref.WeakKeyDictionary[Any, BlobArea] = weakref.WeakKeyDictionary()


def remember_area(store: object, area: BlobArea) -> BlobArea:
    """Keep ``area`` as ``store``'s blob area (for as long as the store lives)."""
    _AREAS[store] = area
    return area


def held_area(store: object) -> BlobArea | None:
    """The blob area already made for ``store``, if any."""
    return _AREAS.get(store)
