"""The command-line tests' store: SQLite in a temp folder, and a way to reach it directly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from cli_helpers import OnStore

from llm_sessions.storage import SessionStore, open_store

_T = TypeVar("_T")


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def on_store(store_url: str) -> OnStore:
    """Run ``work`` on the test's store, opened before and closed after, as the CLI does."""

    def run(work: Callable[[SessionStore], Awaitable[_T]]) -> _T:
        async def main() -> _T:
            store = open_store(store_url)
            try:
                return await work(store)
            finally:
                await store.close()

        return asyncio.run(main())

    return run


@pytest.fixture
def stored_ids(on_store: OnStore) -> Callable[[], set[str]]:
    """The ids of the sessions in the test's store, read when called."""

    async def listed(store: SessionStore) -> set[str]:
        return set(await store.list_sessions())

    return lambda: on_store(listed)
