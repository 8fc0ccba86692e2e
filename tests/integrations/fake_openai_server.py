"""A local OpenAI-compatible HTTP server: ``POST /v1/chat/completions`` with scripted replies.

A raw asyncio server (``asyncio.start_server`` on 127.0.0.1) that answers each request with the
next scripted ``(status, JSON body)`` and records every request body, so a test can check what
the real openai client sent.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


@dataclass
class FakeOpenAI:
    """Scripted replies (status, JSON body) and the requests received."""

    port: int = 0
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

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
        if not self.replies:
            return 500, {"error": {"message": "no scripted reply left", "type": "server_error"}}
        return self.replies.pop(0)


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
