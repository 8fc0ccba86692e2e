"""Fixtures for the tool processor tests: a fresh default store and a fresh tool registry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from llm_sessions.models.session import Session
from llm_sessions.storage import InMemorySessionStore, SessionStoreProvider
from llm_sessions.tools import ToolRegistry


@pytest.fixture
async def store() -> AsyncIterator[InMemorySessionStore]:
    """An in-memory store set as the process-wide default for the test, reset afterwards."""
    memory = InMemorySessionStore()
    SessionStoreProvider.set_store(memory)
    yield memory
    SessionStoreProvider.reset()


@pytest.fixture
def registry() -> ToolRegistry:
    """A registry private to the test."""
    return ToolRegistry()


@pytest.fixture
async def session(store: InMemorySessionStore) -> Session[object]:
    """A stored, empty session."""
    return await Session.create()
