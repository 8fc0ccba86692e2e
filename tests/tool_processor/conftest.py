"""Fixtures for the tool processor tests: a fresh default store and a fresh tool registry."""

from __future__ import annotations

import pytest

from llm_sessions.models.session import Session
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tools import ToolRegistry


@pytest.fixture
def registry() -> ToolRegistry:
    """A registry private to the test."""
    return ToolRegistry()


@pytest.fixture
async def session(store: InMemorySessionStore) -> Session[object]:
    """A stored, empty session."""
    return await Session.create()
