"""A local OpenAI-compatible HTTP server: ``POST /v1/chat/completions`` with scripted replies.

A raw asyncio server (``asyncio.start_server`` on 127.0.0.1) that answers each request with the
next scripted ``(status, JSON body)`` (or, with none left, the ``default`` body if there is one)
and records every request body, so a test can check what the real openai client sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


@dataclass
class FakeOpenAI:
    """Scripted replies (status, JSON body), the reply once they run out, the requests received."""

    port: int = 0
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    default: dict[str, Any] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reply(self, body: dict[str, Any], status: int = 200) -> None:
        self.replies.append((status, body))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request := await _read_request(reader):
                path, body = request
                status, payload = self._answer(path, body)
                _write_response(writer, status, payload)
                await writer.drain()
        finally:
            writer.close()

    def _answer(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if path != "/v1/chat/completions":
            return 404, {"error": {"message": f"no route {path}", "type": "invalid_request"}}
        self.requests.append(json.loads(body))
        if not self.replies and self.default is not None:
            return 200, self.default
        if not self.replies:
            return 500, {"error": {"message": "no scripted reply left", "type": "server_error"}}
        return self.replies.pop(0)


def completion(message: dict[str, Any], prompt_tokens: int = 60) -> dict[str, Any]:
    """A chat completion answering with ``message``, with 12 completion tokens of usage."""
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": 12}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
        "usage": {**usage, "total_tokens": prompt_tokens + 12},
    }


@asynccontextmanager
async def serving(fake: FakeOpenAI) -> AsyncIterator[FakeOpenAI]:
    """``fake`` listening on 127.0.0.1, on a free port, until the block ends."""
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    async with server:
        yield fake
        server.close()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, bytes] | None:
    request_line = await reader.readline()
    if not request_line:
        return None
    _, path, _ = request_line.decode("latin-1").split(" ", 2)
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return path, await reader.readexactly(length)


def _write_response(writer: asyncio.StreamWriter, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + data)
