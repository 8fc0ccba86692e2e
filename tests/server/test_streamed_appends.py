"""``POST /v1/conversations/{id}/items?stream=true``: a reply sent as NDJSON lines in a chunked
body is recorded as it arrives, complete with ``reply.done`` and incomplete otherwise."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from server_helpers import KEY_A, KEYS

from llm_sessions.models import SessionEvent
from llm_sessions.server import ApiKeys, create_app
from llm_sessions.storage import InMemorySessionStore, redact_pii

START = {"type": "reply.start", "model": "gpt-4o", "provider": "openai"}
DONE = {"type": "reply.done"}


def delta(text: Any) -> dict[str, Any]:
    return {"type": "reply.delta", "text": text}


async def body(
    lines: list[Any], between: Callable[[int], Any] | None = None
) -> AsyncIterator[bytes]:
    """The lines as NDJSON, one chunk each; ``between(n)`` is awaited after the n-th."""
    for n, line in enumerate(lines, 1):
        yield (line if isinstance(line, str) else json.dumps(line)).encode() + b"\n"
        if between is not None:
            await between(n)


async def new_conversation(client: httpx.AsyncClient) -> str:
    created = await client.post(
        "/v1/conversations", json={"items": [{"role": "user", "content": "Hi"}]}
    )
    return str(created.json()["id"])


async def stored_replies(store: InMemorySessionStore, conversation: str) -> list[SessionEvent[Any]]:
    session = await store.get(conversation)
    assert session is not None
    return [event for event in session.events if event.metadata.get("streamed")]


def items_path(conversation: str) -> str:
    return f"/v1/conversations/{conversation}/items?stream=true"


async def test_a_streamed_reply_is_recorded_as_it_arrives_and_completed_by_done(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    conversation = await new_conversation(client)
    seen: list[str] = []

    async def check(n: int) -> None:
        if n == 2:  # the first text is in the store before the rest of the body is sent
            [event] = await stored_replies(memory_store, conversation)
            seen.append(event.message["content"])
            assert event.metadata["incomplete"] is True

    usage = {"type": "reply.usage", "usage": {"prompt_tokens": 5, "completion_tokens": 2}}
    lines = [{**START, "checkpoint_ms": 0}, delta("Hello"), delta(" world"), usage, DONE]
    answer = await client.post(items_path(conversation), content=body(lines, check))

    assert answer.status_code == 200, answer.text
    [item] = answer.json()["data"]
    assert (item["role"], item["status"]) == ("assistant", "completed")
    assert item["content"][0]["text"] == "Hello world"
    assert seen == ["Hello"]
    [event] = await stored_replies(memory_store, conversation)
    assert "incomplete" not in event.metadata
    assert event.metadata["model"] == "gpt-4o"
    assert event.token_usage is not None and event.token_usage.completion_tokens == 2
    listed = (await client.get(f"/v1/conversations/{conversation}/items?order=asc")).json()
    assert [i["content"][0]["text"] for i in listed["data"]] == ["Hi", "Hello world"]


async def test_a_body_that_ends_without_done_leaves_the_reply_incomplete(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    conversation = await new_conversation(client)

    answer = await client.post(items_path(conversation), content=body([delta("Half")]))

    assert answer.status_code == 422
    assert answer.json()["error"]["param"] == "body"
    assert "reply.done" in answer.json()["error"]["message"]
    [event] = await stored_replies(memory_store, conversation)
    assert (event.message["content"], event.metadata["incomplete"]) == ("Half", True)
    item = (await client.get(f"/v1/conversations/{conversation}/items/{event.id}")).json()
    assert item["status"] == "incomplete"


async def test_a_non_text_delta_is_refused_naming_its_line_and_the_reply_kept_so_far(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    conversation = await new_conversation(client)

    answer = await client.post(
        items_path(conversation), content=body([START, delta("Fine"), delta(5), DONE])
    )

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["param"] == "line 3 text" and "must be text" in error["message"]
    [event] = await stored_replies(memory_store, conversation)
    assert (event.message["content"], event.metadata["incomplete"]) == ("Fine", True)


async def test_a_bad_first_line_stores_nothing(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    conversation = await new_conversation(client)
    bad_starts = [{"type": "reply.start", "model": 3}, {**START, "checkpoint_ms": -1}]
    for lines in (["not json"], *([start] for start in bad_starts), [{"type": "other"}]):
        answer = await client.post(items_path(conversation), content=body([*lines, DONE]))
        assert answer.status_code == 422, lines
        assert answer.json()["error"]["param"].startswith("line 1")
    assert await stored_replies(memory_store, conversation) == []


def client_of(store: InMemorySessionStore, **options: Any) -> httpx.AsyncClient:
    """A client, as tenant alpha, of an app over ``store`` made with ``options``."""
    app: FastAPI = create_app(store, ApiKeys(KEYS), **options)
    headers = {"Authorization": f"Bearer {KEY_A}"}
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers)


async def test_a_streamed_body_over_the_limit_gets_413_and_an_incomplete_reply() -> None:
    store = InMemorySessionStore()
    async with client_of(store, max_body_bytes=200) as client:
        conversation = await new_conversation(client)
        lines = [START, *[delta("x" * 40) for _ in range(10)], DONE]
        answer = await client.post(items_path(conversation), content=body(lines))

    assert answer.status_code == 413
    [event] = await stored_replies(store, conversation)
    assert event.metadata["incomplete"] is True
    assert 0 < len(event.message["content"]) < 400


async def test_an_idempotency_key_is_refused_with_stream(client: httpx.AsyncClient) -> None:
    conversation = await new_conversation(client)
    answer = await client.post(
        items_path(conversation), content=body([START, DONE]), headers={"Idempotency-Key": "k1"}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["param"] == "stream"


async def test_a_streamed_append_to_an_unknown_conversation_is_404(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(items_path("conv_missing"), content=body([START, DONE]))
    assert answer.status_code == 404


async def test_a_redacting_store_redacts_a_reply_streamed_to_the_server() -> None:
    store = InMemorySessionStore(redact=redact_pii)
    async with client_of(store) as client:
        conversation = await new_conversation(client)
        lines = [START, delta("Mail "), delta("bob@example.com"), delta(" today"), DONE]
        answer = await client.post(items_path(conversation), content=body(lines))

    assert answer.status_code == 200, answer.text
    [event] = await stored_replies(store, conversation)
    assert event.message["content"] == "Mail [REDACTED:email] today"
