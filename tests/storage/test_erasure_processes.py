"""Erasure against other processes: one killed (``kill -9``) halfway through an erasure is
finished by the next ``erase``, and a process appending to a session being erased ends with the
session erased or its append refused, never with half a session."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from erasure_data import ALICE_TEXT, BOB_TEXT, forget_erasures, write_people

from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import open_store

if TYPE_CHECKING:
    from conftest import StoreCase

DIES_HALFWAY = """
import asyncio, os, signal, sys
from llm_sessions.storage import open_store

async def main(url):
    store = open_store(url)
    erase_sessions = store._erase_sessions

    async def dying(session_ids):
        await erase_sessions(session_ids[: len(session_ids) // 2])
        os.kill(os.getpid(), signal.SIGKILL)

    store._erase_sessions = dying
    await store.erase(where={"user_id": "alice"}, actor="first attempt")

asyncio.run(main(sys.argv[1]))
"""

APPENDER = """
import asyncio, sys
from llm_sessions.exceptions import SessionNotFound
from llm_sessions.models import SessionEvent
from llm_sessions.storage import open_store

async def main(url, session_id):
    store = open_store(url)
    session = await store.get(session_id)
    n = 0
    try:
        while True:
            await session.add_event(SessionEvent(message=f"more {n}"))
            await store.save(session)
            print(n, flush=True)
            n += 1
    except SessionNotFound:
        print("refused", flush=True)
    finally:
        await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.parametrize("kind", ["sqlite", "file"])
async def test_an_erasure_killed_halfway_is_finished_by_the_next(kind: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}" if kind == "sqlite" else f"file://{tmp_path / 'f'}"
    store = open_store(url)
    people = await write_people(store)
    for n in range(40):  # enough sessions that half of them is a real part of the work
        extra = await Session.create(id=f"alice-extra-{n}", store=store, user_id="alice")
        await extra.add_event(SessionEvent(message=f"{ALICE_TEXT} {n}"))
        await store.save(extra)
    await store.close()
    killed = await asyncio.create_subprocess_exec(sys.executable, "-c", DIES_HALFWAY, url)
    assert await asyncio.wait_for(killed.wait(), 120) == -9
    store = open_store(url)
    try:
        left = set(await store.list_sessions())
        assert people.bob < left and 0 < len(left - people.bob) < len(people.alice) + 40
        assert await store.audit_log() == []
        receipt = await store.erase(where={"user_id": "bob"}, actor="second")
        assert len(receipt.resumed) == 1
        assert set(await store.list_sessions()) == set()
        audits = await store.audit_log()
        assert [audit.actor for audit in audits] == ["first attempt", "second"]
        assert 0 < audits[0].counts["sessions"] < len(people.alice) + 40
        assert audits[0].erasure_id == receipt.resumed[0]
    finally:
        await store.close()


async def test_an_append_during_an_erasure_lands_before_it_or_is_refused(
    durable_case: StoreCase,
) -> None:
    store = durable_case.open()
    try:
        people = await write_people(store)
        appender = await asyncio.create_subprocess_exec(
            sys.executable, "-c", APPENDER, durable_case.url, people.root, stdout=PIPE
        )
        assert appender.stdout is not None
        for _ in range(3):  # it is appending
            assert (await appender.stdout.readline()).strip().isdigit()
        receipt = await store.erase(where={"user_id": "alice"})
        assert people.root in receipt.session_ids
        rest, _ = await asyncio.wait_for(appender.communicate(), 120)
        assert rest.split()[-1] == b"refused"
        assert appender.returncode == 0
        fresh = durable_case.open()
        assert await fresh.get(people.root) is None
        assert await fresh.read_events(people.root) is None
        assert set(await fresh.list_sessions()) == people.bob
        bob = await fresh.get("bob-root")
        assert bob is not None and all(BOB_TEXT in str(e.message) for e in bob.events)
    finally:
        await forget_erasures(store)
