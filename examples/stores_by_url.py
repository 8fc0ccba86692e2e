"""Stores by URL: the same code on memory, files, SQLite, Redis and PostgreSQL; the durable
ones read back what another store object wrote.

The servers are the test suite's: Redis from ``LLM_SESSIONS_TEST_REDIS_URL`` or ``REDIS_URL``
(default ``redis://127.0.0.1:6379/0``), PostgreSQL from ``LLM_SESSIONS_TEST_POSTGRES_URL`` or
``POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``). It writes Redis keys
under a prefix of its own and a PostgreSQL schema of its own, and removes both.

    python examples/stores_by_url.py
"""

# expect: memory://  wrote 2 events, read back 0 events (memory is per store object)
# expect: file://  wrote 2 events, read back 2 events
# expect: sqlite://  wrote 2 events, read back 2 events
# expect: redis://  wrote 2 events, read back 2 events
# expect: postgresql://  wrote 2 events, read back 2 events

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path

import asyncpg

from llm_sessions import SessionManager
from llm_sessions.storage import open_store

env = os.environ.get
REDIS_URL = env("LLM_SESSIONS_TEST_REDIS_URL") or env("REDIS_URL") or "redis://127.0.0.1:6379/0"
POSTGRES_URL = (
    env("LLM_SESSIONS_TEST_POSTGRES_URL")
    or env("POSTGRES_URL")
    or "postgresql://postgres@127.0.0.1:5432/test"
)
TAG = uuid.uuid4().hex[:8]  # keeps this run's keys and tables apart from anyone else's
SCHEMA = f"llm_sessions_example_{TAG}"


def store_urls(folder: Path) -> list[str]:
    return [
        "memory://",
        f"file://{folder / 'sessions'}",
        f"sqlite:///{folder / 'sessions.db'}",
        f"{REDIS_URL}?key_prefix=example-{TAG}:&expiration_seconds=600",
        f"{POSTGRES_URL}?schema={SCHEMA}",
    ]


async def round_trip(url: str) -> None:
    async with open_store(url) as store:  # writer
        sm = SessionManager(store=store)
        await sm.user_says("Remember: the meeting is at 3 pm.")
        await sm.ai_responds("Noted, 3 pm.", model="gpt-4o-mini")
        written = len((await sm.get_session()).events)
    async with open_store(url) as store:  # another store object, as another process has
        found = await store.get(sm.session_id)
        read = len(found.events) if found else 0
        await store.delete(sm.session_id)
    scheme = url.split("://", 1)[0] + "://"
    note = " (memory is per store object)" if scheme == "memory://" else ""
    print(f"{scheme}  wrote {written} events, read back {read} events{note}")


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        try:
            for url in store_urls(Path(folder)):
                await round_trip(url)
        finally:  # the store made the schema's tables; the sessions are deleted already
            connection = await asyncpg.connect(POSTGRES_URL)
            await connection.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
            await connection.close()


if __name__ == "__main__":
    asyncio.run(main())
