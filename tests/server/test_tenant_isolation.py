"""Tenant beta cannot reach tenant alpha's sessions by any route: every attempt is a 404."""

from __future__ import annotations

import httpx

from llm_sessions.storage import InMemorySessionStore


async def test_no_route_lets_another_tenant_reach_a_session(
    client: httpx.AsyncClient, client_b: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    session = (await client.post("/v1/sessions", json={})).json()["id"]
    added = await client.post(
        f"/v1/sessions/{session}/events", json={"events": [{"message": "secret"}]}
    )
    event = added.json()["data"][0]["id"]
    conversation = (await client.post("/v1/conversations", json={})).json()["id"]
    attempts = [
        ("GET", f"/v1/sessions/{session}", None),
        ("GET", f"/v1/sessions/{session}/tree", None),
        ("GET", f"/v1/sessions/{session}/events", None),
        ("GET", f"/v1/sessions/{session}/events?after={event}", None),
        ("POST", f"/v1/sessions/{session}/events", {"events": [{"message": "x"}]}),
        ("GET", f"/v1/sessions/{session}/events/stream", None),
        ("GET", f"/v1/sessions/{session}/runs", None),
        ("GET", f"/v1/sessions/{session}/prompt", None),
        ("GET", f"/v1/sessions/{session}/cost", None),
        ("POST", "/v1/sessions", {"parent_id": session}),
        ("DELETE", f"/v1/sessions/{session}", None),
        ("GET", f"/v1/conversations/{session}", None),
        ("GET", f"/v1/conversations/{session}/items/{event}", None),
        ("DELETE", f"/v1/conversations/{conversation}", None),
    ]
    for method, path, body in attempts:
        response = await client_b.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    listed = await client_b.get("/v1/sessions")
    assert listed.json()["data"] == []
    assert sorted(await memory_store.list_sessions()) == sorted([session, conversation])
    still = (await client.get(f"/v1/sessions/{session}/events")).json()["data"]
    assert [found["message"] for found in still] == ["secret"]
