"""A prompt with a budget over a large session is counted off the event loop."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from llm_sessions.prompting import budget
from llm_sessions.server.prompt_offload import OFFLOAD_THRESHOLD_CHARS


@pytest.fixture
def counting_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[int, str]]:
    """The thread each message was counted in, by the length of its content."""
    threads: dict[int, str] = {}
    original = budget.count_chat_message

    def counting(message: Mapping[str, Any], model: str) -> int:
        threads[len(str(message.get("content")))] = threading.current_thread().name
        return original(message, model)

    monkeypatch.setattr(budget, "count_chat_message", counting)
    budget.message_cache.clear()
    yield threads
    budget.message_cache.clear()


@pytest.mark.parametrize("strategy", [None, "conversation"])
async def test_a_large_prompt_is_counted_in_the_counting_pool(
    client: httpx.AsyncClient, counting_threads: dict[int, str], strategy: str | None
) -> None:
    session = (await client.post("/v1/sessions", json={})).json()["id"]
    large = "word " * (OFFLOAD_THRESHOLD_CHARS // 4)
    events = [{"message": large, "source": "user"}, {"message": "short", "source": "llm"}]
    await client.post(f"/v1/sessions/{session}/events", json={"events": events})
    params = {"max_tokens": 1_000_000, **({"strategy": strategy} if strategy else {})}
    response = await client.get(f"/v1/sessions/{session}/prompt", params=params)
    assert response.status_code == 200
    assert [message["content"] for message in response.json()] == [large, "short"]
    assert counting_threads[len(large)].startswith("llm-sessions-count")


async def test_a_small_prompt_is_counted_in_place(
    client: httpx.AsyncClient, counting_threads: dict[int, str]
) -> None:
    session = (await client.post("/v1/sessions", json={})).json()["id"]
    await client.post(
        f"/v1/sessions/{session}/events", json={"events": [{"message": "hi", "source": "user"}]}
    )
    response = await client.get(f"/v1/sessions/{session}/prompt", params={"max_tokens": 100})
    assert response.json() == [{"role": "user", "content": "hi"}]
    assert counting_threads[2] == threading.current_thread().name
