"""The store a framework integration keeps its conversations in, and how its calls reach it.

Frameworks call a chat history from async code and from plain functions alike. Our stores are
async, and a Redis or PostgreSQL store's connections belong to the event loop that first used
them, so every synchronous call runs on one private event loop, in a daemon thread of its own,
whether or not an event loop runs in the caller's thread. A store the integration opened from a
URL is used only on that loop, by the async methods too, so the two kinds of call can be mixed.
A store object the caller passes is used on the caller's loop by the async methods, and on the
private loop by the synchronous ones.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..exceptions import InvalidSessionOperation
from ..storage import SessionStore, SessionStoreInterface, SessionStoreProvider, open_store

__all__ = ["StoreAccess", "missing_extra"]

_T = TypeVar("_T")


def missing_extra(module: str, framework: str, extra: str) -> ImportError:
    """The ImportError an integration raises when its framework is not installed."""
    return ImportError(
        f'llm_sessions.integrations.{module} needs {framework}: pip install "llm-sessions[{extra}]"'
    )


class _LoopThread:
    """An event loop running in a daemon thread, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="llm-sessions-sync", daemon=True
                )
                self._thread.start()
            return self._loop

    def in_thread(self) -> bool:
        return threading.current_thread() is self._thread


_PRIVATE = _LoopThread()


class StoreAccess:
    """A store (an object, a URL opened here, or None for the default store) and the loop
    each call runs it on."""

    def __init__(self, store: SessionStoreInterface | str | None) -> None:
        self.owned = isinstance(store, str)
        if isinstance(store, str):
            self.store: SessionStoreInterface = open_store(store)
        elif store is None:
            self.store = SessionStoreProvider.get_store()
        else:
            self.store = store

    async def call(self, work: Callable[..., Awaitable[_T]], *args: Any) -> _T:
        """``await work(self.store, *args)``: on the private loop when this object opened the
        store, else on the caller's loop."""
        if not self.owned or _PRIVATE.in_thread():
            return await work(self.store, *args)
        future = asyncio.run_coroutine_threadsafe(_run(work, self.store, args), _PRIVATE.loop())
        return await asyncio.wrap_future(future)

    def call_sync(self, work: Callable[..., Awaitable[_T]], *args: Any) -> _T:
        """``work(self.store, *args)`` run to its end on the private loop, from any thread
        but the private loop's own."""
        if _PRIVATE.in_thread():
            raise InvalidSessionOperation(
                "call a synchronous method", "inside a coroutine; await the async method instead"
            )
        future = asyncio.run_coroutine_threadsafe(_run(work, self.store, args), _PRIVATE.loop())
        return future.result()

    async def close(self) -> None:
        """Close the store if this object opened it from a URL."""
        if self.owned and isinstance(self.store, SessionStore):
            await self.call(_close)


async def _run(work: Callable[..., Awaitable[_T]], store: Any, args: tuple[Any, ...]) -> _T:
    return await work(store, *args)


async def _close(store: SessionStore) -> None:
    await store.close()
