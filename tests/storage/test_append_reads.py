"""What an append and a page read read: on SQLite, in one hand-off to the worker thread."""

from __future__ import annotations

from typing import Any

from store_cases import StoreCase
from stored import load

from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import open_store


async def test_session_for_append_reads_no_removal_records_when_the_newest_row_is_an_event(
    durable_case: StoreCase, monkeypatch: Any
) -> None:
    store = durable_case.open()
    session: Session[Any] = Session(id="appending")
    for name in ("a", "b"):
        await session.add_event(SessionEvent(id=name, message=name))
    await store.save(session)
    reads: list[str] = []
    real = type(store)._removal_rows  # type: ignore[attr-defined]

    async def counted(self: Any, session_id: str) -> Any:
        reads.append(session_id)
        return await real(self, session_id)

    monkeypatch.setattr(type(store), "_removal_rows", counted)
    held = await store.session_for_append("appending")
    assert held is not None
    await held.add_event(SessionEvent(id="c", message="c"))
    await store.save(held)
    assert reads == []
    assert [event.id for event in (await load(durable_case.reader(store), "appending")).events] == [
        "a",
        "b",
        "c",
    ]


async def _counted_hand_offs(monkeypatch: Any) -> list[str]:
    from llm_sessions.storage._worker_thread import WorkerThread

    hand_offs: list[str] = []
    real = WorkerThread.run

    async def counted(self: Any, work: Any, *args: Any) -> Any:
        hand_offs.append(work.__name__)
        return await real(self, work, *args)

    monkeypatch.setattr(WorkerThread, "run", counted)
    return hand_offs


async def test_sqlite_reads_the_newest_row_and_the_header_in_one_hand_off(
    tmp_path: Any, monkeypatch: Any
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/append.db")
    session: Session[Any] = Session(id="appending", state={"topic": "maps"})
    await session.add_event(SessionEvent(id="a", message="a"))
    await store.save(session)
    hand_offs = await _counted_hand_offs(monkeypatch)
    held = await store.session_for_append("appending")
    assert held is not None
    assert held.state == {"topic": "maps"}
    assert len(hand_offs) == 1
    await store.close()


async def test_sqlite_reads_a_page_and_the_removal_records_in_one_hand_off(
    tmp_path: Any, monkeypatch: Any
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/page.db")
    session: Session[Any] = Session(id="paged")
    for name in ("a", "b", "c", "d"):
        await session.add_event(SessionEvent(id=name, message=name))
    await store.save(session)
    await session.remove_events(["d"])
    hand_offs = await _counted_hand_offs(monkeypatch)
    page = await store.read_events("paged", after="a", limit=2)
    assert [event.id for event in page or []] == ["b", "c"]
    assert len(hand_offs) == 1
    assert await store.read_events("absent", limit=2) is None
    await store.close()
