"""Timeouts on the connection itself: headers, body and unread responses (uvicorn, h11).

uvicorn closes an idle keep-alive connection (``timeout_keep_alive``) and refuses connections
over ``limit_concurrency`` with a 503, but it waits for ever on a client that sends its headers
or its body a byte at a time, or that stops reading a response. ``TimedH11Protocol`` is its h11
protocol with three more timers:

- header: from the first byte of a request (or the connection's opening) to its last header;
- body: from the last header to the end of the body;
- write: how long a response may sit unread once the socket's buffers are full (a live tail
  whose client stopped reading is dropped, and what it held is freed).

A timer that fires closes the connection. The values come from the environment
(``LLM_SESSIONS_HEADER_TIMEOUT``, ``LLM_SESSIONS_BODY_TIMEOUT``,
``LLM_SESSIONS_WRITE_TIMEOUT``, in seconds), so that every worker process reads the same ones;
``llm-sessions serve`` sets them from its flags.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..exceptions import InvalidInputError

__all__ = [
    "BODY_TIMEOUT_ENV",
    "DEFAULT_CONNECTION_LIMITS",
    "HEADER_TIMEOUT_ENV",
    "PROTOCOL",
    "WRITE_TIMEOUT_ENV",
    "ConnectionLimits",
    "TimedH11Protocol",
]

HEADER_TIMEOUT_ENV = "LLM_SESSIONS_HEADER_TIMEOUT"
BODY_TIMEOUT_ENV = "LLM_SESSIONS_BODY_TIMEOUT"
WRITE_TIMEOUT_ENV = "LLM_SESSIONS_WRITE_TIMEOUT"
PROTOCOL = "llm_sessions.server.connection_limits:TimedH11Protocol"
"""``TimedH11Protocol`` as uvicorn's ``http=`` takes it (an import string, so workers load it)."""


@dataclass(frozen=True)
class ConnectionLimits:
    """Limits on one connection and on all of them, in seconds and connections.

    Raises:
        InvalidInputError: When a value is not above zero, naming it.
    """

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    write_timeout: float = 30.0
    keep_alive_timeout: int = 5
    limit_concurrency: int = 512

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InvalidInputError(name, value, "must be a number above 0")

    def environment(self) -> dict[str, str]:
        """The variables that carry the timers to ``TimedH11Protocol`` in every worker."""
        return {
            HEADER_TIMEOUT_ENV: str(self.header_timeout),
            BODY_TIMEOUT_ENV: str(self.body_timeout),
            WRITE_TIMEOUT_ENV: str(self.write_timeout),
        }

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> ConnectionLimits:
        """The limits set in ``env`` (defaults for those it lacks).

        Raises:
            InvalidInputError: When a variable is not a number above 0, naming it.
        """
        values: dict[str, Any] = {}
        for name, variable in (
            ("header_timeout", HEADER_TIMEOUT_ENV),
            ("body_timeout", BODY_TIMEOUT_ENV),
            ("write_timeout", WRITE_TIMEOUT_ENV),
        ):
            if variable in env:
                try:
                    values[name] = float(env[variable])
                except ValueError:
                    raise InvalidInputError(variable, env[variable], "must be seconds") from None
        return cls(**values)


DEFAULT_CONNECTION_LIMITS = ConnectionLimits()


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with header, body and write timeouts (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = ConnectionLimits.from_environment(os.environ)
        self._request_timer: asyncio.TimerHandle | None = None
        self._timed_state: object = None
        self._write_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._time_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_request_timer()
        self._cancel_write_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._time_request()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_timer is None:
            timeout = self.limits.write_timeout
            self._write_timer = self.loop.call_later(timeout, self._drop_stalled_reader)

    def resume_writing(self) -> None:
        self._cancel_write_timer()
        super().resume_writing()

    def _time_request(self) -> None:
        """Run the timer that fits where the client is in its request, if any."""
        state = self.conn.their_state
        if state is self._timed_state:
            return
        self._cancel_request_timer()
        timeout = {h11.IDLE: self.limits.header_timeout, h11.SEND_BODY: self.limits.body_timeout}
        seconds = timeout.get(state)
        if seconds is not None:
            self._timed_state = state
            self._request_timer = self.loop.call_later(seconds, self._close_slow_sender)

    def _cancel_request_timer(self) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None
        self._timed_state = None

    def _cancel_write_timer(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    def _close_slow_sender(self) -> None:
        self._request_timer = None
        self._timed_state = None
        if not self.transport.is_closing():
            self.transport.close()

    def _drop_stalled_reader(self) -> None:
        # abort, not close: close would wait for the unread buffer to drain first.
        self._write_timer = None
        self.transport.abort()
