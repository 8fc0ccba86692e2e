"""``kill -9`` at random points of a writer process: no acknowledged event is lost, none is
duplicated, and the store stays readable and writable. A few kills per store run by default;
``-m long`` runs 50 per store."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llm_sessions.storage import SessionStore, open_store

WRITER = """
import asyncio, sys
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import SessionStore, open_store

async def main(url, tag):
    store = open_store(url)
    session = await store.get("crash") or Session(id="crash")
    n = 0
    while True:
        await session.add_event(SessionEvent(message=f"{tag}-{n}"))
        await store.save(session)
        print(f"{tag}-{n}", flush=True)  # acknowledged: the save returned
        n += 1

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""

DEFAULT_KILLS = 3
LONG_KILLS = 50


def url_for(kind: str, tmp_path: Path) -> str:
    return f"file://{tmp_path / 'files'}" if kind == "file" else f"sqlite:///{tmp_path / 's.db'}"


def kill_a_writer(url: str, tag: str, rng: random.Random) -> list[str]:
    """Start a writer, kill -9 it after a random number of acknowledged saves plus a random
    moment (often mid-save); return what it acknowledged."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, tag], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    acknowledged = [writer.stdout.readline().strip() for _ in range(rng.randint(1, 15))]
    assert all(acknowledged), "the writer stopped on its own"
    os.kill(writer.pid, signal.SIGKILL)
    rest, _ = writer.communicate(timeout=60)
    return acknowledged + rest.split()


async def stored_messages(url: str) -> list[Any]:
    store = open_store(url)
    try:
        session = await store.get("crash")
        # The summary a listing reads was kept (or is recounted) through the kill.
        assert (await store.find_sessions()).items == await SessionStore.session_summaries(store)
        return [] if session is None else [event.message for event in session.events]
    finally:
        await store.close()


def run_kills(kind: str, tmp_path: Path, kills: int) -> None:
    url = url_for(kind, tmp_path)
    rng = random.Random(f"{kind}-{kills}")
    acknowledged: list[str] = []
    for round_number in range(kills):
        acknowledged += kill_a_writer(url, f"r{round_number}", rng)
        stored = asyncio.run(stored_messages(url))
        assert len(stored) == len(set(stored)), "an event was duplicated"
        missing = [message for message in acknowledged if message not in set(stored)]
        assert missing == [], f"acknowledged events lost after kill {round_number}"
        positions = [stored.index(message) for message in acknowledged]
        assert positions == sorted(positions), "acknowledged events out of order"


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_kill_9_loses_nothing_acknowledged(kind: str, tmp_path: Path) -> None:
    run_kills(kind, tmp_path, DEFAULT_KILLS)


@pytest.mark.long
@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_kill_9_many_times_loses_nothing_acknowledged(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if "long" not in (request.config.option.markexpr or ""):
        pytest.skip("the long kill -9 profile runs with -m long")
    run_kills(kind, tmp_path, LONG_KILLS)
