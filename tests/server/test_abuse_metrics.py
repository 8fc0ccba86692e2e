"""/metrics under abuse: labels from a fixed set, and a key unless the port is loopback-only."""

from __future__ import annotations

import httpx
import pytest
from server_helpers import KEY_A, KEYS

from llm_sessions.server import ApiKeys, create_app
from llm_sessions.storage import InMemorySessionStore

METRICS_KEY = "metrics-key-0123456789"


async def test_made_up_methods_share_one_label(client: httpx.AsyncClient) -> None:
    for number in range(300):
        await client.request(f"BREW{number}", "/v1/sessions")
    await client.request("PATCH", "/v1/sessions")
    text = (await client.get("/metrics")).text
    assert "BREW" not in text
    assert 'requests_total{method="other",route="/v1/sessions",status="405"} 300' in text
    assert 'method="PATCH"' in text
    # 300 methods, one label: the exposition stays the size of a handful of series.
    assert len(text) < 20_000


def _app(store: InMemorySessionStore, **options: object) -> httpx.AsyncClient:
    app = create_app(store, **options)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.mark.parametrize(
    ("options", "bearer", "status"),
    [
        ({"keys": ApiKeys(KEYS)}, None, 401),
        ({"keys": ApiKeys(KEYS)}, "not-a-key-0123456789", 401),
        ({"keys": ApiKeys(KEYS)}, KEY_A, 200),
        ({"keys": ApiKeys(KEYS), "metrics_key": METRICS_KEY}, METRICS_KEY, 200),
        ({"metrics_key": METRICS_KEY}, None, 401),
        ({"metrics_key": METRICS_KEY}, METRICS_KEY, 200),
        ({"keys": ApiKeys(KEYS), "metrics_public": True}, None, 200),
        ({}, None, 200),
    ],
)
async def test_metrics_need_a_key_unless_public(
    memory_store: InMemorySessionStore, options: dict[str, object], bearer: str | None, status: int
) -> None:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    async with _app(memory_store, **options) as http:
        response = await http.get("/metrics", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.json()["error"]["code"] == "invalid_api_key"
        assert "/metrics needs a key" in response.json()["error"]["message"]
    else:
        assert "llm_sessions_live_tails 0" in response.text
