"""The native /v1/sessions routes: tree, events with usage and cost, runs, prompt, cost."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from llm_sessions.models.session import Session
from llm_sessions.models.session_run import SessionRun
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tokens import count_text_async


async def _create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/sessions", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


async def _append(client: httpx.AsyncClient, session_id: str, *events: dict[str, Any]) -> Any:
    response = await client.post(f"/v1/sessions/{session_id}/events", json={"events": events})
    assert response.status_code == 200, response.text
    return response.json()


async def test_create_read_and_delete_a_session(client: httpx.AsyncClient) -> None:
    created = await _create(client, properties={"team": "search"})
    assert created["id"].startswith("alpha.sess_")
    assert created["metadata"]["properties"] == {"team": "search"}
    fetched = (await client.get(f"/v1/sessions/{created['id']}")).json()
    assert fetched["id"] == created["id"] and fetched["event_count"] == 0
    deleted = await client.delete(f"/v1/sessions/{created['id']}")
    assert deleted.json() == {"id": created["id"], "object": "session.deleted", "deleted": True}
    assert (await client.get(f"/v1/sessions/{created['id']}")).status_code == 404


async def test_the_tree_shows_ancestors_children_and_descendants(client: httpx.AsyncClient) -> None:
    root = await _create(client)
    child = await _create(client, parent_id=root["id"])
    grandchild = await _create(client, parent_id=child["id"])
    tree = (await client.get(f"/v1/sessions/{child['id']}/tree")).json()
    assert tree["ancestors"] == [root["id"]]
    assert tree["child_ids"] == [grandchild["id"]]
    assert tree["descendants"] == [grandchild["id"]]
    assert tree["segments"] == [child["id"]]
    root_tree = (await client.get(f"/v1/sessions/{root['id']}/tree")).json()
    assert set(root_tree["descendants"]) == {child["id"], grandchild["id"]}


async def test_events_carry_counted_tokens_and_cost(client: httpx.AsyncClient) -> None:
    session = await _create(client)
    added = await _append(
        client,
        session["id"],
        {"message": "What is the capital of France?", "source": "user", "model": "gpt-4o"},
        {"message": "Paris.", "source": "llm", "model": "gpt-4o"},
        {"message": "note", "source": "system"},
    )
    question, answer, note = added["data"]
    expected = (await count_text_async("What is the capital of France?", "gpt-4o")).tokens
    assert question["token_usage"]["prompt_tokens"] == expected
    paris = await count_text_async("Paris.", "gpt-4o")
    assert answer["token_usage"]["completion_tokens"] == paris.tokens
    assert note["token_usage"] is None
    cost = (await client.get(f"/v1/sessions/{session['id']}/cost")).json()
    assert cost["total"]["total_tokens"] == expected + answer["token_usage"]["completion_tokens"]
    assert cost["total"]["total_estimated_cost_usd"] > 0
    assert set(cost["by_model"]) == {"gpt-4o"}
    assert set(cost["by_source"]) == {"user", "llm"}
    assert set(cost["by_run"]) == {"no_run"}


async def test_provider_usage_is_used_instead_of_counting(client: httpx.AsyncClient) -> None:
    session = await _create(client)
    event = {
        "message": "hello",
        "source": "llm",
        "model": "gpt-4o-mini",
        "usage": {"prompt_tokens": 1000, "completion_tokens": 7},
    }
    added = await _append(client, session["id"], event)
    usage = added["data"][0]["token_usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (1000, 7)


async def test_event_pages_walk_both_ways(client: httpx.AsyncClient) -> None:
    session = await _create(client)
    await _append(client, session["id"], *({"message": f"m{n}"} for n in range(7)))
    seen, after = [], None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"after": after} if after else {})}
        page = (await client.get(f"/v1/sessions/{session['id']}/events", params=params)).json()
        seen += [event["message"] for event in page["data"]]
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen == [f"m{n}" for n in range(7)]
    newest = await client.get(
        f"/v1/sessions/{session['id']}/events", params={"limit": 2, "order": "desc"}
    )
    assert [event["message"] for event in newest.json()["data"]] == ["m6", "m5"]


async def test_sessions_are_listed_in_pages(client: httpx.AsyncClient) -> None:
    created = [(await _create(client))["id"] for _ in range(5)]
    first = (await client.get("/v1/sessions", params={"limit": 3})).json()
    second = (
        await client.get("/v1/sessions", params={"limit": 3, "after": first["last_id"]})
    ).json()
    listed = [row["id"] for row in first["data"] + second["data"]]
    assert sorted(listed) == sorted(created) and len(set(listed)) == 5
    assert (first["has_more"], second["has_more"]) == (True, False)


async def test_runs_and_prompt(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    session: Session[Any] = Session(id="alpha.sess_runs")
    session.runs.append(SessionRun(id="run-1"))
    await memory_store.save(session)
    await _append(
        client,
        session.id,
        {"message": "Hi there", "source": "user"},
        {"message": "Hello!", "source": "llm"},
    )
    runs = (await client.get(f"/v1/sessions/{session.id}/runs")).json()
    assert [run["id"] for run in runs] == ["run-1"]
    prompt = (await client.get(f"/v1/sessions/{session.id}/prompt")).json()
    assert [message["role"] for message in prompt] == ["user", "assistant"]
    assert [message["content"] for message in prompt] == ["Hi there", "Hello!"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"events": []}, "events"),
        ({"events": [{"message": "x", "source": "robot"}]}, "events.0.source"),
        (
            {"events": [{"message": "x", "usage": {"prompt_tokens": -1}}]},
            "events.0.usage.prompt_tokens",
        ),
        ({"events": [{"message": "x", "type": ""}]}, "events.0.type"),
    ],
)
async def test_bad_events_are_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], param: str
) -> None:
    session = await _create(client)
    response = await client.post(f"/v1/sessions/{session['id']}/events", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["param"] == param
    assert (await client.get(f"/v1/sessions/{session['id']}")).json()["event_count"] == 0


async def test_a_parent_of_another_tenant_is_404(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await memory_store.save(Session(id="beta.sess_theirs"))
    response = await client.post("/v1/sessions", json={"parent_id": "beta.sess_theirs"})
    assert response.status_code == 404
    assert await memory_store.list_sessions() == ["beta.sess_theirs"]
