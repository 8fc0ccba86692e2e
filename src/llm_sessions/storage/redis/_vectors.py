"""Event vectors of a Redis store: the hash ``<key_prefix>{<session id>}:vectors``.

Each field is an event id; its value is ``model<TAB>dim<TAB>base64 of the float32 bytes``
(text, so a client opened with ``decode_responses`` reads it too); the field ``/version``
(no event id holds a ``/``) counts the writes, for readers that keep vectors. The key shares the
session's hash tag, so a Cluster keeps it in the session's slot, and ``drop_all`` removes it.
"""

from __future__ import annotations

import base64
from collections.abc import Hashable, Sequence
from typing import Any

from .._vectors import Loaded, VectorBackend, VectorRow, stack

__all__ = ["RedisVectors"]

_PIPELINE = 200
_VERSION = "/version"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisVectors(VectorBackend):
    """The vectors of the Redis store on ``client`` under ``key_prefix``."""

    def __init__(self, client: Any, key_prefix: str) -> None:
        self.client = client
        self.key_prefix = key_prefix

    def _key(self, session_id: str) -> str:
        return f"{self.key_prefix}{{{session_id}}}:vectors"

    async def put(self, session_id: str, rows: Sequence[VectorRow]) -> None:
        mapping = {
            r.event_id: f"{r.model}\t{r.dim}\t{base64.b64encode(r.data).decode()}" for r in rows
        }
        if mapping:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.hset(self._key(session_id), mapping=mapping)
                pipe.hincrby(self._key(session_id), _VERSION, 1)
                await pipe.execute()

    async def drop(self, session_id: str, event_ids: Sequence[str] | None = None) -> int:
        if event_ids is None:
            held = len(await self.event_ids(session_id))
            await self.client.delete(self._key(session_id))
            return held
        if not event_ids:
            return 0
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hdel(self._key(session_id), *event_ids)
            pipe.hincrby(self._key(session_id), _VERSION, 1)
            gone, _ = await pipe.execute()
        return int(gone)

    async def event_ids(self, session_id: str, model: str | None = None) -> set[str]:
        held = await self.client.hgetall(self._key(session_id))
        found = {_text(eid): value for eid, value in held.items()}
        found.pop(_VERSION, None)
        return {eid for eid, value in found.items() if model is None or _model_of(value) == model}

    async def load(self, session_ids: Sequence[str], model: str, dim: int) -> Loaded:
        keys: list[tuple[str, str]] = []
        blobs: list[bytes] = []
        wanted = f"{model}\t{dim}\t"
        for start in range(0, len(session_ids), _PIPELINE):
            chunk = session_ids[start : start + _PIPELINE]
            async with self.client.pipeline(transaction=False) as pipe:
                for session_id in chunk:
                    pipe.hgetall(self._key(session_id))
                found = await pipe.execute()
            for session_id, held in zip(chunk, found, strict=True):
                for event_id, value in held.items():
                    text = _text(value)
                    if text.startswith(wanted):
                        keys.append((session_id, _text(event_id)))
                        blobs.append(base64.b64decode(text[len(wanted) :]))
        return stack(keys, blobs, dim)

    async def holding(self, session_ids: Sequence[str]) -> list[str]:
        return list(await self.versions(session_ids))

    async def versions(self, session_ids: Sequence[str]) -> dict[str, Hashable]:
        found: dict[str, Hashable] = {}
        for start in range(0, len(session_ids), _PIPELINE):
            chunk = session_ids[start : start + _PIPELINE]
            async with self.client.pipeline(transaction=False) as pipe:
                for session_id in chunk:
                    pipe.hget(self._key(session_id), _VERSION)
                    pipe.hlen(self._key(session_id))
                answers = await pipe.execute()
            for n, session_id in enumerate(chunk):
                version, size = answers[2 * n], answers[2 * n + 1]
                if version is not None and int(size) > 1:
                    found[session_id] = int(version)
        return found


def _model_of(value: Any) -> str:
    return _text(value).split("\t", 1)[0]
