"""The streaming calls of a conversation: ``ai_stream`` and ``ai_responds_stream``."""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterable, Callable, Iterable
from contextlib import aclosing
from typing import Any

from ..exceptions import InvalidInputError, InvalidSessionOperation
from ..models._session import Session
from ..models._session_event import SessionEvent
from ..replies import chunk_deltas
from ._conversation_base import ConversationBase
from ._reply_stream import DEFAULT_CHECKPOINT_MS, ReplyStream

__all__ = ["StreamingConversation"]


class StreamingConversation(ConversationBase):
    """Recording a model reply while it streams (see ``ReplyStream``)."""

    _open_stream: ReplyStream | None = None

    def ai_stream(
        self,
        model: str = "unknown",
        provider: str = "unknown",
        *,
        checkpoint_ms: int = DEFAULT_CHECKPOINT_MS,
        clock: Callable[[], float] = time.monotonic,
        **metadata: Any,
    ) -> ReplyStream:
        """A model reply recorded as it streams: ``async with sm.ai_stream(model=m) as reply:
        await reply.write(delta)``.

        The reply is one event, written ``checkpoint_ms`` after the stream opens (at the first
        text after that) and again at most every ``checkpoint_ms`` while text flows; a reply
        that ends sooner is written once. It is marked ``metadata["incomplete"] = True``
        until the block ends normally, when it is written complete with its tokens (the usage
        given to ``reply.set_usage``, or counted). An exception or cancellation leaves it
        incomplete with the text so far; a killed process leaves the text of the last
        checkpoint.

        Args:
            model: The model that replies (counts and prices the reply).
            provider: The provider, kept in the event's metadata.
            checkpoint_ms: The longest time text stays unwritten while it flows.
            clock: Seconds as a float, for checkpoint timing (default ``time.monotonic``).
            **metadata: JSON values kept in the event's metadata.

        Returns:
            The reply stream, to use with ``async with``.

        Raises:
            InvalidInputError: A bad ``checkpoint_ms`` or metadata.
        """
        return ReplyStream(self, model, provider, metadata, checkpoint_ms, clock)

    async def ai_responds_stream(
        self,
        stream: AsyncIterable[Any] | Iterable[Any],
        model: str = "unknown",
        provider: str = "openai",
        *,
        checkpoint_ms: int = DEFAULT_CHECKPOINT_MS,
        clock: Callable[[], float] = time.monotonic,
        **metadata: Any,
    ) -> str:
        """Record an OpenAI streaming response as it arrives: a chat-completions stream
        (``stream=True``; usage from the last chunk with ``stream_options={"include_usage":
        True}``) or a Responses stream, async or not. Text and tool-call pieces are recorded
        as by ``ai_stream``.

        Args:
            stream: The stream, as the ``openai`` client returns it (or its items as dicts).
            model: The model that replies.
            provider: The provider, kept in the event's metadata.
            checkpoint_ms: The longest time text stays unwritten while it flows.
            clock: Seconds as a float, for checkpoint timing.
            **metadata: JSON values kept in the event's metadata.

        Returns:
            The current session id.

        Raises:
            InvalidInputError: ``stream`` is not a stream, or an item of it is not a chunk
                or event or holds text that is not text; the reply so far stays, incomplete.
        """
        async with (
            self.ai_stream(
                model, provider, checkpoint_ms=checkpoint_ms, clock=clock, **metadata
            ) as reply,
            aclosing(_numbered(stream)) as items,
        ):
            async for position, item in items:
                deltas = chunk_deltas(item, position)
                if deltas.text:
                    await reply.write(deltas.text)
                for call in deltas.tool_calls:
                    await reply.write_tool_call(call)
                if deltas.usage is not None:
                    reply.set_usage(deltas.usage)
        return self.session_id

    async def _begin_stream(self, stream: ReplyStream) -> Session[Any]:
        if self._open_stream is not None:
            raise InvalidSessionOperation(
                "open a second reply stream", "this manager is streaming a reply already"
            )
        self._open_stream = stream
        try:
            return await self._ensure_session()
        except BaseException:
            self._open_stream = None
            raise

    def _end_stream(self, stream: ReplyStream, event: SessionEvent[Any] | None) -> None:
        if self._open_stream is stream:
            self._open_stream = None
        if event is not None:
            self._last_reply_id = event.id


async def _numbered(stream: AsyncIterable[Any] | Iterable[Any]) -> Any:
    if isinstance(stream, str | bytes) or not isinstance(stream, AsyncIterable | Iterable):
        raise InvalidInputError("stream", stream, "must be an OpenAI stream (async or not)")
    try:
        if isinstance(stream, AsyncIterable):
            position = 0
            async for item in stream:
                yield position, item
                position += 1
        else:
            for position, item in enumerate(stream):
                yield position, item
    finally:
        await _close(stream)


async def _close(stream: object) -> None:
    """Close a stream left unfinished (its HTTP response stays open otherwise): ``close()``
    of the ``openai`` client's streams, ``aclose()`` of an async generator."""
    close = getattr(stream, "close", None) or getattr(stream, "aclose", None)
    if callable(close):
        result = close()
        if inspect.isawaitable(result):
            await result
