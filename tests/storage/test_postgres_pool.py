"""PostgreSQL under many concurrent conversations: a bounded pool serves them all."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from llm_sessions import SessionManager
from llm_sessions.storage.providers.postgres import PostgresSessionStore

pytestmark = pytest.mark.postgres

POOL_SIZE = 4
SESSIONS = 50
TURNS = 4


@pytest.fixture
async def pooled(postgres_url: str) -> AsyncIterator[PostgresSessionStore]:
    store = PostgresSessionStore(
        postgres_url, schema=f"test_{uuid.uuid4().hex[:12]}", min_size=1, max_size=POOL_SIZE
    )
    yield store
    await store.drop_all()
    await store.close()


async def test_fifty_concurrent_conversations_share_a_bounded_pool(
    pooled: PostgresSessionStore,
) -> None:
    largest_pool = 0

    async def converse(n: int) -> str:
        nonlocal largest_pool
        manager = SessionManager(store=pooled)
        for turn in range(TURNS):
            await manager.user_says(f"question {n}.{turn}")
            await manager.get_messages_for_llm(max_tokens=500)
            await manager.ai_responds(f"answer {n}.{turn}", model="gpt-4o-mini")
            largest_pool = max(largest_pool, pooled._pool.get_size())
        return manager.session_id

    session_ids = await asyncio.gather(*(converse(n) for n in range(SESSIONS)))

    assert largest_pool <= POOL_SIZE
    assert len(set(session_ids)) == SESSIONS
    for n, session_id in enumerate(session_ids):
        session = await pooled.get(session_id)
        assert session is not None
        assert [event.message for event in session.events] == [
            text for turn in range(TURNS) for text in (f"question {n}.{turn}", f"answer {n}.{turn}")
        ]
