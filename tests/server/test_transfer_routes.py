"""Fork, export and import over HTTP, inside the caller's tenant."""

from __future__ import annotations

import json
from typing import Any

import httpx


async def _session_with(client: httpx.AsyncClient, *messages: str) -> tuple[str, list[str]]:
    session = (await client.post("/v1/sessions", json={"properties": {"team": "a"}})).json()["id"]
    events = [{"message": message} for message in messages]
    added = await client.post(f"/v1/sessions/{session}/events", json={"events": events})
    return session, [event["id"] for event in added.json()["data"]]


async def _messages(client: httpx.AsyncClient, session_id: str) -> list[Any]:
    page = await client.get(f"/v1/sessions/{session_id}/events", params={"limit": 100})
    return [event["message"] for event in page.json()["data"]]


async def test_fork_keeps_the_events_up_to_the_chosen_one(client: httpx.AsyncClient) -> None:
    source, ids = await _session_with(client, "one", "two", "three")
    forked = await client.post(f"/v1/sessions/{source}/fork", json={"at_event_id": ids[1]})
    assert forked.status_code == 200, forked.text
    fork = forked.json()
    assert fork["id"].startswith("alpha.sess_") and fork["id"] != source
    assert fork["metadata"]["properties"]["forked_from"] == {
        "session_id": source,
        "event_id": ids[1],
    }
    assert fork["metadata"]["properties"]["team"] == "a"
    assert await _messages(client, fork["id"]) == ["one", "two"]
    await client.post(f"/v1/sessions/{fork['id']}/events", json={"events": [{"message": "new"}]})
    assert await _messages(client, source) == ["one", "two", "three"]
    assert await _messages(client, fork["id"]) == ["one", "two", "new"]


async def test_fork_at_an_unknown_event_is_422(client: httpx.AsyncClient) -> None:
    source, _ = await _session_with(client, "one")
    response = await client.post(f"/v1/sessions/{source}/fork", json={"at_event_id": "nope"})
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "at_event_id"


async def test_export_then_import_makes_a_renamed_copy(client: httpx.AsyncClient) -> None:
    source, _ = await _session_with(client, "one", "two")
    exported = await client.get(f"/v1/sessions/{source}/export")
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in exported.text.splitlines()]
    assert [record["record"] for record in records] == ["session", "event", "event"]
    imported = await client.post(
        "/v1/sessions/import", content=exported.text, headers={"Content-Type": "text/plain"}
    )
    assert imported.status_code == 200, imported.text
    [copy] = imported.json()["data"]
    assert copy.startswith("alpha.sess_") and copy != source
    assert await _messages(client, copy) == ["one", "two"]


async def test_export_as_openai_messages(client: httpx.AsyncClient) -> None:
    source, _ = await _session_with(client, "hello")
    exported = await client.get(f"/v1/sessions/{source}/export", params={"format": "openai"})
    assert exported.status_code == 200
    assert "hello" in exported.text


async def test_importing_ids_outside_the_tenant_is_422_and_stores_nothing(
    client: httpx.AsyncClient, client_b: httpx.AsyncClient
) -> None:
    source, _ = await _session_with(client, "secret")
    text = (await client.get(f"/v1/sessions/{source}/export")).text
    response = await client_b.post(
        "/v1/sessions/import",
        params={"on_conflict": "error"},
        content=text,
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 422
    assert "must start with 'beta.'" in response.json()["error"]["message"]
    assert (await client_b.get("/v1/sessions")).json()["data"] == []


async def test_a_bad_file_is_422_naming_the_line(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/sessions/import", content="{not json\n", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 422
    assert "line 1" in response.json()["error"]["message"]


async def test_another_tenant_cannot_fork_or_export(
    client: httpx.AsyncClient, client_b: httpx.AsyncClient
) -> None:
    source, _ = await _session_with(client, "secret")
    assert (await client_b.post(f"/v1/sessions/{source}/fork", json={})).status_code == 404
    assert (await client_b.get(f"/v1/sessions/{source}/export")).status_code == 404
    assert (await client_b.get("/v1/sessions")).json()["data"] == []
