"""The stores ``bench_content.py`` runs on, each on data private to the run, and their removal."""

from __future__ import annotations

import os
import uuid
from typing import Any

from llm_sessions.storage import SessionStore

POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
KINDS = ("memory", "file", "sqlite", "redis", "postgres")


def store_url(kind: str, folder: str, label: str) -> str:
    """A URL of a ``kind`` store on data of its own: under ``folder`` for file and SQLite, a
    fresh key prefix or schema (named after ``label``) for Redis and PostgreSQL."""
    token = uuid.uuid4().hex[:10]
    urls = {
        "memory": "memory://",
        "file": f"file://{folder}/files",
        "sqlite": f"sqlite:///{folder}/bench.db",
        "redis": f"{REDIS_URL}?key_prefix=bench-{label}-{token}:",
        "postgres": f"{POSTGRES_URL}?schema=bench_{label}_{token}",
    }
    if kind not in urls:
        raise SystemExit(f"unknown store {kind!r}: pick from {', '.join(KINDS)}")
    return urls[kind]


async def drop(store: SessionStore, kind: str) -> None:
    """Remove what the run wrote on a shared service (the folder holds the rest)."""
    shared: Any = store
    if kind == "redis":  # blob keys are not session keys: drop_all leaves them
        async for key in shared.client.scan_iter(match=f"{shared.key_prefix}blob:*"):
            await shared.client.delete(key)
    if kind in ("redis", "postgres"):
        await shared.drop_all()
