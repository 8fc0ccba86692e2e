"""Shared fixtures: the service gates every test suite uses.

Tests that need Redis or PostgreSQL take the ``redis_url`` / ``postgres_url`` fixtures. Where no
server answers they skip with the reason, unless ``LLM_SESSIONS_REQUIRE_SERVICES=1`` (set by CI),
where a missing server fails the run instead.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from llm_sessions.storage import InMemorySessionStore, SessionStoreProvider

REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        address = (parts.hostname or "127.0.0.1", parts.port or default_port)
        with socket.create_connection(address, 1):
            return True
    except OSError:
        return False


def _require(url: str, default_port: int, name: str) -> str:
    if _answers(url, default_port):
        return url
    message = f"{name} does not answer at {url}"
    if os.environ.get("LLM_SESSIONS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} and LLM_SESSIONS_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a Redis server that answers (skips or fails where none does)."""
    return _require(REDIS_URL, 6379, "Redis")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a PostgreSQL server that answers (skips or fails where none does)."""
    return _require(POSTGRES_URL, 5432, "PostgreSQL")


@pytest.fixture
async def store() -> AsyncIterator[InMemorySessionStore]:
    """An in-memory store set as the process-wide default for the test, reset afterwards."""
    memory = InMemorySessionStore()
    SessionStoreProvider.set_store(memory)
    yield memory
    SessionStoreProvider.reset()
