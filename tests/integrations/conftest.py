"""Fixtures for the integration tests: a fake OpenAI server, the real client, a fresh store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from fake_openai_server import FakeOpenAI, serving


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI server on 127.0.0.1, on a free port."""
    async with serving(FakeOpenAI()) as fake:
        yield fake


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    """The real openai client, pointed at the fake server, without client-side retries."""
    made = openai.AsyncOpenAI(api_key="test-key", base_url=fake_openai.base_url, max_retries=0)
    yield made
    await made.close()
