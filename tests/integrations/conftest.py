"""Fixtures for the integration tests: a fake OpenAI server, the real client, a fresh store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import openai
import pytest
from fake_openai_server import FakeOpenAI


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI server on 127.0.0.1, on a free port."""
    fake = FakeOpenAI()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    async with server:
        yield fake
        server.close()


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    """The real openai client, pointed at the fake server, without client-side retries."""
    made = openai.AsyncOpenAI(api_key="test-key", base_url=fake_openai.base_url, max_retries=0)
    yield made
    await made.close()
