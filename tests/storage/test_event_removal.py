"""Removing events (``Session.remove_events``): a removal record in the append-only log that
every store writes with the rest of a save and every read path applies."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

import pytest
from stored import load

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import SessionStore
from llm_sessions.storage.providers.file import FileSessionStore

if TYPE_CHECKING:
    from store_cases import StoreCase


async def _session_with(store: SessionStore, *messages: str) -> Session[Any]:
    session: Session[Any] = Session()
    for message in messages:
        await session.add_event(await SessionEvent.create_with_tokens(message, prompt=message))
    await store.save(session)
    return session


def _messages(session: Session[Any]) -> list[Any]:
    return [event.message for event in session.events]


async def test_removed_events_are_gone_for_every_reader(store_case: StoreCase) -> None:
    store = store_case.open()
    session = await _session_with(store, "a", "b", "c", "d")
    b, d = session.events[1], session.events[3]
    removed = await session.remove_events([d.id, b.id])
    assert removed == [b, d]
    assert _messages(session) == ["a", "c"]

    fresh = await load(store_case.reader(store), session.id)
    assert _messages(fresh) == ["a", "c"]
    assert (
        fresh.total_tokens
        == session.total_tokens
        == sum(e.token_usage.total_tokens for e in fresh.events if e.token_usage)
    )
    page = await store_case.reader(store).read_events(session.id)
    assert page is not None and [e.message for e in page] == ["a", "c"]


async def test_appends_after_a_removal_land_in_order(store_case: StoreCase) -> None:
    store = store_case.open()
    session = await _session_with(store, "a", "b", "c")
    await session.remove_events([session.events[0].id])
    await session.add_event_and_save(SessionEvent(message="d"))
    await session.remove_events([session.events[-1].id])
    await session.add_event_and_save(SessionEvent(message="e"))
    assert _messages(await load(store_case.reader(store), session.id)) == ["b", "c", "e"]


async def test_a_loaded_session_removes_and_keeps_appending(store_case: StoreCase) -> None:
    store = store_case.open()
    session = await _session_with(store, "a", "b")
    copy = await load(store_case.reader(store), session.id)
    await copy.remove_events([copy.events[0].id])
    await copy.add_event_and_save(SessionEvent(message="c"))
    assert _messages(await load(store_case.reader(store), session.id)) == ["b", "c"]


async def test_an_unsaved_event_removed_before_saving_is_never_written(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    session = await _session_with(store, "a")
    draft = SessionEvent(message="draft")
    await session.add_event(draft)
    await session.remove_events([draft.id])
    await session.add_event_and_save(SessionEvent(message="b"))
    assert _messages(await load(store_case.reader(store), session.id)) == ["a", "b"]


async def test_concurrent_writers_and_removers_agree(store_case: StoreCase) -> None:
    store = store_case.open()
    session = await _session_with(store, *(f"seed-{n}" for n in range(20)))
    seeds = [event.id for event in session.events]

    async def append(tag: str) -> None:
        mine = await load(store_case.reader(store), session.id)
        for n in range(10):
            await mine.add_event_and_save(SessionEvent(message=f"{tag}-{n}"))

    async def remove(ids: list[str]) -> None:
        mine = await load(store_case.reader(store), session.id)
        for event_id in ids:
            await mine.remove_events([event_id])

    await asyncio.gather(append("w1"), append("w2"), remove(seeds[0:10:2]), remove(seeds[1:10:2]))

    first = await load(store_case.reader(store), session.id)
    second = await load(store_case.reader(store), session.id)
    expected = {f"seed-{n}" for n in range(10, 20)} | {
        f"w{k}-{n}" for k in (1, 2) for n in range(10)
    }
    assert sorted(_messages(first)) == sorted(expected)
    assert [e.id for e in second.events] == [e.id for e in first.events]


_WRITER = r"""
import asyncio, sys
from llm_sessions.models import SessionEvent
from llm_sessions.storage import open_store

async def main(url, session_id, tag):
    store = open_store(url)
    try:
        session = await store.get(session_id)
        print("ready", flush=True)
        sys.stdin.readline()
        for n in range(12):
            event = SessionEvent(message=f"{tag}-{n}")
            await session.add_event_and_save(event)
            if n % 2 == 0:
                await session.remove_events([event.id])
    finally:
        await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
"""


async def test_processes_that_append_and_remove_concurrently_agree(
    durable_case: StoreCase,
) -> None:
    store = durable_case.open()
    session = await _session_with(store, "seed")
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _WRITER,
            durable_case.url,
            session.id,
            f"p{k}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for k in range(2)
    ]
    for writer in writers:
        assert writer.stdout is not None
        assert await writer.stdout.readline() == b"ready\n", await writer.communicate()
    results = await asyncio.gather(*(writer.communicate(b"go\n") for writer in writers))
    for writer, (_, error) in zip(writers, results, strict=True):
        assert writer.returncode == 0, error.decode()

    final = _messages(await load(durable_case.open(), session.id))
    assert sorted(final) == sorted(
        ["seed", *(f"p{k}-{n}" for k in range(2) for n in range(1, 12, 2))]
    )
    for k in range(2):
        assert [m for m in final if m.startswith(f"p{k}-")] == [
            f"p{k}-{n}" for n in range(1, 12, 2)
        ]


async def test_vacuum_keeps_removal_records(tmp_path: Any) -> None:
    store = FileSessionStore(tmp_path)
    session = await _session_with(store, "a", "b")
    await session.remove_events([session.events[0].id])
    assert await store.vacuum() == 0
    assert _messages(await load(FileSessionStore(tmp_path), session.id)) == ["b"]


# -- bad input ---------------------------------------------------------------------------------


async def test_removing_an_unknown_event_changes_nothing(store_case: StoreCase) -> None:
    store = store_case.open()
    session = await _session_with(store, "a", "b")
    with pytest.raises(InvalidInputError, match=r"event_ids.*no-such-event"):
        await session.remove_events([session.events[0].id, "no-such-event"])
    assert _messages(session) == ["a", "b"]
    assert _messages(await load(store_case.reader(store), session.id)) == ["a", "b"]


@pytest.mark.parametrize("bad", ["one-id-as-a-string", 7, [1, 2]])
async def test_event_ids_that_are_not_a_list_of_ids_are_refused(
    store_case: StoreCase, bad: Any
) -> None:
    store = store_case.open()
    session = await _session_with(store, "a")
    with pytest.raises(InvalidInputError, match="event_ids"):
        await session.remove_events(bad)
    assert _messages(await load(store_case.reader(store), session.id)) == ["a"]


async def test_an_event_id_in_the_removal_namespace_is_refused(durable_case: StoreCase) -> None:
    store = durable_case.open()
    session = await _session_with(store, "a")
    with pytest.raises(InvalidInputError, match="~removed~"):
        await session.add_event_and_save(SessionEvent(id="~removed~x", message="sneaky"))
    assert _messages(await load(durable_case.open(), session.id)) == ["a"]


async def test_pages_skip_removed_events_and_removal_records(store_case: StoreCase) -> None:
    store = store_case.open()
    session = await _session_with(store, *(f"m{n}" for n in range(10)))
    ids = [event.id for event in session.events]
    await session.remove_events([ids[1], ids[2], ids[8]])
    await session.remove_events([ids[5]])
    fresh = store_case.reader(store)

    async def page(**bounds: Any) -> list[Any]:
        events = await fresh.read_events(session.id, **bounds)
        assert events is not None
        return [event.message for event in events]

    assert await page() == ["m0", "m3", "m4", "m6", "m7", "m9"]
    assert await page(limit=3) == ["m0", "m3", "m4"]
    assert await page(limit=2, newest_first=True) == ["m9", "m7"]
    assert await page(after=ids[0], limit=2) == ["m3", "m4"]
    assert await page(before=ids[9], limit=4, newest_first=True) == ["m7", "m6", "m4", "m3"]
    assert await page(after=ids[4], before=ids[9]) == ["m6", "m7"]
