"""Inputs that once got a 500 or an answer outside the documented shape, and the headers every
response carries."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from server_helpers import KEY_A, KEYS, free_port

from llm_sessions.server import ApiKeys, create_app
from llm_sessions.storage import InMemorySessionStore, open_store


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


async def _session_with_history(client: httpx.AsyncClient) -> str:
    session_id: str = (await client.post("/v1/sessions", json={})).json()["id"]
    events = [{"message": "hello there " * 20}, {"message": "hi", "source": "llm"}]
    response = await client.post(f"/v1/sessions/{session_id}/events", json={"events": events})
    assert response.status_code == 200, response.text
    return session_id


@pytest.mark.parametrize("strategy", [None, "conversation"])
async def test_a_prompt_budget_too_small_is_422_naming_the_smallest_that_fits(
    client: httpx.AsyncClient, strategy: str | None
) -> None:
    session_id = await _session_with_history(client)
    query = {"max_tokens": 1, **({"strategy": strategy} if strategy else {})}
    response = await client.get(f"/v1/sessions/{session_id}/prompt", params=query)
    error = _error(response, 422, "token_limit_exceeded")
    assert error["param"] == "max_tokens"
    assert "max_tokens=1 " in error["message"]
    smallest = int(error["message"].rsplit("fits is ", 1)[1].rstrip("."))
    fitting = await client.get(
        f"/v1/sessions/{session_id}/prompt", params={**query, "max_tokens": smallest}
    )
    assert fitting.status_code == 200, fitting.text
    below = await client.get(
        f"/v1/sessions/{session_id}/prompt", params={**query, "max_tokens": smallest - 1}
    )
    _error(below, 422, "token_limit_exceeded")


@pytest.mark.parametrize("model", ["gpt-4o", None])
async def test_a_null_message_is_422_and_the_schema_says_so(
    client: httpx.AsyncClient, model: str | None
) -> None:
    session_id: str = (await client.post("/v1/sessions", json={})).json()["id"]
    event: dict[str, Any] = {"message": None, **({"model": model} if model else {})}
    response = await client.post(f"/v1/sessions/{session_id}/events", json={"events": [event]})
    assert _error(response, 422, "invalid_value")["param"].startswith("events.0.message")
    assert (await client.get(f"/v1/sessions/{session_id}")).json()["event_count"] == 0
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["EventIn"]
    accepted = {option.get("type") for option in schema["properties"]["message"]["anyOf"]}
    assert "null" not in accepted
    assert {"string", "object", "array"} <= accepted


async def test_malformed_json_and_invalid_utf8_are_400_invalid_json_naming_no_field(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Content-Type": "application/json"}
    for body in (b'{"metadata": {"a": "b"', b'{"metadata": {"a": "\xff\xfe"}}'):
        response = await client.post("/v1/conversations", content=body, headers=headers)
        error = _error(response, 400, "invalid_json")
        assert error["param"] is None
    documented = (await client.get("/openapi.json")).json()["paths"]["/v1/conversations"]
    assert "400" in documented["post"]["responses"]


async def test_an_invalid_session_id_on_events_is_not_blamed_on_the_cursor(
    client: httpx.AsyncClient,
) -> None:
    for bad_id in ("alpha.bad%01id", "alpha." + "x" * 300):
        response = await client.get(f"/v1/sessions/{bad_id}/events")
        error = _error(response, 422, "invalid_value")
        assert error["param"] == "session_id"
        assert "after" not in error["message"]


async def test_405_lists_every_method_of_the_path_and_head_reads_like_get(
    client: httpx.AsyncClient,
) -> None:
    session_id = (await client.post("/v1/sessions", json={})).json()["id"]
    response = await client.put(f"/v1/sessions/{session_id}")
    _error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "DELETE, GET, HEAD"
    head = await client.head(f"/v1/sessions/{session_id}")
    get = await client.get(f"/v1/sessions/{session_id}")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


async def test_empty_content_parts_are_refused(client: httpx.AsyncClient) -> None:
    body = {"items": [{"type": "message", "role": "user", "content": []}]}
    error = _error(await client.post("/v1/conversations", json=body), 422, "invalid_value")
    assert error["param"].startswith("items.0")


@pytest.mark.parametrize("message", [{"role": "user"}, {"role": "assistant", "content": None}])
async def test_an_openai_import_of_a_message_without_content_is_refused(
    client: httpx.AsyncClient, message: dict[str, Any]
) -> None:
    response = await client.post(
        "/v1/sessions/import",
        params={"format": "openai"},
        content=httpx.Request("POST", "/", json=[message]).content,
        headers={"Content-Type": "text/plain"},
    )
    error = _error(response, 422, "invalid_value")
    assert "content" in error["message"]
    assert (await client.get("/v1/sessions")).json()["data"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/sessions"),
        ("GET", "/v1/sessions/alpha.sess_missing"),
        ("POST", "/v1/sessions/alpha.sess_missing/events"),
        ("GET", "/inspector/api/sessions/alpha.sess_missing/nodes"),
        ("GET", "/healthz"),
        ("GET", "/nothing-here"),
    ],
)
async def test_every_response_carries_the_security_headers_and_a_request_id(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={"events": [{}]})
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert len(response.headers["x-request-id"]) >= 16


async def test_a_client_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": "trace-42.abc"})
    assert response.headers["x-request-id"] == "trace-42.abc"
    odd = await client.get("/healthz", headers={"X-Request-Id": "bad id <script>"})
    assert odd.headers["x-request-id"] != "bad id <script>"


async def test_an_unexpected_error_is_logged_with_its_type_traceback_and_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = APIRouter()

    @broken.get("/broken")
    async def fails() -> None:
        raise KeyError("deep detail")

    app = create_app(InMemorySessionStore(), routers=[broken])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="llm_sessions.server"):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/broken")
    _error(response, 500, "internal_error")
    request_id = response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"
    [record] = [r for r in caplog.records if r.name == "llm_sessions.server.errors"]
    text = record.getMessage()
    assert "KeyError" in text
    assert request_id in text
    assert "Traceback (most recent call last)" in text
    assert "in fails" in text


async def test_store_errors_are_counted() -> None:
    store = open_store(f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(store, ApiKeys(KEYS))
    headers = {"Authorization": f"Bearer {KEY_A}"}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            for _ in range(3):
                _error(await http.post("/v1/conversations", json={}), 503, "store_unavailable")
            _error(await http.get("/readyz"), 503, "store_unavailable")
            metrics = (await http.get("/metrics")).text
    finally:
        await store.close()
    assert "llm_sessions_store_errors_total 4" in metrics.splitlines()
