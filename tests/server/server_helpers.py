"""Helpers of the server tests: tenants' keys and real server processes on free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO

import httpx

KEY_A = "key-alpha-0123456789abcdef"
KEY_B = "key-beta-0123456789abcdef"
KEYS = {KEY_A: "alpha", KEY_B: "beta"}
STARTUP_SECONDS = 30


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server_process(
    store_url: str, env: Mapping[str, str] | None = None, args: Sequence[str] = ()
) -> Iterator[str]:
    """``llm-sessions serve`` (with ``args``) in its own process on a free port; yields its
    base URL."""
    with server_processes(store_url, 1, env, args) as base_urls:
        yield base_urls[0]


@contextmanager
def server_processes(
    store_url: str, count: int, env: Mapping[str, str] | None = None, args: Sequence[str] = ()
) -> Iterator[list[str]]:
    """``count`` server processes over one store, started together; yields their base URLs."""
    environment = {**os.environ, **(env or {})}
    started: list[tuple[subprocess.Popen[bytes], str]] = []
    log = tempfile.TemporaryFile()  # the servers' output, shown if one fails to start
    try:
        for _ in range(count):
            port = free_port()
            command = [sys.executable, "-m", "llm_sessions", "serve", "--store", store_url]
            process = subprocess.Popen(
                [*command, "--port", str(port), *args],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started.append((process, f"http://127.0.0.1:{port}"))
        for process, base_url in started:
            _wait_until_healthy(process, base_url, log)
        yield [base_url for _, base_url in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.wait(timeout=STARTUP_SECONDS)
        log.close()


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"the server exited with {process.returncode}: {output}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)  # not listening yet: poll again
    raise RuntimeError(f"the server at {base_url} did not start in {STARTUP_SECONDS}s")
