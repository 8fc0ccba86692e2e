"""A model reply recorded while it streams, durable at every checkpoint.

The reply is one assistant event, appended at the first checkpoint (``checkpoint_ms`` after the
stream opened, if text came by then) and rewritten in place at the next ones, at most every
``checkpoint_ms`` while text flows (every store rewrites an edited event on the next save; the
file store by appending the new version, which its reader folds). A reply that ends before its
first checkpoint is written once, complete. Until the stream closes
cleanly the event's metadata holds ``"incomplete": True``, so a reader, or a process that
resumes after this one was killed, sees a reply that was cut, with the text of its last
checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
import math
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
from ..storage._redaction import REDACTED_KEY, redact_event
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
        self._metadata = {"model": model, "provider": provider, "streamed": True, **metadata}
        self._interval = checkpoint_ms / 1000
        self._clock = clock
        self._parts: list[str] = []
        self._calls: dict[int, dict[str, Any]] = {}
        self._usage: Any = None
        self._session: Session[Any] | None = None
        self._event: SessionEvent[Any] | None = None
        self._due = math.inf  # when the next checkpoint is due (set when the stream opens)
        self._state = "new"

    @property
    def text(self) -> str:
        """The text written so far."""
        parts = self._parts
        if len(parts) == 1:
            return parts[0]
        text = "".join(parts)
        if parts:
            # One piece from now on: the next checkpoint joins only what came since.
            parts[:] = [text]
        return text

    @property
    def event(self) -> SessionEvent[Any] | None:
        """The reply's event, once it is written (at its first checkpoint, or its end)."""
        return self._event

    async def __aenter__(self) -> ReplyStream:
        if self._state != "new":
            raise InvalidSessionOperation("open the reply stream", "it was opened already")
        self._session = await self._host._begin_stream(self)
        # The first checkpoint falls one interval after the start: a reply that ends sooner
        # is written once, complete.
        self._due = self._clock() + self._interval
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
        # The path every delta takes, kept to a few attribute reads: a reply streams thousands.
        if self._state != "open" or type(delta) is not str:
            self._check_open("write to the reply")
            if not isinstance(delta, str):
                raise InvalidInputError("delta", delta, "must be text (str)")
        if delta:
            self._parts.append(delta)
            if self._clock() >= self._due:
                await self._write_out()

    async def write_tool_call(self, delta: ToolCallDelta) -> None:
        """Add a piece of a tool call (its id and name, or more of its arguments).

        Args:
            delta: The piece, naming the call by its index in the reply.

        Raises:
            InvalidSessionOperation: The stream is not open.
        """
        self._check_open("write to the reply")
        for name in ("id", "name"):
            value = getattr(delta, name)
            if value is not None and not isinstance(value, str):
                raise InvalidInputError(f"tool call {delta.index} {name}", value, "must be text")
        if not isinstance(delta.arguments, str):
            raise InvalidInputError(
                f"tool call {delta.index} arguments", delta.arguments, "must be text"
            )
        call = self._calls.setdefault(
            delta.index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if delta.id is not None:
            call["id"] = delta.id
        if delta.name is not None:
            call["function"]["name"] = delta.name
        call["function"]["arguments"] += delta.arguments
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
        if self._clock() >= self._due:
            await self._write_out()

    def _message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self._calls:
            # Copies: the pieces still to come must not change what the event holds.
            message["tool_calls"] = [
                {**call, "function": dict(call["function"])}
                for call in (self._calls[i] for i in sorted(self._calls))
            ]
        return message

    async def _write_out(
        self,
        ending: dict[str, Any] | None = None,
        usage: TokenUsage | None = None,
        counted: str | None = None,
    ) -> None:
        """Write the reply as it is now, in one save: still streaming (``ending`` None), or
        ended with ``ending``'s metadata and its ``usage`` (counted from ``counted``, if
        given: a store's redaction counts it again)."""
        session = self._session
        assert session is not None
        self._due = self._clock() + self._interval
        message = self._message()
        marks = {"incomplete": True} if ending is None else ending
        event = self._event
        if event is None:
            event = SessionEvent(
                message=message,
                source=EventSource.LLM,
                metadata={**self._metadata, **marks},
                token_usage=usage,
            )
            if counted is not None:
                event.note_counted_texts(None, counted)
            await session.add_event_and_save(event)
            self._event = event
            return
        event.message["content"] = message["content"]
        if "tool_calls" in message:
            event.message["tool_calls"] = message["tool_calls"]
        if ending is not None:
            event.metadata.pop("incomplete", None)
            if ending:
                event.metadata.update(ending)
        if usage is not None:
            event.token_usage = usage
        if counted is not None:
            event.note_counted_texts(None, counted)
        await _redact_again(event, session)
        await session.store.save(session)

    async def _complete(self) -> None:
        # Tool calls are checked as a whole once the stream has finished them.
        message = self._message()
        completion = read_reply(message, "reply").completion_text() if self._calls else self.text
        if self._usage is not None:
            await self._write_out({}, TokenUsage.from_provider(self._usage, self._model))
        else:
            usage = await TokenUsage.from_text(None, completion, self._model)
            await self._write_out({}, usage, completion)

    async def _cut(self, exc: BaseException) -> None:
        if self._event is None and not self._parts and not self._calls:
            return  # nothing was written: the session stays as it was
        text = self.text
        usage = await TokenUsage.from_text(None, text, self._model)
        await self._write_out({"incomplete": True, "cut_by": type(exc).__name__}, usage, text)


async def _redact_again(event: SessionEvent[Any], session: Session[Any]) -> None:
    """Run the store's ``redact=`` hook over the reply again. The hook runs over new events
    only, and the reply was rewritten from its whole text: it is redacted (and its redactions
    counted) afresh."""
    redact = getattr(session.store, "redact", None)
    if redact is None:
        return
    event.metadata.pop(REDACTED_KEY, None)
    object.__setattr__(event, "_redacted_with", None)
    await redact_event(event, redact)


async def _quietly(work: Awaitable[None]) -> None:
    """Run the write that records a cut reply; its failure is logged, so the error that cut
    the reply is the one the caller sees."""
    try:
        await asyncio.shield(work)
    except Exception:
        logger.warning("Could not record the cut reply", exc_info=True)
