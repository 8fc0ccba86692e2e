"""PostgreSQL faults on data of the test's own (a private schema, connections marked with a
private application_name): a held row lock and terminated backends give ``StorageError``
within the store's timeout, the store recovers, and no acknowledged event is lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from private_servers import messages_in

from llm_sessions.exceptions import StorageError
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import open_store
from llm_sessions.storage.providers.postgres import PostgresSessionStore

pytestmark = pytest.mark.postgres

TIMEOUT = 1.0
NO_HANG = 15.0  # far above the timeout: only a hang reaches it


class Private:
    def __init__(self, postgres_url: str) -> None:
        token = uuid.uuid4().hex[:12]
        self.schema = f"test_{token}"
        self.application = f"llm-sessions-faults-{token}"
        self.url = f"{postgres_url}?schema={self.schema}&timeout={TIMEOUT}"
        self.admin_dsn = postgres_url

    def store(self) -> PostgresSessionStore:
        store = open_store(self.url, server_settings={"application_name": self.application})
        assert isinstance(store, PostgresSessionStore)
        return store

    async def terminate_backends(self) -> int:
        """Terminate this test's own backends (never anyone else's)."""
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            rows = await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = $1 AND pid <> pg_backend_pid()",
                self.application,
            )
            return len(rows)
        finally:
            await admin.close()


@pytest.fixture
async def private(postgres_url: str) -> AsyncIterator[Private]:
    data = Private(postgres_url)
    yield data
    cleaner = open_store(data.url)
    await cleaner.drop_all()  # type: ignore[attr-defined]
    await cleaner.close()


async def test_a_held_row_lock_fails_the_append_within_the_timeout(private: Private) -> None:
    store = private.store()
    session: Session[Any] = Session(id="locked")
    await session.add_event(SessionEvent(message="before"))
    await store.save(session)

    holder = await asyncpg.connect(private.admin_dsn)
    transaction = holder.transaction()
    await transaction.start()
    await holder.execute(
        f'SELECT 1 FROM "{private.schema}".sessions WHERE id = $1 FOR UPDATE', "locked"
    )
    try:
        await session.add_event(SessionEvent(message="blocked"))
        with pytest.raises(StorageError):
            await asyncio.wait_for(store.save(session), NO_HANG)
    finally:
        await transaction.rollback()
        await holder.close()

    await store.save(session)  # the same store retries the refused batch once the lock is gone
    await store.close()
    assert await messages_in(private.store(), "locked") == ["before", "blocked"]


async def test_terminated_backends_give_storage_errors_and_lose_nothing(private: Private) -> None:
    store = private.store()
    acknowledged: dict[str, list[str]] = {f"w{n}": [] for n in range(3)}
    errors: list[BaseException] = []
    writing = True

    async def save_until_it_lands(session: Session[Any]) -> None:
        for _ in range(200):
            try:
                await store.save(session)
                return
            except Exception as exc:  # every kind is checked below
                errors.append(exc)
                await asyncio.sleep(0.01)
        raise AssertionError(f"{session.id} never landed")

    async def writer(session_id: str) -> None:
        session: Session[Any] = Session(id=session_id)
        n = 0
        while writing:
            await session.add_event(SessionEvent(message=f"{session_id}-{n}"))
            n += 1
            await save_until_it_lands(session)  # the same batch again until it lands
            acknowledged[session_id] = [str(event.message) for event in session.events]

    async def killer() -> int:
        killed = 0
        for _ in range(15):
            killed += await private.terminate_backends()
            await asyncio.sleep(0.05)
        return killed

    tasks = [asyncio.create_task(writer(session_id)) for session_id in acknowledged]
    killed = await killer()
    writing = False
    await asyncio.wait_for(asyncio.gather(*tasks), NO_HANG)

    assert killed > 0
    print(f"{killed} backends terminated, {len(errors)} failed operations")
    assert errors, "terminating backends mid-operation should have failed some operations"
    assert all(isinstance(error, StorageError) for error in errors), {
        type(error).__name__ for error in errors
    }
    await store.close()
    for session_id, messages in acknowledged.items():
        assert await messages_in(private.store(), session_id) == messages
