"""A model reply recorded while it streams, durable at every checkpoint.

The reply is one assistant event, appended with the first text and rewritten in place at most
every ``checkpoint_ms`` while text flows (every store rewrites an edited event on the next save;
the file store by appending the new version, which its reader folds). Until the stream closes
cleanly the event's metadata holds ``"incomplete": True``, so a reader, or a process that
resumes after this one was killed, sees a reply that was cut, with the text of its last
checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Protocol

from ..exceptions import InvalidInputError, InvalidSessionOperation
from ..models._event_source import EventSource
from ..models._session import Session
from ..models._session_event import SessionEvent
from ..models._token_usage import TokenUsage
from ..replies import ToolCallDelta, read_reply
from ..validation import ensure_json_value

__all__ = ["DEFAULT_CHECKPOINT_MS", "ReplyStream", "StreamHost"]

logger = logging.getLogger("llm_sessions.api.streaming")

DEFAULT_CHECKPOINT_MS = 250
"""How often, at most, a streaming reply is written while text flows."""


class StreamHost(Protocol):
    """What a reply stream needs from its conversation."""

    async def _begin_stream(self, stream: ReplyStream) -> Session[Any]: ...

    def _end_stream(self, stream: ReplyStream, event: SessionEvent[Any] | None) -> None: ...


class ReplyStream:
    """The reply being streamed: ``await reply.write(delta)`` inside
    ``async with manager.ai_stream(model=...) as reply``.

    Leaving the block normally completes the reply (its tokens are ``set_usage``'s, or counted);
    leaving it by an exception or cancellation writes the text so far and keeps the reply
    marked ``incomplete``, and the exception goes on.
    """

    def __init__(
        self,
        host: StreamHost,
        model: str,
        provider: str,
        metadata: dict[str, Any],
        checkpoint_ms: int = DEFAULT_CHECKPOINT_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(checkpoint_ms, bool) or not isinstance(checkpoint_ms, int | float):
            raise InvalidInputError("checkpoint_ms", checkpoint_ms, "must be a number >= 0")
        if checkpoint_ms < 0:
            raise InvalidInputError("checkpoint_ms", checkpoint_ms, "must be >= 0")
        ensure_json_value(metadata, "metadata")
        self._host = host
        self._model = model
        self._metadata = {"model": model, "provider": provider, **metadata}
        self._interval = checkpoint_ms / 1000
        self._clock = clock
        self._parts: list[str] = []
        self._calls: dict[int, dict[str, Any]] = {}
        self._usage: Any = None
        self._session: Session[Any] | None = None
        self._event: SessionEvent[Any] | None = None
        self._last_checkpoint = 0.0
        self._dirty = False
        self._state = "new"

    @property
    def text(self) -> str:
        """The text written so far."""
        return "".join(self._parts)

    @property
    def event(self) -> SessionEvent[Any] | None:
        """The reply's event, once its first text is written."""
        return self._event

    async def __aenter__(self) -> ReplyStream:
        if self._state != "new":
            raise InvalidSessionOperation("open the reply stream", "it was opened already")
        self._session = await self._host._begin_stream(self)
        self._state = "open"
        return self

    async def write(self, delta: str) -> None:
        """Add text to the reply; written to the store when a checkpoint is due.

        Args:
            delta: The next piece of text.

        Raises:
            InvalidInputError: ``delta`` is not text (the reply is unchanged).
            InvalidSessionOperation: The stream is not open.
        """
        self._check_open("write to the reply")
        if not isinstance(delta, str):
            raise InvalidInputError("delta", delta, "must be text (str)")
        if delta:
            self._parts.append(delta)
            self._dirty = True
            await self._maybe_checkpoint()

    async def write_tool_call(self, delta: ToolCallDelta) -> None:
        """Add a piece of a tool call (its id and name, or more of its arguments).

        Args:
            delta: The piece, naming the call by its index in the reply.

        Raises:
            InvalidSessionOperation: The stream is not open.
        """
        self._check_open("write to the reply")
        call = self._calls.setdefault(
            delta.index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if delta.id is not None:
            call["id"] = delta.id
        if delta.name is not None:
            call["function"]["name"] = delta.name
        call["function"]["arguments"] += delta.arguments
        self._dirty = True
        await self._maybe_checkpoint()

    def set_usage(self, usage: Any) -> None:
        """The usage the provider reported for the reply, recorded when it completes.

        Args:
            usage: The provider's usage (object or dict; see ``TokenUsage.from_provider``).

        Raises:
            InvalidInputError: It holds no token counts.
        """
        TokenUsage.from_provider(usage, self._model)  # checked now, where the caller is
        self._usage = usage

    async def checkpoint(self) -> None:
        """Write the reply as it is now, whether or not a checkpoint is due."""
        self._check_open("checkpoint the reply")
        await self._write_out()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._state != "open":
            return
        self._state = "closed"
        try:
            if exc is None:
                await self._complete()
            else:
                await _quietly(self._cut(exc))
        finally:
            self._host._end_stream(self, self._event)

    # -- writing ------------------------------------------------------------------------------

    def _check_open(self, operation: str) -> None:
        if self._state != "open":
            state = "it is closed" if self._state == "closed" else "it is not open yet"
            raise InvalidSessionOperation(operation, f"{state} (use it inside 'async with')")

    async def _maybe_checkpoint(self) -> None:
        if self._event is None or self._clock() - self._last_checkpoint >= self._interval:
            await self._write_out()

    def _message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self._calls:
            # Copies: the pieces still to come must not change what the event holds.
            message["tool_calls"] = [
                {**call, "function": dict(call["function"])}
                for call in (self._calls[i] for i in sorted(self._calls))
            ]
        ensure_json_value(message, "reply")
        return message

    async def _write_out(self) -> None:
        session = self._session
        assert session is not None
        self._last_checkpoint = self._clock()
        self._dirty = False
        if self._event is None:
            metadata = {**self._metadata, "incomplete": True}
            event = SessionEvent(message=self._message(), source=EventSource.LLM, metadata=metadata)
            await session.add_event_and_save(event)
            self._event = event
            return
        message = self._message()
        self._event.message["content"] = message["content"]
        if "tool_calls" in message:
            self._event.message["tool_calls"] = message["tool_calls"]
        await session.store.save(session)

    async def _complete(self) -> None:
        if self._event is None or self._dirty:
            await self._write_out()
        event = self._event
        assert event is not None and self._session is not None
        message = read_reply(self._message(), "reply")
        if self._usage is not None:
            event.token_usage = TokenUsage.from_provider(self._usage, self._model)
        else:
            await event.update_token_usage(
                prompt=None, completion=message.completion_text(), model=self._model
            )
        del event.metadata["incomplete"]
        await self._session.store.save(self._session)

    async def _cut(self, exc: BaseException) -> None:
        if self._event is None and not self._dirty:
            return  # nothing was written: the session stays as it was
        if self._dirty or self._event is None:
            await self._write_out()
        event = self._event
        assert event is not None and self._session is not None
        await event.update_token_usage(prompt=None, completion=self.text, model=self._model)
        event.metadata["cut_by"] = type(exc).__name__
        await self._session.store.save(self._session)


async def _quietly(work: Awaitable[None]) -> None:
    """Run the write that records a cut reply; its failure is logged, so the error that cut
    the reply is the one the caller sees."""
    try:
        await asyncio.shield(work)
    except Exception:
        logger.warning("Could not record the cut reply", exc_info=True)
