"""SQLite and PostgreSQL tell which blobs the stored events name with a query over the stored
rows, the file store by reading its event logs as text: neither an erasure nor
``collect_blobs`` loads a session for it, and a blob another session names is still never
removed. A store sealing its events at rest loads them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from erasure_data import forget_erasures
from store_cases import StoreCase, drop_case, url_for

from llm_sessions.models import Attachment, Session, SessionEvent
from llm_sessions.storage import SessionStore, blob_area, collect_blobs
from llm_sessions.storage.encryption import generate_key


@pytest.fixture(params=["sqlite", "file", pytest.param("postgres", marks=pytest.mark.postgres)])
async def sql_case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreCase]:
    case = StoreCase(request.param, url_for(request.param, tmp_path, request))
    yield case
    await drop_case(case)


class Loads:
    """Counts the sessions a store loads (``get``)."""

    def __init__(self, store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = store.get

        async def counted(session_id: str) -> Any:
            self.count += 1
            return await real(session_id)

        monkeypatch.setattr(store, "get", counted)


async def _pictures(store: SessionStore) -> dict[str, str]:
    """alice's session names two blobs, bob's one of them; a third blob no session names."""
    area = blob_area(store, clock=lambda: 1000.0)
    refs = {}
    for name in ("mine", "shared", "nobody's"):
        refs[name] = await area.put(f"the picture {name}".encode())
    for session_id, names in (("alice-pics", ["mine", "shared"]), ("bob-pics", ["shared"])):
        session: Session[Any] = Session(id=session_id)
        session.metadata.user_id = session_id.split("-")[0]
        parts = [Attachment.from_bytes(b"x", "text/plain").part(refs[name]) for name in names]
        await session.add_event(SessionEvent(message={"role": "user", "content": parts}))
        await store.save(session)
    area.clock = lambda: 1000.0 + 7200  # past every blob's grace
    return refs


async def test_an_erasure_checks_blob_references_without_loading_a_session(
    sql_case: StoreCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = sql_case.open()
    try:
        refs = await _pictures(store)
        loads = Loads(store, monkeypatch)

        receipt = await store.erase(where={"user_id": "alice"})
        assert receipt.counts["blobs"] == 1  # hers alone: the shared one bob still names
        assert await collect_blobs(store) == 1  # the one nobody names
        assert loads.count == 0

        left = await blob_area(store).touched()
        assert set(left) == {refs["shared"]}
    finally:
        await store.erase(where={}, all=True)
        await forget_erasures(store)


async def test_a_store_that_seals_its_events_loads_them_to_check(
    sql_case: StoreCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = sql_case.open(encryption_key=generate_key())
    try:
        refs = await _pictures(store)
        loads = Loads(store, monkeypatch)
        receipt = await store.erase(where={"user_id": "alice"})
        assert receipt.counts["blobs"] == 1
        assert loads.count > 0  # the rows are sealed: no query can read a reference in them
        assert refs["shared"] in await blob_area(store).touched()
    finally:
        await store.erase(where={}, all=True)
        await forget_erasures(store)
