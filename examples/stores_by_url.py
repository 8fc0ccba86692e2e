"""Stores by URL: the same code on memory, files, SQLite, Redis (``REDIS_URL``) and
PostgreSQL (``POSTGRES_URL``); the durable ones read back what another store object wrote.

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

from llm_sessions import SessionManager
from llm_sessions.storage import open_store

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgresql://postgres@localhost:5432/postgres")


def store_urls(folder: Path) -> list[str]:
    prefix = f"example-{uuid.uuid4().hex[:8]}:"  # keep these keys apart from others'
    return [
        "memory://",
        f"file://{folder / 'sessions'}",
        f"sqlite:///{folder / 'sessions.db'}",
        f"{REDIS_URL}?key_prefix={prefix}&expiration_seconds=600",
        f"{POSTGRES_URL}?schema=llm_sessions_examples",
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
        for url in store_urls(Path(folder)):
            await round_trip(url)


if __name__ == "__main__":
    asyncio.run(main())
