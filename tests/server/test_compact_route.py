"""``POST /v1/conversations/{id}/compact``: staged compaction run on the server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from llm_sessions import SessionManager
from llm_sessions.prompting import is_compaction_event
from llm_sessions.server import create_app
from llm_sessions.storage import InMemorySessionStore


@pytest.fixture
async def client(memory_store: InMemorySessionStore) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a server without keys over ``memory_store``."""
    transport = httpx.ASGITransport(app=create_app(memory_store))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def conversation(client: httpx.AsyncClient, turns: int) -> str:
    items = []
    for number in range(turns):
        items.append({"type": "message", "role": "user", "content": f"question {number}. " * 40})
        items.append({"type": "message", "role": "assistant", "content": f"answer {number}"})
    reply = await client.post("/v1/conversations", json={"items": items})
    assert reply.status_code == 200, reply.text
    conversation_id: str = reply.json()["id"]
    return conversation_id


async def test_compact_summarises_the_oldest_items_and_keeps_them(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    conversation_id = await conversation(client, 6)
    below = await client.post(
        f"/v1/conversations/{conversation_id}/compact", json={"summarize_at_tokens": 100_000}
    )
    assert below.status_code == 200 and below.json()["event_id"] is None
    reply = await client.post(
        f"/v1/conversations/{conversation_id}/compact",
        json={"summarize_at_tokens": 500, "keep_recent_tokens": 200},
    )
    assert reply.status_code == 200, reply.text
    report = reply.json()
    assert report["event_id"] is not None and report["summarized_events"] >= 8
    assert report["tokens_after"] < report["tokens_before"]
    items = await client.get(f"/v1/conversations/{conversation_id}/items", params={"limit": 100})
    assert len(items.json()["data"]) == 13  # the twelve items and the compaction item
    session = await memory_store.get(conversation_id)
    assert session is not None and is_compaction_event(session.events[-1])
    prompt = await SessionManager(conversation_id, store=memory_store).get_messages_for_llm()
    assert "question 0" in prompt[0]["content"] and prompt[0]["role"] == "system"
    assert "answer 5" in str(prompt) and "answer 0" not in str(prompt)


async def test_a_bad_policy_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    conversation_id = await conversation(client, 2)
    reply = await client.post(
        f"/v1/conversations/{conversation_id}/compact",
        json={"summarize_at_tokens": 100, "keep_recent_tokens": 100},
    )
    assert reply.status_code in (400, 422)
    assert "keep_recent_tokens" in reply.text
    session = await memory_store.get(conversation_id)
    assert session is not None and len(session.events) == 4
    missing = await client.post("/v1/conversations/conv_missing/compact", json={"force": True})
    assert missing.status_code == 404
