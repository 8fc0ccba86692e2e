"""Servers a test owns: a Redis on a free port in a temporary folder that the test can freeze,
stop and restart without touching the shared one."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from llm_sessions.storage import SessionStore

STARTUP_SECONDS = 20


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """A ``redis-server`` of the test's own that fsyncs every write to its append-only file, so
    an acknowledged write survives ``SHUTDOWN NOSAVE`` and a restart."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while self._cli("PING") != "PONG":
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def freeze(self) -> None:
        """Stop the process (SIGSTOP): connections stay open and nothing answers."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def shutdown_nosave(self) -> None:
        """``SHUTDOWN NOSAVE``: the server exits at once (the append-only file is kept)."""
        assert self.process is not None
        self._cli("SHUTDOWN", "NOSAVE")
        self.process.wait(timeout=STARTUP_SECONDS)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=STARTUP_SECONDS)

    def _cli(self, *args: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=STARTUP_SECONDS,
            check=False,
        )
        return done.stdout.strip()


async def messages_in(reader: SessionStore, session_id: str) -> list[Any]:
    """The messages of a stored session, read through ``reader``, which is then closed."""
    try:
        found = await reader.get(session_id)
        assert found is not None
        return [event.message for event in found.events]
    finally:
        await reader.close()
