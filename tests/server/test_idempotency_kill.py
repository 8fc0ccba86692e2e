"""A worker killed (``kill -9``) as its append commits: a retry with the same
``Idempotency-Key`` through another worker over the same store writes the items once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from server_helpers import KEY_A, KEYS, free_port, server_process

from llm_sessions.storage import open_store

AUTH = {"Authorization": f"Bearer {KEY_A}"}
BIG_TEXT = "tokens to count " * 50_000


async def _wait_for_events(url: str, session_id: str, count: int) -> None:
    """Return as soon as the store holds ``count`` events of the session (read directly)."""
    reader = open_store(url)
    try:
        for _ in range(12_000):  # a guard that only a hang reaches
            if len(await reader.read_events(session_id) or []) >= count:
                return
            await asyncio.sleep(0.005)
    finally:
        await reader.close()
    raise AssertionError(f"the append to {session_id} was never written")


def _start_worker(url: str, port: int) -> subprocess.Popen[bytes]:
    keys = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())
    return subprocess.Popen(
        [sys.executable, "-m", "llm_sessions", "serve", "--store", url, "--port", str(port)],
        env={**os.environ, "LLM_SESSIONS_API_KEYS": keys},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _until_healthy(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        for _ in range(600):
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise AssertionError(f"{base_url} did not start")


async def test_a_retry_after_kill_9_writes_the_items_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    port = free_port()
    doomed = _start_worker(url, port)
    keys = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())
    try:
        await _until_healthy(f"http://127.0.0.1:{port}")
        with server_process(url, {"LLM_SESSIONS_API_KEYS": keys}) as survivor:
            async with (
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=AUTH) as one,
                httpx.AsyncClient(base_url=survivor, headers=AUTH, timeout=60) as two,
            ):
                session_id = (await one.post("/v1/sessions", json={})).json()["id"]
                body = {"events": [{"message": BIG_TEXT, "model": "gpt-4o"}]}
                key = {"Idempotency-Key": "append-once"}
                first = asyncio.create_task(
                    one.post(f"/v1/sessions/{session_id}/events", json=body, headers=key)
                )
                await _wait_for_events(url, session_id, 1)
                os.kill(doomed.pid, signal.SIGKILL)
                # Usually "disconnected without a response": the append committed, unanswered.
                await asyncio.gather(first, return_exceptions=True)
                retried = await two.post(
                    f"/v1/sessions/{session_id}/events", json=body, headers=key
                )
                assert retried.status_code == 200, retried.text
                listed = await two.get(f"/v1/sessions/{session_id}/events")
            assert [event["id"] for event in listed.json()["data"]] == [
                retried.json()["data"][0]["id"]
            ]
    finally:
        doomed.kill()
        doomed.wait(timeout=30)
