"""Stalled live tails: bounded memory, dropped after the write timeout, and limited per key."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from server_helpers import KEY_A, KEY_B, KEYS, server_process

TAILS = 50
EVENT_BYTES = 1_000_000
EVENTS = 12
RSS_BOUND_MB = 250
"""What 50 stalled tails on 1 MB events may add to the server's RSS (each holds about one event
in its page and one in its socket buffer; before the limits, each held a page of them all)."""
RSS_AFTER_MB = 40
"""How far above its start the server's RSS may stay once the tails are gone."""
POLLS = 600
"""Polls of the server (0.05 s apart) before a test gives up waiting for a state."""


def _pid_serving(port: int) -> int:
    """The pid of the ``llm-sessions serve`` process started with ``--port port``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in arguments and f"{port}".encode() in arguments:
            return int(entry.name)
    raise AssertionError(f"no server process on port {port}")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _peak_rss_until_dropped(http: httpx.Client, pid: int) -> float:
    """The server's largest RSS while it holds tails, polled until the last one is dropped."""
    peak = _rss_mb(pid)
    for _ in range(POLLS):
        peak = max(peak, _rss_mb(pid))
        if _live_tails(http) == 0:
            return peak
        time.sleep(0.05)
    raise AssertionError(f"{_live_tails(http)} stalled tails were never dropped")


def _settled_rss_mb(pid: int, below: float) -> float:
    """The server's RSS once under ``below``, or after ``POLLS`` polls (what is freed last,
    the closed streams' buffers, goes back a moment after the last tail is counted out)."""
    for _ in range(POLLS):
        rss = _rss_mb(pid)
        if rss < below:
            return rss
        time.sleep(0.05)
    return _rss_mb(pid)


def _live_tails(http: httpx.Client) -> int:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("llm_sessions_live_tails "):
            return int(line.split()[1])
    raise AssertionError("no llm_sessions_live_tails in /metrics")


def _wait_for_tails(http: httpx.Client, count: int) -> None:
    for _ in range(POLLS):
        if _live_tails(http) == count:
            return
        time.sleep(0.05)
    raise AssertionError(f"live tails never reached {count}: {_live_tails(http)}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('tails') / 'server.db'}"
    keys = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())
    args = ["--max-tails-per-key", str(TAILS), "--max-tails", str(TAILS + 2)]
    args += ["--write-timeout", "2"]
    with server_process(url, {"LLM_SESSIONS_API_KEYS": keys}, args) as base_url:
        yield base_url


def _session_of_large_events(http: httpx.Client) -> tuple[str, str]:
    """A session of ``EVENTS`` events of 1 MB; its id and its first event's id."""
    session = http.post("/v1/sessions", json={}).json()["id"]
    first = None
    for number in range(EVENTS):
        item = {"message": f"{number}" + "x" * EVENT_BYTES, "source": "user"}
        written = http.post(f"/v1/sessions/{session}/events", json={"events": [item]})
        assert written.status_code == 200, written.text
        first = first or written.json()["first_id"]
    assert first is not None
    return session, first


def _stalled_tail(address: tuple[str, int], path: str, key: str) -> socket.socket:
    """A tail whose client never reads (a small receive buffer, so the server's fills)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect(address)
    request = f"GET {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {key}\r\n\r\n"
    sock.sendall(request.encode())
    return sock


def _status_of(address: tuple[str, int], path: str, key: str) -> tuple[int, str]:
    with httpx.Client(base_url=f"http://{address[0]}:{address[1]}") as http:
        with http.stream("GET", path, headers={"Authorization": f"Bearer {key}"}) as response:
            body = response.read().decode() if response.status_code != 200 else ""
            return response.status_code, body


def test_stalled_tails_hold_bounded_memory_and_are_dropped(server: str) -> None:
    parts = urlsplit(server)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    pid = _pid_serving(address[1])
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {KEY_A}"}) as http:
        session, first = _session_of_large_events(http)
        path = f"/v1/sessions/{session}/events/stream?after={first}"
        start_mb = _rss_mb(pid)
        with ExitStack() as stack:
            for _ in range(TAILS):
                stack.enter_context(_stalled_tail(address, path, KEY_A))
            _wait_for_tails(http, TAILS)
            peak_mb = _peak_rss_until_dropped(http, pid)
        end_mb = _settled_rss_mb(pid, start_mb + RSS_AFTER_MB)
    assert peak_mb - start_mb < RSS_BOUND_MB, (start_mb, peak_mb)
    assert end_mb - start_mb < RSS_AFTER_MB, (start_mb, end_mb)


def test_tails_are_limited_per_key_and_in_all(server: str) -> None:
    parts = urlsplit(server)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    with ExitStack() as stack:
        paths = {}
        for key in (KEY_A, KEY_B):
            http = stack.enter_context(
                httpx.Client(base_url=server, headers={"Authorization": f"Bearer {key}"})
            )
            session = http.post("/v1/sessions", json={}).json()["id"]
            paths[key] = f"/v1/sessions/{session}/events/stream"
        for _ in range(TAILS):
            stack.enter_context(_stalled_tail(address, paths[KEY_A], KEY_A))
        for _ in range(2):
            stack.enter_context(_stalled_tail(address, paths[KEY_B], KEY_B))
        _wait_for_tails(http, TAILS + 2)
        per_key = _status_of(address, paths[KEY_A], KEY_A)
        in_all = _status_of(address, paths[KEY_B], KEY_B)
    assert per_key[0] == 429
    assert f"the limit is {TAILS} (--max-tails-per-key)" in per_key[1]
    assert in_all[0] == 503
    assert f"the limit is {TAILS + 2} (--max-tails)" in in_all[1]
