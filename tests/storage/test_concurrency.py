"""No lost writes: many tasks, several processes and stale copies writing one session."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

from stored import load

from llm_sessions.models import Session, SessionEvent, SessionRun

if TYPE_CHECKING:
    from store_cases import StoreCase


async def test_200_concurrent_tasks_each_append_one_event(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    await session.add_event(SessionEvent(message="seed"))
    await store.save(session)

    async def append_one(n: int) -> None:
        mine = await load(store, session.id)
        await mine.add_event_and_save(SessionEvent(message=f"task-{n}"))

    await asyncio.gather(*(append_one(n) for n in range(200)))

    first = await load(store_case.reader(store), session.id)
    second = await load(store_case.reader(store), session.id)
    messages = [event.message for event in first.events]
    assert messages[0] == "seed"
    assert Counter(messages[1:]) == Counter(f"task-{n}" for n in range(200))
    assert [event.id for event in second.events] == [event.id for event in first.events]


_WRITER = r"""
import asyncio, sys
from llm_sessions.models import SessionEvent
from llm_sessions.storage import open_store

async def main(url, session_id, tag, count):
    store = open_store(url)
    try:
        session = await store.get(session_id)
        print("ready", flush=True)
        sys.stdin.readline()  # start together with the other writers
        for n in range(count):
            await session.add_event_and_save(SessionEvent(message=f"{tag}-{n}"))
    finally:
        await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


async def test_four_processes_append_to_one_session(durable_case: StoreCase) -> None:
    store = durable_case.open()
    session: Session[Any] = Session()
    await store.save(session)
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _WRITER,
            durable_case.url,
            session.id,
            f"p{k}",
            "100",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for k in range(4)
    ]
    for writer in writers:
        assert writer.stdout is not None
        ready = await writer.stdout.readline()
        if ready != b"ready\n":
            _, error = await writer.communicate()
            raise AssertionError(f"writer did not start: {error.decode()}")
    results = await asyncio.gather(*(writer.communicate(b"go\n") for writer in writers))
    for writer, (_, error) in zip(writers, results, strict=True):
        assert writer.returncode == 0, error.decode()

    first = await load(durable_case.open(), session.id)
    second = await load(durable_case.open(), session.id)

    messages = [event.message for event in first.events]
    assert Counter(messages) == Counter(f"p{k}-{n}" for k in range(4) for n in range(100))
    assert [event.id for event in second.events] == [event.id for event in first.events]
    for k in range(4):  # each writer's own events keep the order it wrote them in
        own = [m for m in messages if m.startswith(f"p{k}-")]
        assert own == [f"p{k}-{n}" for n in range(100)]


async def test_two_writers_with_stale_copies_merge_headers(durable_case: StoreCase) -> None:
    session: Session[Any] = Session()
    await durable_case.open().save(session)
    one, two = durable_case.open(), durable_case.open()
    a, b = await load(one, session.id), await load(two, session.id)

    await a.add_child("child-a")
    await b.add_child("child-b")
    await a.set_state("from-a", 1)
    await b.set_state("from-b", 2)
    await a.metadata.set_property("pa", "x")
    await b.metadata.set_property("pb", "y")
    await one.save(a)
    await two.save(b)
    run_a, run_b = SessionRun(id="run-a"), SessionRun(id="run-b")
    a.runs.append(run_a)
    await one.save(a)
    b.runs.append(run_b)
    await two.save(b)
    await run_a.mark_running()  # an update to one run must not touch the other's
    await one.save(a)
    await a.add_event_and_save(SessionEvent(message="from a"))
    await b.add_event_and_save(SessionEvent(message="from b"))

    merged = await load(durable_case.open(), session.id)

    assert sorted(merged.child_ids) == ["child-a", "child-b"]
    assert merged.state == {"from-a": 1, "from-b": 2}
    assert merged.metadata.properties == {"pa": "x", "pb": "y"}
    assert sorted((run.id, run.status.value) for run in merged.runs) == [
        ("run-a", "running"),
        ("run-b", "pending"),
    ]
    assert sorted(event.message for event in merged.events) == ["from a", "from b"]


async def test_removals_by_one_writer_keep_the_others_additions(durable_case: StoreCase) -> None:
    session: Session[Any] = Session(child_ids=["old"], state={"old": 0})
    await durable_case.open().save(session)
    one, two = durable_case.open(), durable_case.open()
    a, b = await load(one, session.id), await load(two, session.id)

    await a.remove_child("old")
    await a.remove_state("old")
    await b.add_child("new")
    await b.set_state("new", 1)

    merged = await load(durable_case.open(), session.id)
    assert merged.child_ids == ["new"]
    assert merged.state == {"new": 1}


async def test_a_stale_copy_does_not_undo_a_new_parent(durable_case: StoreCase) -> None:
    session: Session[Any] = Session()
    await durable_case.open().save(session)
    one, two = durable_case.open(), durable_case.open()
    a, b = await load(one, session.id), await load(two, session.id)

    a.parent_id = "adopted-by"
    await one.save(a)
    await b.add_event_and_save(SessionEvent(message="from a stale copy"))

    merged = await load(durable_case.open(), session.id)
    assert merged.parent_id == "adopted-by"
    assert [event.message for event in merged.events] == ["from a stale copy"]


async def test_a_retried_save_does_not_duplicate_events(durable_case: StoreCase) -> None:
    store = durable_case.open()
    session: Session[Any] = Session()
    for n in range(5):
        await session.add_event(SessionEvent(message=n))
    await store.save(session)

    session._binding.sync.events_written = 0  # forget what was written: the next save re-sends all
    await session.add_event(SessionEvent(message=5))
    await store.save(session)

    loaded = await load(durable_case.open(), session.id)
    assert [event.message for event in loaded.events] == [0, 1, 2, 3, 4, 5]


async def test_saving_through_a_second_store_object_does_not_duplicate(
    durable_case: StoreCase,
) -> None:
    session: Session[Any] = Session()
    for n in range(3):
        await session.add_event(SessionEvent(message=n))
    await durable_case.open().save(session)
    await session.add_event(SessionEvent(message=3))

    await durable_case.open().save(session)  # knows nothing of the first store's writes

    loaded = await load(durable_case.open(), session.id)
    assert [event.message for event in loaded.events] == [0, 1, 2, 3]


async def test_concurrent_saves_of_one_object_write_each_event_once(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    session: Session[Any] = Session()
    await store.save(session)

    async def add(n: int) -> None:
        await session.add_event_and_save(SessionEvent(message=n))

    await asyncio.gather(*(add(n) for n in range(50)))

    loaded = await load(store_case.reader(store), session.id)
    assert sorted(event.message for event in loaded.events) == list(range(50))
    assert [e.id for e in loaded.events] == [e.id for e in session.events]
