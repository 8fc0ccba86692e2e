"""Slow and idle connections are closed, and a refused upload is not read: a real server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from server_helpers import server_process

GUARD_SECONDS = 30
"""How long a socket waits for the server before the test gives up (a failure, not a window)."""

FAST_TIMEOUTS = [
    "--header-timeout",
    "0.3",
    "--body-timeout",
    "0.3",
    "--keep-alive-timeout",
    "1",
    "--max-body-bytes",
    "1000",
]


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('slow') / 'server.db'}"
    with server_process(url, args=FAST_TIMEOUTS) as base_url:
        parts = urlsplit(base_url)
        yield parts.hostname or "127.0.0.1", parts.port or 80


def _connect(address: tuple[str, int], first: bytes = b"") -> socket.socket:
    sock = socket.create_connection(address, timeout=GUARD_SECONDS)
    if first:
        sock.sendall(first)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


SLOW_STARTS = {
    "idle": b"",
    "half a request line": b"GET /heal",
    "headers without their end": b"GET /healthz HTTP/1.1\r\nHost: test\r\n",
    "half a body": b"POST /v1/sessions HTTP/1.1\r\nHost: test\r\nContent-Length: 200\r\n\r\n{",
}


@pytest.mark.parametrize("start", SLOW_STARTS.values(), ids=SLOW_STARTS.keys())
def test_slow_connections_are_closed(address: tuple[str, int], start: bytes) -> None:
    with ExitStack() as stack:
        held = [stack.enter_context(_connect(address, start)) for _ in range(15)]
        for sock in held:
            assert b"200 OK" not in _read_until_closed(sock)


def test_an_idle_keep_alive_connection_is_closed(address: tuple[str, int]) -> None:
    with _connect(address, b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n") as sock:
        received = _read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 200 OK")
    assert received.count(b"HTTP/1.1") == 1


def test_a_refused_upload_is_answered_and_not_read(address: tuple[str, int]) -> None:
    head = b"POST /v1/sessions HTTP/1.1\r\nHost: test\r\nContent-Length: 100000000\r\n\r\n"
    with _connect(address, head + b"x" * 65536) as sock:
        received = _read_until_closed(sock)
    status, _, rest = received.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in rest.lower()
    assert b"payload_too_large" in rest


def test_connections_over_the_limit_get_503(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    with server_process(url, args=["--limit-concurrency", "3"]) as base_url:
        parts = urlsplit(base_url)
        address = (parts.hostname or "127.0.0.1", parts.port or 80)
        with ExitStack() as stack:
            for _ in range(3):
                stack.enter_context(_connect(address, b"GET /heal"))
            with _connect(address, b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n") as sock:
                received = _read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 503")
