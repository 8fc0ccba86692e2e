"""Every error is JSON in one shape with a stable code; never a traceback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from server_helpers import KEY_A, KEYS, free_port

from llm_sessions.server import ApiKeys, create_app
from llm_sessions.storage import InMemorySessionStore, open_store


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert set(error) == {"message", "type", "param", "code"}
    return error


async def test_unknown_conversation_is_404(client: httpx.AsyncClient) -> None:
    error = _error(await client.get("/v1/conversations/alpha.conv_missing"), 404, "not_found")
    assert "alpha.conv_missing" in error["message"]


async def test_unknown_item_is_404(client: httpx.AsyncClient) -> None:
    conversation = (await client.post("/v1/conversations", json={})).json()
    response = await client.get(f"/v1/conversations/{conversation['id']}/items/msg_nothing")
    assert _error(response, 404, "not_found")["param"] == "item_id"


async def test_unknown_route_is_404_json(client: httpx.AsyncClient) -> None:
    _error(await client.get("/v1/nothing-here"), 404, "not_found")


async def test_invalid_item_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    body = {"items": [{"type": "message", "role": "robot", "content": "hi"}]}
    error = _error(await client.post("/v1/conversations", json=body), 422, "invalid_value")
    assert error["param"].startswith("items.0")
    assert "role" in error["param"] or "role" in error["message"]


async def test_more_than_twenty_items_is_422(client: httpx.AsyncClient) -> None:
    conversation = (await client.post("/v1/conversations", json={})).json()
    items = [{"role": "user", "content": str(n)} for n in range(21)]
    response = await client.post(
        f"/v1/conversations/{conversation['id']}/items", json={"items": items}
    )
    assert _error(response, 422, "invalid_value")["param"] == "items"
    listed = await client.get(f"/v1/conversations/{conversation['id']}/items")
    assert listed.json()["data"] == []


async def test_metadata_over_the_limits_is_422(client: httpx.AsyncClient) -> None:
    too_long = {"metadata": {"k": "v" * 513}}
    error = _error(await client.post("/v1/conversations", json=too_long), 422, "invalid_value")
    assert error["param"].startswith("metadata")


async def test_a_cursor_that_is_not_an_item_is_422(client: httpx.AsyncClient) -> None:
    conversation = (await client.post("/v1/conversations", json={})).json()
    response = await client.get(
        f"/v1/conversations/{conversation['id']}/items", params={"after": "msg_unknown"}
    )
    assert _error(response, 422, "invalid_value")["param"] == "after"


async def test_a_body_over_the_limit_is_413_and_nothing_is_stored() -> None:
    store = InMemorySessionStore()
    app = create_app(store, max_body_bytes=1000)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        body = {"items": [{"role": "user", "content": "x" * 2000}]}
        error = _error(await client.post("/v1/conversations", json=body), 413, "payload_too_large")
        assert "1000" in error["message"]
        small = await client.post("/v1/conversations", json={"metadata": {"a": "b"}})
        assert small.status_code == 200
    assert await store.list_sessions() == [small.json()["id"]]


async def test_a_missing_key_is_401(memory_store: InMemorySessionStore) -> None:
    app = create_app(memory_store, ApiKeys(KEYS))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as anonymous:
        response = await anonymous.get("/v1/conversations/alpha.conv_x")
    _error(response, 401, "invalid_api_key")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("scheme", ["redis", "postgresql"])
async def test_a_store_that_is_down_is_503_with_retry_after(scheme: str) -> None:
    url = f"{scheme}://127.0.0.1:{free_port()}/0"
    if scheme == "postgresql":
        url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    store = open_store(url)
    app = create_app(store, ApiKeys(KEYS))
    headers = {"Authorization": f"Bearer {KEY_A}"}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers
        ) as client:
            response = await client.post("/v1/conversations", json={})
            ready = await client.get("/readyz")
    finally:
        await store.close()
    _error(response, 503, "store_unavailable")
    assert response.headers["retry-after"] == "1"
    _error(ready, 503, "store_unavailable")


async def test_an_unexpected_error_is_500_json_without_a_traceback() -> None:
    broken = APIRouter()

    @broken.get("/broken")
    async def fails() -> None:
        raise RuntimeError("internal detail that must not leak")

    app = create_app(InMemorySessionStore(), routers=[broken])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/broken")
    _error(response, 500, "internal_error")
    assert "internal detail" not in response.text
    assert "Traceback" not in response.text
