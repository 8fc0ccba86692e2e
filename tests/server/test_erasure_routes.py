"""POST /v1/erasures and GET /v1/erasures: a tenant erases its own users' sessions (never
another tenant's), gets the receipt, and reads its own audit log."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from llm_sessions.storage import ErasureReceipt, InMemorySessionStore

sys.path.insert(0, str(Path(__file__).parents[1] / "storage"))
from erasure_data import write_people


async def test_a_tenant_erases_a_user_and_reads_its_audit_log(
    client: httpx.AsyncClient, client_b: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    alpha = await write_people(memory_store, "alpha.")
    beta = await write_people(memory_store, "beta.")
    preview = await client.post("/v1/erasures", json={"user_id": "alice", "dry_run": True})
    assert preview.status_code == 200, preview.text
    assert set(preview.json()["session_ids"]) == alpha.alice
    assert (await client.get("/v1/erasures")).json()["data"] == []  # a dry run records nothing
    response = await client.post("/v1/erasures", json={"user_id": "alice"})
    assert response.status_code == 200, response.text
    receipt = ErasureReceipt.model_validate(response.json())
    assert set(receipt.session_ids) == alpha.alice
    assert receipt.actor == "tenant:alpha"
    assert receipt.filter == {"where": {"user_id": "alice"}, "all": False, "prefix": "alpha."}
    left = set(await memory_store.list_sessions())
    assert left == alpha.bob | beta.alice | beta.bob
    audit = (await client.get("/v1/erasures")).json()
    assert [row["erasure_id"] for row in audit["data"]] == [receipt.erasure_id]
    assert (await client_b.get("/v1/erasures")).json()["data"] == []


async def test_another_tenant_s_ids_and_bad_filters_erase_nothing(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    alpha = await write_people(memory_store, "alpha.")
    beta = await write_people(memory_store, "beta.")
    every = alpha.alice | alpha.bob | beta.alice | beta.bob
    bad = [
        ({"session_ids": ["alpha.alice-root", "beta.alice-root"]}, "session_ids"),
        ({}, "where"),
        ({"where": {}}, "where"),
        ({"where": {"email": "a@example.com"}}, "where['email']"),
        ({"user_id": "alice", "session_ids": ["alpha.alice-root"]}, "session_ids"),
    ]
    for body, param in bad:
        response = await client.post("/v1/erasures", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["param"] == param, body
    unknown = await client.post("/v1/erasures", json={"user": "alice"})
    assert unknown.status_code == 422
    assert set(await memory_store.list_sessions()) == every
    everything = await client.post("/v1/erasures", json={"all": True})
    assert set(everything.json()["session_ids"]) == alpha.alice | alpha.bob
    assert set(await memory_store.list_sessions()) == beta.alice | beta.bob
