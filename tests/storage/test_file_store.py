"""What is particular to the file store: its files, buffering, caching and locking."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stored import load
from waiting import LOCK_TIMEOUT, assert_pending_while_the_loop_turns

from llm_sessions.exceptions import InvalidInputError, StorageError
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import FileSessionStore, create_file_session_store, open_store
from llm_sessions.validation import validate_id


def names(directory: Path) -> list[str]:
    """The names of the files and folders directly in ``directory``, sorted."""
    return sorted(path.name for path in directory.iterdir())


def all_paths(directory: Path) -> list[Path]:
    return list(directory.rglob("*"))


async def test_appends_extend_the_log_and_leave_the_header_alone(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path)
    session: Session[Any] = Session(id="s1")
    for n in range(3):
        await session.add_event(SessionEvent(message=n))
    await store.save(session)
    header, log = tmp_path / "s1.json", tmp_path / "s1.events.jsonl"
    header_inode, logged = header.stat().st_ino, log.read_bytes()

    await session.add_event_and_save(SessionEvent(message=3))

    assert header.stat().st_ino == header_inode  # not rewritten for a plain append
    grown = log.read_bytes()
    assert grown.startswith(logged)
    assert json.loads(grown[len(logged) :])["message"] == 3
    assert (await load(FileSessionStore(tmp_path), "s1")).metadata.updated_at == (
        session.metadata.updated_at
    )

    await session.set_state("k", "v")

    assert header.stat().st_ino != header_inode  # replaced atomically, as a new file
    assert json.loads(header.read_text())["state"] == {"k": "v"}
    assert names(tmp_path) == ["s1.events.jsonl", "s1.json", "s1.lock", "summaries.jsonl"]


async def test_an_edit_is_appended_and_applied_in_place(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path)
    session: Session[Any] = Session(id="s1")
    for n in range(3):
        await session.add_event(SessionEvent(message=n))
    await store.save(session)
    await session.events[0].set_metadata("edited", 1)
    await store.save(session)

    lines = (tmp_path / "s1.events.jsonl").read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[-1])["id"] == session.events[0].id
    loaded = await load(FileSessionStore(tmp_path), "s1")
    assert [(e.message, e.metadata) for e in loaded.events] == [
        (0, {"edited": 1}),
        (1, {}),
        (2, {}),
    ]


async def test_a_header_is_parsed_once_per_version_of_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llm_sessions.storage.providers import file_format

    store = FileSessionStore(tmp_path)
    session: Session[Any] = Session(id="p", child_ids=["kid"], state={"a": 1})
    await session.add_event(SessionEvent(message="first"))
    await store.save(session)
    held = await load(store, "p")
    parsed: list[bytes] = []
    real_parse = file_format.parse_header

    def counting_parse(raw: bytes, path: str) -> dict[str, Any]:
        parsed.append(raw)
        return real_parse(raw, path)

    monkeypatch.setattr(file_format, "parse_header", counting_parse)
    for n in range(3):  # appends and refreshes: the header file does not change
        await held.add_event_and_save(SessionEvent(message=n))
        assert await store.refresh(held) is held
    assert parsed == []

    header = tmp_path / "p.json"  # changed by hand: read again
    doc = json.loads(header.read_text())
    header.write_text(json.dumps({**doc, "state": {"a": 2}}))
    assert await store.refresh(held) is held
    assert held.state == {"a": 2} and len(parsed) == 1


async def test_a_failed_header_write_leaves_what_the_store_read_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reads of the same header bytes share one parsed document: a save changes a copy of it,
    # so a save that fails halfway cannot leave its change in what later reads are given.
    from llm_sessions.storage.providers import file as file_module

    store = FileSessionStore(tmp_path)
    session: Session[Any] = Session(id="p", state={"a": 1})
    await session.add_event(SessionEvent(message="first"))
    await store.save(session)
    held = await load(store, "p")

    def failing_write(path: str, data: bytes) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(file_module, "write_atomically", failing_write)
    held.state["a"] = 2
    with pytest.raises(StorageError, match="disk full"):
        await store.save(held)
    monkeypatch.undo()
    fresh = await store.get("p")
    assert fresh is not None and fresh.state == {"a": 1}


async def test_auto_save_off_buffers_until_flush(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path, auto_save=False)
    session: Session[Any] = Session(id="buffered")
    await store.save(session)
    await session.add_event_and_save(SessionEvent(message="a"))
    await session.set_state("k", 1)

    assert not tmp_path.joinpath("buffered.json").exists()
    seen = await load(store, "buffered")
    assert [e.message for e in seen.events] == ["a"] and seen.state == {"k": 1}
    assert await store.list_sessions() == ["buffered"]
    assert await FileSessionStore(tmp_path).get("buffered") is None

    await store.flush()

    loaded = await load(FileSessionStore(tmp_path), "buffered")
    assert [e.message for e in loaded.events] == ["a"] and loaded.state == {"k": 1}
    await session.add_event_and_save(SessionEvent(message="b"))
    await store.close()  # closing writes what is still buffered
    loaded = await load(FileSessionStore(tmp_path), "buffered")
    assert [e.message for e in loaded.events] == ["a", "b"]


async def test_buffered_saves_merge_with_what_is_on_disk(tmp_path: Path) -> None:
    session: Session[Any] = Session(id="mixed")
    await session.add_event(SessionEvent(message="on disk"))
    await FileSessionStore(tmp_path).save(session)
    store = FileSessionStore(tmp_path, auto_save=False)
    mine = await load(store, "mixed")
    await mine.add_event_and_save(SessionEvent(message="buffered"))
    await mine.events[0].set_metadata("edited", True)
    await store.save(mine)

    seen = await load(store, "mixed")

    assert [(e.message, e.metadata) for e in seen.events] == [
        ("on disk", {"edited": True}),
        ("buffered", {}),
    ]
    assert await store.delete("mixed") is True
    await store.flush()
    assert await FileSessionStore(tmp_path).get("mixed") is None


async def test_a_store_sees_appends_made_by_another_and_after_clear_cache(tmp_path: Path) -> None:
    one, two = FileSessionStore(tmp_path), FileSessionStore(tmp_path)
    session: Session[Any] = Session(id="shared")
    await session.add_event(SessionEvent(message=0))
    await one.save(session)
    assert len((await load(one, "shared")).events) == 1

    other = await load(two, "shared")
    await other.add_event_and_save(SessionEvent(message=1))
    assert [e.message for e in (await load(one, "shared")).events] == [0, 1]

    await two.delete("shared")
    fresh: Session[Any] = Session(id="shared")
    await fresh.add_event(SessionEvent(message="new life"))
    await two.save(fresh)
    assert [e.message for e in (await load(one, "shared")).events] == ["new life"]

    await one.clear_cache()
    assert [e.message for e in (await load(one, "shared")).events] == ["new life"]


ODD_IDS = [
    "~tilde",
    ".hidden",
    "x.events",
    "quarantine",
    "spaced out: *?<>|",
    "ünïcødé-✓",
    "é" * 200,
]


@pytest.mark.parametrize("session_id", [*ODD_IDS, "x" * 256])
async def test_unusual_but_valid_ids(tmp_path: Path, session_id: str) -> None:
    store = FileSessionStore(tmp_path)
    session: Session[Any] = Session(id=session_id)
    await session.add_event(SessionEvent(message=session_id))
    await store.save(session)
    await store.save(Session(id="x"))  # a neighbour whose files could be confused with it

    fresh = FileSessionStore(tmp_path)
    assert [e.message for e in (await load(fresh, session_id)).events] == [session_id]
    assert await fresh.list_sessions(session_id) == [session_id]
    assert all(len(os.fsencode(name)) <= 255 for name in names(tmp_path))
    assert {path.parent for path in all_paths(tmp_path)} == {tmp_path}
    assert await fresh.delete(session_id) is True
    assert await fresh.list_sessions() == ["x"]


_valid_ids = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda text: text not in (".", "..") and "/" not in text and "\\" not in text)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ids=st.lists(_valid_ids, min_size=1, max_size=4, unique=True))
def test_any_valid_id_round_trips(tmp_path_factory: pytest.TempPathFactory, ids: list[str]) -> None:
    directory = tmp_path_factory.mktemp("ids")

    async def scenario() -> None:
        store = FileSessionStore(directory)
        for session_id in ids:
            validate_id(session_id)
            session: Session[Any] = Session(id=session_id)
            await session.add_event(SessionEvent(message=session_id))
            await store.save(session)
        fresh = FileSessionStore(directory)
        assert await fresh.list_sessions() == sorted(ids)
        for session_id in ids:
            assert [e.message for e in (await load(fresh, session_id)).events] == [session_id]

    asyncio.run(scenario())


async def test_factories_and_url_options(tmp_path: Path) -> None:
    store = await create_file_session_store(tmp_path, auto_save=False)
    assert isinstance(store, FileSessionStore) and store.auto_save is False

    opened = open_store(f"file://{tmp_path}/sub?expiration_seconds=30&auto_save=false&fsync=0")
    assert isinstance(opened, FileSessionStore)
    assert (opened.directory, opened.expiration_seconds) == (tmp_path / "sub", 30.0)
    assert (opened.auto_save, opened.fsync) == (False, False)
    with pytest.raises(InvalidInputError, match="colour"):
        open_store(f"file://{tmp_path}?colour=blue")
    with pytest.raises(InvalidInputError, match="auto_save"):
        open_store(f"file://{tmp_path}?auto_save=maybe")
    assert not (tmp_path / "sub").exists()  # nothing is created before the first write


async def test_a_directory_that_is_a_file_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    store = FileSessionStore(blocker)

    with pytest.raises(StorageError) as caught:
        await store.save(Session())
    assert isinstance(caught.value.__cause__, OSError)


@contextmanager
def lock_held_by_another_process(path: Path) -> Iterator[threading.Event]:
    """Hold the session's lock (as another writer would) from a thread until the event it
    yields is set (or the block ends)."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        taken.set()
        release.wait()
        os.close(fd)

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait()
    try:
        yield release
    finally:
        release.set()
        holder.join()


async def test_waiting_for_the_lock_does_not_block_the_event_loop(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path, timeout=LOCK_TIMEOUT)
    session: Session[Any] = Session(id="locked")
    await store.save(session)

    with lock_held_by_another_process(tmp_path / "locked.lock") as release:
        save = asyncio.create_task(session.add_event_and_save(SessionEvent(message="waited")))
        await assert_pending_while_the_loop_turns(save)  # it waits, and the loop runs on
        release.set()
        await save

    assert len((await load(FileSessionStore(tmp_path), "locked")).events) == 1
