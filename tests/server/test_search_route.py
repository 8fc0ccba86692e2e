"""GET /v1/search: hits best first, a user filter, pages, each tenant seeing only its own,
and bad queries named as 422s."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import InMemorySessionStore


async def put(store: InMemorySessionStore, session_id: str, user: str, *texts: str) -> None:
    session: Session[Any] = Session(id=session_id)
    session.metadata.user_id = user
    for text in texts:
        await session.add_event(SessionEvent(message=text, source=EventSource.USER))
    await store.save(session)


async def test_search_finds_this_keys_events_best_first_with_pages(
    client: httpx.AsyncClient, client_b: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await put(memory_store, "alpha.s1", "alice", "the refund failed", "a refund", "weather")
    await put(memory_store, "alpha.s2", "bob", "refund issued", "more weather", "lunch")
    await put(memory_store, "beta.s3", "alice", "the refund failed too")

    found = (await client.get("/v1/search", params={"q": "refund failed"})).json()
    alice = (await client.get("/v1/search", params={"q": "refund", "user_id": "alice"})).json()
    first = (await client.get("/v1/search", params={"q": "refund", "limit": 2})).json()
    second = (
        await client.get(
            "/v1/search", params={"q": "refund", "limit": 2, "after": first["next_cursor"]}
        )
    ).json()
    other = (await client_b.get("/v1/search", params={"q": "refund"})).json()

    assert found["object"] == "list" and len(found["data"]) == 3
    assert found["data"][0]["snippet"] == "the [refund] [failed]"
    assert found["first_id"] == found["data"][0]["event_id"]
    assert {hit["session_id"] for hit in alice["data"]} == {"alpha.s1"}
    assert first["has_more"] and not second["has_more"]
    paged = [hit["event_id"] for hit in first["data"] + second["data"]]
    assert sorted(paged) == sorted(hit["event_id"] for hit in found["data"])
    assert [hit["session_id"] for hit in other["data"]] == ["beta.s3"]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"q": ""}, "q"),
        ({"q": "x" * 5000}, "q"),
        ({"q": "*** ()"}, "q"),
        ({"q": "refund", "after": "forged"}, "after"),
        ({"q": "refund", "since": "yesterday"}, "since"),
        ({"q": "refund", "mode": "fuzzy"}, "mode"),
    ],
)
async def test_bad_searches_are_named(
    client: httpx.AsyncClient,
    memory_store: InMemorySessionStore,
    params: dict[str, Any],
    param: str,
) -> None:
    await put(memory_store, "alpha.s1", "alice", "the refund failed")

    response = await client.get("/v1/search", params=params)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == param


async def test_syntax_in_a_query_is_searched_literally(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await put(memory_store, "alpha.s1", "alice", "the refund failed")

    response = await client.get("/v1/search", params={"q": 'refund" OR (failed* NEAR'})

    assert response.status_code == 200
    assert len(response.json()["data"]) == 1


def two_words(texts: list[str]) -> list[list[float]]:
    """A toy embedder: whether a text speaks of money, and whether of food."""
    money, food = ("refund", "reimbursement"), ("lunch", "meal")
    return [
        [float(any(w in t for w in money)), float(any(w in t for w in food)), 0.1] for t in texts
    ]


async def test_semantic_and_hybrid_modes_search_only_this_keys_vectors(
    client: httpx.AsyncClient, client_b: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    refused = await client.get("/v1/search", params={"q": "refund", "mode": "semantic"})
    assert refused.status_code == 409 and "embedder" in refused.text
    memory_store.use_embedder(two_words)
    await put(memory_store, "alpha.s1", "alice", "the refund failed", "lunch at noon")
    await put(memory_store, "beta.s3", "alice", "a refund for beta")
    await memory_store.flush_index()

    params = {"q": "reimbursement", "mode": "semantic", "limit": 1}
    mine = (await client.get("/v1/search", params=params)).json()
    other = (await client_b.get("/v1/search", params=params)).json()
    hybrid = (await client.get("/v1/search", params={"q": "refund", "mode": "hybrid"})).json()

    assert [hit["snippet"] for hit in mine["data"]] == ["the refund failed"]
    assert [hit["session_id"] for hit in other["data"]] == ["beta.s3"]
    assert hybrid["data"][0]["snippet"] == "the [refund] failed"
    assert {hit["session_id"] for hit in hybrid["data"]} == {"alpha.s1"}
