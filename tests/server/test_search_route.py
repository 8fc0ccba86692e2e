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
