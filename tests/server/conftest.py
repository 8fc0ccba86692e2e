"""Server fixtures: an app in process (httpx over ASGI) and real server processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from server_helpers import KEY_A, KEY_B, KEYS, server_process

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
def app(memory_store: InMemorySessionStore) -> FastAPI:
    """An in-process app over a memory store, with tenants alpha and beta."""
    return create_app(memory_store, ApiKeys(KEYS))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client of ``app``, authenticated as tenant alpha."""
    async with _client(app, KEY_A) as http:
        yield http


@pytest.fixture
async def client_b(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client of ``app``, authenticated as tenant beta."""
    async with _client(app, KEY_B) as http:
        yield http


def _client(app: FastAPI, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {key}"},
    )
