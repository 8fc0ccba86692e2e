"""The vector index's part of the store API: ``use_embedder``, ``flush_index``, ``reindex`` and
``index_status`` (a mixin of ``SessionStore``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidSessionOperation

if TYPE_CHECKING:
    from ._vectors_index import IndexStatus, Sleep, VectorIndexer

__all__ = ["VectorIndexing"]


class VectorIndexing:
    """Semantic search's upkeep on a store: an embedder, the queue, rebuilding vectors."""

    _vector_index: VectorIndexer | None = None

    def use_embedder(
        self,
        embedder: Callable[[list[str]], Any],
        *,
        name: str | None = None,
        max_pending: int = 10_000,
        sleep: Sleep | None = None,
        cache_bytes: int = 2 * 1024**3,
    ) -> None:
        """Embed every event this store object saves from now on, for ``search(mode=...)``.

        ``open_store(url, embedder=fn)`` calls this. Embedding runs in a background task: a
        save only queues its events' text. Events saved before (or by a store without an
        embedder) get vectors from ``reindex()``.

        Args:
            embedder: a function (sync or async) of a list of texts to one vector each (a
                list of lists of numbers, or a 2-D numpy array), from any provider.
            name: the model's name, stored with each vector (default: the function's
                ``name`` or ``model`` attribute, else its qualified name). Vectors of another
                name are not searched.
            max_pending: the most events queued before whole sessions are queued instead.
            sleep: the pause between retries of a failing embedder (``asyncio.sleep``; a
                test passes its own).
            cache_bytes: the most bytes of vectors this store object keeps read between
                searches (re-read only where they changed); 0 reads them for every search.

        Raises:
            InvalidInputError: ``embedder`` is not callable, or an option is not valid.
            InvalidSessionOperation: the store keeps no search index (encrypted without
                ``search_index="plaintext"``, or ``search_index="off"``): vectors are
                derived from the events' plaintext.
        """
        from ._vector_stores import vector_backend_for
        from ._vectors_index import Embedder, VectorIndexer

        refusal = self._search_refusal()
        if refusal is not None:
            raise InvalidSessionOperation("index vectors", refusal)
        made = Embedder(embedder, name)
        backend = vector_backend_for(self)
        index = VectorIndexer(self, made, backend, max_pending, sleep, cache_bytes)
        self._vector_index = index

    async def flush_index(self) -> None:
        """Wait until every event saved so far through this store object has its vector.

        While the embedder fails this keeps waiting (it is retried): ``index_status()``
        shows the failures; wrap the call in ``asyncio.wait_for`` to bound it.

        Raises:
            InvalidSessionOperation: the store has no embedder.
        """
        await self._vectors_or_refuse().flush()

    async def reindex(
        self, embedder: Callable[[list[str]], Any] | None = None, *, name: str | None = None
    ) -> int:
        """(Re)build the vectors of every stored session and wait until done.

        With a new ``embedder`` every event is embedded again by it (vectors of the old model
        are replaced); without one only events with no vector of the current embedder are,
        such as those saved before it was given or while the index was off.

        Args:
            embedder: the new embedding function (None: keep the current one).
            name: the new model's name (see ``use_embedder``).

        Returns:
            The number of sessions read.

        Raises:
            InvalidSessionOperation: no embedder given now or before, or the store keeps no
                search index.
        """
        current = self._vector_index
        if embedder is not None:
            self.use_embedder(embedder, name=name)
            if current is not None:
                await current.close()
        index = self._vectors_or_refuse()
        session_ids = await self.list_sessions()  # type: ignore[attr-defined]
        for session_id in session_ids:
            index.note_whole(session_id, fresh=embedder is not None)
        await index.flush()
        return len(session_ids)

    def index_status(self) -> IndexStatus:
        """What the vector index is doing: queued events, vectors written, failures.

        Raises:
            InvalidSessionOperation: the store has no embedder.
        """
        return self._vectors_or_refuse().status()

    def _vectors_or_refuse(self) -> VectorIndexer:
        self._ensure_open()  # type: ignore[attr-defined]
        if self._vector_index is None:
            raise InvalidSessionOperation(
                "index vectors", "the store has no embedder: open_store(url, embedder=fn)"
            )
        return self._vector_index

    def _search_refusal(self) -> str | None:
        return None

    async def _stop_vectors(self) -> None:
        index, self._vector_index = self._vector_index, None
        if index is not None:
            await index.close()
