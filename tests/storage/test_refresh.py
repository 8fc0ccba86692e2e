"""``store.refresh(session)``: a session a caller holds catches up with its store, reading only
what is new, and other writers' events appear in store order exactly once."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

from stored import load

from llm_sessions import SessionManager
from llm_sessions.models import RunStatus, Session, SessionEvent, SessionRun, TokenUsage

if TYPE_CHECKING:
    from store_cases import StoreCase


def ids(session: Session[Any]) -> list[str]:
    return [event.id for event in session.events]


def event(name: str, tokens: int = 0) -> SessionEvent[Any]:
    usage = TokenUsage(prompt_tokens=tokens, model="gpt-4o-mini") if tokens else None
    return SessionEvent(id=name, message=name, token_usage=usage)


async def test_refresh_takes_other_writers_events_in_store_order(durable_case: StoreCase) -> None:
    mine_store, their_store = durable_case.open(), durable_case.open()
    mine: Session[Any] = Session(id="shared")
    await mine.add_event(event("a0", 3))
    await mine_store.save(mine)
    theirs = await load(their_store, "shared")
    kept = mine.events[0]

    for n in range(1, 4):
        await mine.add_event_and_save(event(f"a{n}", 1))
        await theirs.add_event_and_save(event(f"b{n}", 10))
        await theirs.set_state("seen", n)
        refreshed = await mine_store.refresh(mine)
        assert refreshed is mine
        assert ids(mine) == ids(await load(durable_case.open(), "shared"))
    assert await mine_store.refresh(mine) is mine  # nothing new: nothing changes
    assert ids(mine) == ["a0", "a1", "b1", "a2", "b2", "a3", "b3"]
    assert mine.events[0] is kept
    assert mine.state == {"seen": 3}
    assert mine.total_tokens == 3 + 3 * 1 + 3 * 10

    await mine.add_event_and_save(event("a4"))  # still writes only what is new
    assert ids(await load(durable_case.open(), "shared")) == [*ids(mine)]


async def test_refresh_keeps_unsaved_events_at_the_end(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session(id="unsaved")
    await session.add_event(event("saved"))
    await store.save(session)
    await session.add_event(event("pending"))
    refreshed = await store.refresh(session)
    assert refreshed is not None
    assert ids(refreshed) == ["saved", "pending"]
    await store.save(refreshed)
    assert ids(await load(store_case.open() if store_case.durable else store, "unsaved")) == [
        "saved",
        "pending",
    ]


async def test_refresh_keeps_unsaved_header_edits_and_the_next_save_writes_them(
    durable_case: StoreCase,
) -> None:
    mine_store, their_store = durable_case.open(), durable_case.open()
    mine: Session[Any] = Session(id="edited", child_ids=["kept", "dropped"], task_ids=["t1"])
    mine.state.update({"kept": 1, "dropped": 2, "changed": "old"})
    await mine.metadata.set_property("p_dropped", True)
    mine.runs.extend([SessionRun(id="r_dropped"), SessionRun(id="r_changed")])
    await mine_store.save(mine)
    theirs = await load(their_store, "edited")
    await theirs.set_state("theirs", "remote")
    theirs.child_ids.append("their_kid")
    await their_store.save(theirs)

    # Edits this object has not saved yet.
    mine.state["changed"] = "new"
    mine.state["added"] = [1, 2]
    del mine.state["dropped"]
    mine.child_ids.remove("dropped")
    mine.child_ids.append("new_kid")
    mine.task_ids.append("t2")
    await mine.metadata.set_property("p_added", {"x": 1})
    del mine.metadata.properties["p_dropped"]
    mine.runs[:] = [run for run in mine.runs if run.id != "r_dropped"]
    mine.runs[0].status = RunStatus.COMPLETED
    changed_run = mine.runs[0]
    mine.runs.append(SessionRun(id="r_added"))
    mine.parent_id = "new-parent"

    def has_both_writers_edits(session: Session[Any]) -> None:
        assert session.state == {"kept": 1, "changed": "new", "added": [1, 2], "theirs": "remote"}
        assert set(session.child_ids) == {"kept", "their_kid", "new_kid"}
        assert session.task_ids == ["t1", "t2"]
        assert session.metadata.properties == {"p_added": {"x": 1}}
        assert [run.id for run in session.runs] == ["r_changed", "r_added"]
        assert session.runs[0].status is RunStatus.COMPLETED
        assert session.parent_id == "new-parent"

    assert await mine_store.refresh(mine) is mine
    has_both_writers_edits(mine)
    assert mine.runs[0] is changed_run  # the caller's own run object stays the session's
    await mine_store.save(mine)  # what the refresh kept is still to be written
    has_both_writers_edits(await load(durable_case.open(), "edited"))


async def test_refresh_of_a_deleted_session_is_none(store_case: StoreCase) -> None:
    store = store_case.open()
    session: Session[Any] = Session(id="deleted")
    await session.add_event(event("e"))
    await store.save(session)
    await store.delete("deleted")
    assert await store.refresh(session) is None


async def test_refresh_after_the_session_was_recreated_loads_it_afresh(
    durable_case: StoreCase,
) -> None:
    store, other = durable_case.open(), durable_case.open()
    session: Session[Any] = Session(id="again")
    await session.add_event(event("old"))
    await store.save(session)
    await other.delete("again")
    again: Session[Any] = Session(id="again")
    await again.add_event(event("new"))
    await other.save(again)
    refreshed = await store.refresh(session)
    assert refreshed is not None
    assert ids(refreshed) == ["new"]


_WRITER = r"""
import asyncio, sys
from llm_sessions.models import SessionEvent
from llm_sessions.storage import open_store

async def main(url, count):
    store = open_store(url)
    try:
        session = await store.get("raced")
        print("ready", flush=True)
        sys.stdin.readline()
        for n in range(count):
            await session.add_event_and_save(SessionEvent(id=f"p{n}", message=n))
    finally:
        await store.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def test_refresh_while_another_process_writes(durable_case: StoreCase) -> None:
    store = durable_case.open()
    session: Session[Any] = Session(id="raced")
    await store.save(session)
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _WRITER,
        durable_case.url,
        "60",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert writer.stdin is not None and writer.stdout is not None
    assert await writer.stdout.readline() == b"ready\n", await writer.stderr.read()  # type: ignore[union-attr]
    writer.stdin.write(b"go\n")
    await writer.stdin.drain()
    n = 0
    while writer.returncode is None:
        await session.add_event_and_save(event(f"m{n}"))
        refreshed = await store.refresh(session)
        assert refreshed is session
        assert len(set(ids(session))) == len(session.events)  # never twice
        n += 1
        try:
            await asyncio.wait_for(writer.wait(), 0.001)
        except TimeoutError:
            pass
    _, error = await writer.communicate()
    assert writer.returncode == 0, error.decode()
    await store.refresh(session)
    assert ids(session) == ids(await load(durable_case.open(), "raced"))
    assert sorted(i for i in ids(session) if i.startswith("p")) == sorted(
        f"p{k}" for k in range(60)
    )


async def test_a_manager_sees_another_writers_turns_once(durable_case: StoreCase) -> None:
    first = SessionManager(store=durable_case.open())
    await first.user_says("one")
    second = SessionManager(first.session_id, store=durable_case.open())
    for n in range(3):
        await second.ai_responds(f"reply {n}", model="gpt-4o-mini")
        await first.user_says(f"again {n}")
        contents = [turn["content"] for turn in await first.get_conversation()]
        assert contents == [turn["content"] for turn in await second.get_conversation()]
    assert contents == ["one", "reply 0", "again 0", "reply 1", "again 1", "reply 2", "again 2"]


async def test_refresh_applies_another_writers_removals(durable_case: StoreCase) -> None:
    mine_store, their_store = durable_case.open(), durable_case.open()
    mine: Session[Any] = Session(id="removals")
    for name in ("a", "b", "c"):
        await mine.add_event(event(name, 2))
    await mine_store.save(mine)
    theirs = await load(their_store, "removals")
    await theirs.add_event_and_save(event("d", 5))
    await theirs.remove_events(["b", "d"])
    await mine.add_event_and_save(event("e", 1))
    assert await mine_store.refresh(mine) is mine
    assert ids(mine) == ["a", "c", "e"] == ids(await load(durable_case.open(), "removals"))
    assert mine.total_tokens == 2 + 2 + 1
    await mine.add_event_and_save(event("f"))
    assert await mine_store.refresh(mine) is mine
    assert ids(mine) == ["a", "c", "e", "f"] == ids(await load(durable_case.open(), "removals"))


async def test_a_removal_keeps_the_events_already_read_before_the_new_ones(
    durable_case: StoreCase,
) -> None:
    # The reader holds events it read from the store (not ones it wrote), so the refresh that
    # meets the other writer's append and removal merges read events with new ones.
    writer = durable_case.open()
    first: Session[Any] = Session(id="read-then-removed")
    for name in ("a", "b", "c"):
        await first.add_event(event(name, 2))
    await writer.save(first)
    reader_store = durable_case.open()
    mine = await load(reader_store, "read-then-removed")
    theirs = await load(durable_case.open(), "read-then-removed")
    await theirs.add_event_and_save(event("d", 5))
    await theirs.remove_events(["b"])

    assert await reader_store.refresh(mine) is mine
    assert ids(mine) == ["a", "c", "d"] == ids(await load(durable_case.open(), mine.id))
    assert mine.total_tokens == 2 + 2 + 5


async def test_a_manager_follows_a_system_prompt_another_writer_sets(
    durable_case: StoreCase,
) -> None:
    first = SessionManager(store=durable_case.open(), system_prompt="Be brief.")
    await first.user_says("one")
    assert (await first.get_messages_for_llm(max_tokens=500))[0]["content"] == "Be brief."
    second = SessionManager(first.session_id, store=durable_case.open())
    await second.set_system_prompt("Answer in French.")
    messages = await first.get_messages_for_llm(max_tokens=500)
    assert messages == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "one"},
    ]
    assert await first.get_system_prompt() == "Answer in French."


async def test_appending_through_session_for_append_keeps_the_whole_log(
    store_case: StoreCase,
) -> None:
    writer = store_case.open()
    session: Session[Any] = Session(id="appends", state={"topic": "maps"})
    for name in ("a", "b", "c"):
        await session.add_event(event(name, 2))
    await writer.save(session)
    await session.remove_events(["c"])
    appender = store_case.reader(writer)
    held = await appender.session_for_append("appends")
    assert held is not None
    assert held.state == {"topic": "maps"}
    if store_case.durable:
        assert ids(held) == []  # the header only: none of the stored events are read
    await held.add_event(event("d", 3))
    await appender.save(held)
    loaded = await load(store_case.reader(writer), "appends")
    assert ids(loaded) == ["a", "b", "d"]
    assert loaded.state == {"topic": "maps"}
    assert loaded.token_summary.total_tokens == 7
    assert await appender.session_for_append("absent") is None


async def test_a_header_back_where_this_object_last_read_it_still_undoes_its_own_save(
    durable_case: StoreCase,
) -> None:
    # A refresh keeps the session's header when the stored one is what it last installed:
    # not when its own save has moved the store since (another writer then moved it back).
    mine_store, their_store = durable_case.open(), durable_case.open()
    mine: Session[Any] = Session(id="moved-back", child_ids=["kid"])
    await mine_store.save(mine)
    mine = await load(mine_store, "moved-back")
    await mine.add_child("added")  # saved: the store now holds it
    theirs = await load(their_store, "moved-back")
    await theirs.remove_child("added")  # back to the header ``mine`` first read
    assert await mine_store.refresh(mine) is mine
    assert mine.child_ids == ["kid"]


async def test_a_refresh_that_finds_the_header_unmoved_keeps_unsaved_edits(
    durable_case: StoreCase, monkeypatch: Any
) -> None:
    from llm_sessions.storage import refresh as refresh_module

    rebuilt: list[str] = []
    real_rebuild = refresh_module.header_session

    def counting_rebuild(*args: Any) -> Any:
        rebuilt.append(args[1])
        return real_rebuild(*args)

    monkeypatch.setattr(refresh_module, "header_session", counting_rebuild)
    store = durable_case.open()
    session: Session[Any] = Session(id="unmoved", child_ids=["kid"], state={"a": 1})
    await session.add_event(event("e0"))
    await store.save(session)
    await store.refresh(session)  # the header as it stands is this object's reading of it
    await session.add_event_and_save(event("e1"))  # a save that changes no header part
    session.state["a"] = 2
    session.child_ids.append("new_kid")
    writer = durable_case.open()
    theirs = await load(writer, "unmoved")
    await theirs.add_event_and_save(event("theirs"))
    rebuilt.clear()
    assert await store.refresh(session) is session
    assert rebuilt == []  # nothing but events moved: the header is not built again
    assert ids(session) == ["e0", "e1", "theirs"]
    assert session.state == {"a": 2}
    assert session.child_ids == ["kid", "new_kid"]
    assert session.metadata.updated_at == (await load(writer, "unmoved")).metadata.updated_at
    await store.save(session)
    stored = await load(durable_case.open(), "unmoved")
    assert (stored.state, stored.child_ids) == ({"a": 2}, ["kid", "new_kid"])


async def test_a_refresh_does_not_check_stored_child_ids_again(
    durable_case: StoreCase, monkeypatch: Any
) -> None:
    # Checked when written; a parent with thousands of children is read on every turn.
    from llm_sessions.models import session as session_module

    store = durable_case.open()
    parent: Session[Any] = Session(id="parent", child_ids=[f"child-{n}" for n in range(50)])
    await store.save(parent)
    checked: list[str] = []
    real_check = session_module.validate_id

    def counting_check(value: str, field: str = "id") -> str:
        checked.append(value)
        return real_check(value, field)

    monkeypatch.setattr(session_module, "validate_id", counting_check)
    reader = durable_case.open()
    loaded = await load(reader, "parent")
    theirs = await load(durable_case.open(), "parent")
    await theirs.add_child("child-new")  # checked here, as it is written
    checked.clear()
    assert await reader.refresh(loaded) is loaded
    assert len(loaded.child_ids) == 51
    assert not [value for value in checked if value.startswith("child-")]


async def test_a_refresh_that_names_the_current_header_tag_gets_no_header_parts(
    durable_case: StoreCase,
) -> None:
    # SQLite and PostgreSQL give a session a new header tag with each header change; the Redis
    # store tags what it reads with a digest of it, the file store the header file's bytes. A
    # refresh that names the current tag gets the timestamps and the events only (from Redis
    # and files: the header is not decoded again).
    mine_store = durable_case.open()
    reads: list[Any] = []
    real_read = mine_store._read_since  # type: ignore[attr-defined]

    async def recording_read(*args: Any) -> Any:
        reads.append(found := await real_read(*args))
        return found

    mine_store._read_since = recording_read  # type: ignore[attr-defined]
    parent: Session[Any] = Session(id="tagged", child_ids=["kid"], state={"step": 1})
    await parent.add_event(event("first"))
    await mine_store.save(parent)
    held = await load(mine_store, "tagged")
    theirs = await load(durable_case.open(), "tagged")

    await theirs.add_event_and_save(event("an event"))
    assert await mine_store.refresh(held) is held
    assert reads[-1].header_unchanged is True
    assert (held.child_ids, held.state, ids(held)) == (["kid"], {"step": 1}, ["first", "an event"])

    await theirs.set_state("step", 2)
    assert await mine_store.refresh(held) is held
    assert reads[-1].header_unchanged is False
    assert held.state == {"step": 2}

    await theirs.add_event_and_save(event("another"))
    assert await mine_store.refresh(held) is held
    assert reads[-1].header_unchanged is True  # the new tag is the one it holds now
    await held.add_child("mine")  # its own save moves the tag: it reads the header again
    await theirs.add_event_and_save(event("third"))
    assert await mine_store.refresh(held) is held
    assert reads[-1].header_unchanged is False
    assert held.child_ids == ["kid", "mine"] and ids(held)[-1] == "third"
    assert ids(held) == ids(await load(durable_case.open(), "tagged"))
