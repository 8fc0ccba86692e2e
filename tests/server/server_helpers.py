"""Helpers of the server tests: tenants' keys and real server processes on free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

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
def server_process(store_url: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """``llm-sessions serve`` in its own process on a free port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "llm_sessions", "serve", "--store", store_url]
    command += ["--port", str(port)]
    environment = {**os.environ, **(env or {})}
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(process, base_url)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=STARTUP_SECONDS)
        if process.stdout is not None:
            process.stdout.close()


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"the server exited with {process.returncode}: {output}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)  # not listening yet: poll again
    raise RuntimeError(f"the server at {base_url} did not start in {STARTUP_SECONDS}s")
