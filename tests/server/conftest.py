"""Server fixtures: an app in process (httpx over ASGI) and real server processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import CHROMIUM_ARGS, WAIT_MS, WIDE, run
from fastapi import FastAPI
from server_helpers import KEY_A, KEY_B, KEYS, server_process

from llm_sessions.cli.demo import run_demo
from llm_sessions.server import ApiKeys, create_app
from llm_sessions.storage import InMemorySessionStore, open_store


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


async def _seed_demo(store_url: str) -> list[str]:
    async with open_store(store_url) as store:
        result = await run_demo(store)
        return [segment.id for segment in result.segments]


@pytest.fixture(scope="module")
def keyless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """(base URL, the demo's segment ids) of a server without keys over the demo's store."""
    store_url = f"sqlite:///{tmp_path_factory.mktemp('inspector') / 'demo.db'}"
    segments = run(_seed_demo(store_url))
    with server_process(store_url) as base_url:
        yield base_url, segments


@pytest.fixture(scope="module")
def browser(chromium_executable: str) -> Iterator[Any]:
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page, 1280 px wide; every dialog it opens is recorded in
    ``dialogs`` and dismissed (accepted once ``accept_dialogs`` is set), and the URL of every
    response of 400 or more is kept in ``failed``."""
    context = browser.new_context(viewport=WIDE)
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    opened.dialogs = []
    opened.accept_dialogs = False
    opened.failed = []

    def answer(dialog: Any) -> None:
        opened.dialogs.append(dialog.message)
        dialog.accept() if opened.accept_dialogs else dialog.dismiss()

    opened.on("dialog", answer)
    opened.on(
        "response",
        lambda response: opened.failed.append(response.url) if response.status >= 400 else None,
    )
    yield opened
    context.close()


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
