"""The stores the server benchmarks run on, each on data private to one run."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
KINDS = ("sqlite", "redis", "postgres")


@asynccontextmanager
async def private_store(kind: str, name: str = "bench-server") -> AsyncIterator[str]:
    """A store URL of ``kind`` on data of this run only (a key prefix or schema named after
    ``name``), dropped afterwards."""
    from llm_sessions.storage import open_store

    token = uuid.uuid4().hex[:12]
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    if kind == "redis":
        url = f"{REDIS_URL}?key_prefix={name}-{token}:"
    else:
        url = f"{POSTGRES_URL}?schema={name.replace('-', '_')}_{token}"
    try:
        yield url
    finally:
        cleaner = open_store(url)
        await cleaner.drop_all()  # type: ignore[attr-defined]
        await cleaner.close()
