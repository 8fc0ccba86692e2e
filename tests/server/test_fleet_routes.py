"""GET /v1/sessions, /v1/conversations and /v1/usage: summaries newest first, filters, pages
that resume after an id, totals, each tenant seeing only its own, and bad filters named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import EventSource, Session, SessionEvent, SessionMetadata, TokenUsage
from llm_sessions.server.tenancy import TenantStore
from llm_sessions.storage import InMemorySessionStore

DAY = datetime(2026, 12, 1, tzinfo=UTC)


async def put(
    store: InMemorySessionStore,
    session_id: str,
    hours: int,
    user: str | None = None,
    tokens: int = 0,
    **properties: Any,
) -> None:
    """A session created ``hours`` after ``DAY`` (no wall clock), with one event using
    ``tokens`` tokens when given."""
    created = DAY + timedelta(hours=hours)
    metadata = SessionMetadata(created_at=created, updated_at=created, user_id=user)
    session: Session[Any] = Session(id=session_id, metadata=metadata)
    session.metadata.properties = properties
    await store.save(session)
    if tokens:
        usage = TokenUsage(prompt_tokens=tokens, completion_tokens=0, model="gpt-4o")
        event = SessionEvent(
            message="hi", source=EventSource.USER, token_usage=usage, timestamp=created
        )
        await session.add_event_and_save(event)


async def ids(client: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["data"]]


async def test_sessions_are_summaries_newest_first_filtered_and_paged(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    for n in range(5):
        await put(memory_store, f"alpha.s{n}", n, "alice" if n % 2 else "bob", 10 * n, tier=n)

    first = (await client.get("/v1/sessions", params={"limit": 2})).json()
    second = (
        await client.get("/v1/sessions", params={"limit": 2, "after": first["last_id"]})
    ).json()
    alice = await ids(client, "/v1/sessions", user_id="alice", order="-tokens")
    dear = await ids(client, "/v1/sessions", min_cost="0.0001", order="cost")
    tier = await ids(client, "/v1/sessions", **{"where[tier]": "2"})
    late = await ids(client, "/v1/sessions", since="2026-12-01T03:00:00Z")

    assert [row["id"] for row in first["data"]] == ["alpha.s4", "alpha.s3"]
    assert (first["object"], first["first_id"], first["has_more"]) == ("list", "alpha.s4", True)
    assert first["data"][1]["user_id"] == "alice" and first["data"][1]["total_tokens"] == 30
    assert [row["id"] for row in second["data"]] == ["alpha.s2", "alpha.s1"]
    assert alice == ["alpha.s3", "alpha.s1"]
    assert dear == ["alpha.s4"]  # 40 tokens of gpt-4o: $0.0001; 30 are $0.000075
    assert tier == ["alpha.s2"]
    assert late == ["alpha.s4", "alpha.s3"]


async def test_sessions_are_created_with_a_user_and_metadata(client: httpx.AsyncClient) -> None:
    body = {"user_id": "carol", "metadata": {"plan": "pro"}, "properties": {"plan": "free"}}
    created = (await client.post("/v1/sessions", json=body)).json()
    child = (await client.post("/v1/sessions", json={"parent_id": created["id"]})).json()

    listed = (await client.get("/v1/sessions", params={"where[plan]": "pro"})).json()["data"]
    carol = await ids(client, "/v1/sessions", user_id="carol")

    assert [row["id"] for row in listed] == [created["id"]]
    assert listed[0]["user_id"] == "carol" and listed[0]["properties"] == {"plan": "pro"}
    assert sorted(carol) == sorted([created["id"], child["id"]])  # the child inherits


async def test_conversations_are_created_with_a_user_and_metadata_as_properties(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    body = {"user_id": "dave", "metadata": {"plan": "pro", "user_id": "eve", "topic": "x"}}
    created = (await client.post("/v1/conversations", json=body)).json()
    plain = (await client.post("/v1/conversations", json={})).json()
    updated = await client.post(
        f"/v1/conversations/{created['id']}", json={"metadata": {"topic": "y"}}
    )

    dave = (await client.get("/v1/sessions", params={"user_id": "dave"})).json()["data"]
    topic = await ids(client, "/v1/sessions", **{"where[topic]": "y"})
    bad = await client.post("/v1/conversations", json={"user_id": "a/b"})

    assert created["metadata"] == body["metadata"] and "user_id" not in created
    assert updated.json()["metadata"] == {"topic": "y"}
    assert [row["id"] for row in dave] == [created["id"]]
    assert dave[0]["properties"] == {"conversation_metadata": {"topic": "y"}, "topic": "y"}
    assert topic == [created["id"]]
    stored = await memory_store.get(plain["id"])
    assert stored is not None and stored.metadata.user_id is None
    assert bad.status_code == 422 and "user_id" in bad.text
    assert await ids(client, "/v1/sessions", user_id="a/b") == []


async def test_conversations_are_listed_by_creation_with_metadata_filters(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    for n, topic in enumerate(["billing", "bugs", "billing", "billing"]):
        await put(memory_store, f"alpha.conv_{n}", n, conversation_metadata={"topic": topic})

    newest = (await client.get("/v1/conversations", params={"limit": 2})).json()
    rest = await ids(client, "/v1/conversations", limit=2, after=newest["last_id"])
    oldest = await ids(client, "/v1/conversations", order="asc", limit=1)
    billing = (
        await client.get("/v1/conversations", params={"metadata[topic]": "billing", "limit": 2})
    ).json()

    assert [row["id"] for row in newest["data"]] == ["alpha.conv_3", "alpha.conv_2"]
    assert newest["data"][0]["object"] == "conversation" and newest["has_more"] is True
    assert newest["data"][0]["metadata"] == {"topic": "billing"}
    assert rest == ["alpha.conv_1", "alpha.conv_0"]
    assert oldest == ["alpha.conv_0"]
    assert [row["id"] for row in billing["data"]] == ["alpha.conv_3", "alpha.conv_2"]
    assert billing["has_more"] is True


async def test_usage_totals_by_user(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    for n in range(4):
        await put(memory_store, f"alpha.s{n}", n, "alice" if n < 3 else "bob", 100)

    rows = (await client.get("/v1/usage", params={"group_by": "user_id"})).json()["data"]
    daily = (await client.get("/v1/usage", params={"user_id": "bob"})).json()["data"]

    assert [(r["key"], r["sessions"], r["tokens"]) for r in rows] == [
        ({"user_id": "alice"}, 3, 300),
        ({"user_id": "bob"}, 1, 100),
    ]
    assert [r["key"] for r in daily] == [{"user_id": "bob", "day": "2026-12-01"}]


async def test_each_tenant_lists_and_totals_only_its_own(
    client: httpx.AsyncClient, client_b: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await put(memory_store, "alpha.sess_a", 1, "alice", 10)
    await put(memory_store, "beta.sess_b", 2, "alice", 20, conversation_metadata={"k": "v"})
    await put(memory_store, "alphabet.sess_c", 3, "alice", 40)  # no tenant's

    for client_, own in ((client, "alpha.sess_a"), (client_b, "beta.sess_b")):
        assert await ids(client_, "/v1/sessions") == [own]
        assert await ids(client_, "/v1/sessions", user_id="alice", prefix="sess_") == [own]
        assert await ids(client_, "/v1/sessions", prefix="conv_") == []
        assert await ids(client_, "/v1/conversations") == [own]
        totals = (await client_.get("/v1/usage", params={"group_by": "user_id"})).json()
        assert [(r["sessions"], r["tokens"]) for r in totals["data"]] == [
            (1, 10 if own.startswith("alpha") else 20)
        ]
    foreign = await client.get("/v1/sessions", params={"after": "beta.sess_b"})
    assert foreign.status_code == 422 and foreign.json()["error"]["param"] == "after"


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/v1/sessions", {"order": "price"}, "order"),
        ("/v1/sessions", {"since": "yesterday"}, "since"),
        ("/v1/sessions", {"since": "2026-12-02", "until": "2026-12-01"}, "until"),
        ("/v1/sessions", {"after": "alpha.nope"}, "after"),
        ("/v1/sessions", {"where[]": "x"}, "where[]"),
        ("/v1/sessions", {"model": ""}, "model"),
        ("/v1/sessions", {"min_cost": "lots"}, "min_cost"),
        ("/v1/sessions", {"min_cost": "-1"}, "min_cost"),
        ("/v1/conversations", {"after": "alpha.nope"}, "after"),
        ("/v1/usage", {"group_by": ["day", "day"]}, "group_by"),
        ("/v1/usage", {"until": "soon"}, "until"),
    ],
)
async def test_bad_filters_are_named(
    client: httpx.AsyncClient,
    memory_store: InMemorySessionStore,
    path: str,
    params: dict[str, Any],
    param: str,
) -> None:
    await put(memory_store, "alpha.s0", 0, "alice", 10)

    response = await client.get(path, params=params)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == param


async def test_a_tenant_view_cannot_widen_its_prefix(memory_store: InMemorySessionStore) -> None:
    await put(memory_store, "alpha.s", 0, "alice", 10)
    await put(memory_store, "beta.s", 1, "alice", 20)
    alpha = TenantStore(memory_store, "alpha")

    for prefix in ("", "alpha", "alpha.s", "beta."):
        page = await alpha.find_sessions(prefix=prefix)
        totals = await alpha.usage(group_by=(), prefix=prefix)
        assert [row.id for row in page.items] == ([] if prefix == "beta." else ["alpha.s"])
        assert [row.tokens for row in totals] == ([] if prefix == "beta." else [10])
    with pytest.raises(InvalidInputError):
        await alpha.find_sessions(order="price", prefix="beta.")
