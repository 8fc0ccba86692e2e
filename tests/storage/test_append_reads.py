"""What ``session_for_append`` reads: the log's newest row and the header, nothing more."""

from __future__ import annotations

from typing import Any

from store_cases import StoreCase
from stored import load

from llm_sessions.models import Session, SessionEvent


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
