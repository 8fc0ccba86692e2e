"""Event vectors of a file store: one JSON file a session in the folder ``.vectors``.

A file maps event ids to ``[model, dim, base64 of the float32 bytes]`` and is replaced whole
(written aside, then renamed) on each change. Two processes embedding for one session at once
may leave one's vectors out: ``reindex()`` fills them in.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

from .._vectors import Loaded, VectorBackend, VectorRow, stack

__all__ = ["FileVectors"]

Held = dict[str, list[Any]]


class FileVectors(VectorBackend):
    """The vectors of the file store in ``directory``."""

    def __init__(self, directory: Path | str) -> None:
        self.folder = Path(directory) / ".vectors"

    def _path(self, session_id: str) -> Path:
        return self.folder / (hashlib.sha256(session_id.encode()).hexdigest() + ".json")

    def _read(self, session_id: str) -> Held:
        try:
            held: Held = json.loads(self._path(session_id).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return held

    def _write(self, session_id: str, held: Held) -> None:
        path = self._path(session_id)
        if not held:
            path.unlink(missing_ok=True)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(held), encoding="utf-8")
        os.replace(temporary, path)

    def _put(self, session_id: str, rows: Sequence[VectorRow]) -> None:
        held = self._read(session_id)
        for row in rows:
            held[row.event_id] = [row.model, row.dim, base64.b64encode(row.data).decode()]
        self._write(session_id, held)

    def _drop(self, session_id: str, event_ids: Sequence[str] | None) -> int:
        held = self._read(session_id)
        if event_ids is None:
            self._write(session_id, {})
            return len(held)
        gone = sum(held.pop(event_id, None) is not None for event_id in event_ids)
        self._write(session_id, held)
        return gone

    def _load(self, session_ids: Sequence[str], model: str, dim: int) -> Loaded:
        keys, blobs = [], []
        for session_id in session_ids:
            for event_id, (made_by, size, data) in self._read(session_id).items():
                if made_by == model and size == dim:
                    keys.append((session_id, event_id))
                    blobs.append(base64.b64decode(data))
        return stack(keys, blobs, dim)

    async def put(self, session_id: str, rows: Sequence[VectorRow]) -> None:
        await asyncio.to_thread(self._put, session_id, rows)

    async def drop(self, session_id: str, event_ids: Sequence[str] | None = None) -> int:
        return await asyncio.to_thread(self._drop, session_id, event_ids)

    async def event_ids(self, session_id: str, model: str | None = None) -> set[str]:
        held = await asyncio.to_thread(self._read, session_id)
        return {eid for eid, row in held.items() if model is None or row[0] == model}

    async def load(self, session_ids: Sequence[str], model: str, dim: int) -> Loaded:
        return await asyncio.to_thread(self._load, session_ids, model, dim)

    async def holding(self, session_ids: Sequence[str]) -> list[str]:
        return list(await self.versions(session_ids))

    def _versions(self, session_ids: Sequence[str]) -> dict[str, Hashable]:
        found: dict[str, Hashable] = {}
        for session_id in session_ids:
            try:
                stat = self._path(session_id).stat()
            except FileNotFoundError:
                continue
            found[session_id] = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        return found

    async def versions(self, session_ids: Sequence[str]) -> dict[str, Hashable]:
        return await asyncio.to_thread(self._versions, session_ids)
