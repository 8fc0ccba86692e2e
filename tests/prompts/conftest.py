"""Fixtures of the prompt-builder tests: a fresh default store per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llm_sessions.storage import InMemorySessionStore, SessionStoreProvider


@pytest.fixture
def memory_store() -> Iterator[InMemorySessionStore]:
    """A new in-memory store set as the default store, forgotten after the test."""
    store = InMemorySessionStore()
    SessionStoreProvider.set_store(store)
    yield store
    SessionStoreProvider.reset()
