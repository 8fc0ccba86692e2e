"""Server fixtures: an app in process (httpx over ASGI) and real server processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from server_helpers import KEY_A, KEYS, server_process

from llm_sessions.server import ApiKeys, create_app
from llm_sessions.storage import InMemorySessionStore


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'server.db'}"


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server process with two tenants' keys over a fresh SQLite file (one per module)."""
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('server') / 'server.db'}"
    keys = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())
    with server_process(sqlite_url, {"LLM_SESSIONS_API_KEYS": keys}) as base_url:
        yield base_url


@pytest.fixture
async def memory_store() -> AsyncIterator[InMemorySessionStore]:
    store = InMemorySessionStore()
    yield store
    await store.close()


@pytest.fixture
async def client(memory_store: InMemorySessionStore) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for an in-process app with two tenants, authenticated as tenant A."""
    app = create_app(memory_store, ApiKeys(KEYS))
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {KEY_A}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as http:
        yield http
